"""minipeft.viz.comparison: scores with error bars, and stacked bars in panels of their own units."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from minipeft.viz.comparison import score_bars, stacked_panels

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_score_bars_draws_one_bar_per_task_and_series_with_error_bars(tmp_path):
    fig = score_bars(["sentiment", "qa"], {"pre-trained": [1.0, 0.4], "scratch": [0.7, 0.39]},
                     errors={"pre-trained": [0.01, np.nan], "scratch": [0.03, np.nan]},
                     ylabel="test score", title="Scores", hlines={"chance": 0.5}, ylim=(0, 1.1))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chance", "pre-trained", "scratch"]
    assert ax.get_title() == "Scores" and ax.get_ylim() == (0, 1.1)
    assert {t.get_text() for t in ax.texts} == {"1.00", "0.70", "0.40", "0.39"}  # the chance line's name is in the legend
    fig.savefig(tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG_SIGNATURE


def test_score_bars_rejects_mismatched_values():
    with pytest.raises(ValueError, match="one value per label"):
        score_bars(["a", "b"], {"x": [1.0]}, ylabel="y", title="t")
    with pytest.raises(ValueError, match="unknown series"):
        score_bars(["a"], {"x": [1.0]}, errors={"z": [0.1]}, ylabel="y", title="t")


def test_stacked_panels_one_axis_per_panel_with_totals():
    panels = {"tiny": {"unit": "KB", "bars": {"weights": {"p": 4.0}, "step": {"p": 4.0, "g": 4.0, "s": 8.0}}},
              "large": {"unit": "GB", "bars": {"weights": {"p": 1.3}, "step": {"p": 1.3, "g": 1.3, "s": 2.7}}}}
    fig = stacked_panels(panels, ["p", "g", "s"], title="Memory")
    assert len(fig.axes) == 2
    assert [ax.get_ylabel() for ax in fig.axes] == ["KB", "GB"]
    assert {t.get_text() for t in fig.axes[0].texts} == {"4", "16"}
    with pytest.raises(ValueError, match="not in"):
        stacked_panels({"x": {"unit": "B", "bars": {"a": {"q": 1.0}}}}, ["p"], title="t")
