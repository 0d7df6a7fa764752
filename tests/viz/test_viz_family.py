"""minipeft.viz.family: many methods on one score-against-parameters picture, with seed spread."""
import io

import numpy as np
import pytest

from minipeft.viz.family import family_chart


def test_every_method_is_a_line_with_its_error_bars_and_labels():
    series = {f"method {k}": {"x": [10 * (k + 1), 100 * (k + 1)], "mean": [0.6, 0.8], "low": [0.55, 0.7],
                              "high": [0.65, 0.9], "labels": ["a", "b"]} for k in range(10)}
    fig = family_chart(series, "title", hlines={"full 0.9": 0.9})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title() == "title"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(series)
    styles = {(bars.lines[0].get_color(), bars.lines[0].get_linestyle()) for bars in ax.containers}
    assert len(ax.containers) == 10 and len(styles) == 10  # ten looks, no colour used twice
    second_point = ax.containers[0].lines[2][0].get_segments()[1]
    np.testing.assert_allclose(second_point[:, 1], [0.7, 0.9])  # its bar: from the worst seed to the best
    assert "full 0.9" in [t.get_text() for t in ax.texts] and "b" in [t.get_text() for t in ax.texts]
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_mismatched_lengths_are_a_clear_error():
    with pytest.raises(ValueError, match="series 'lora' needs x, mean, low and high of one length"):
        family_chart({"lora": {"x": [1, 2], "mean": [0.5], "low": [0.5], "high": [0.5]}}, "t")
    with pytest.raises(ValueError, match="series is empty"):
        family_chart({}, "t")
