"""minipeft.viz.curves: line charts and training curves.

Each test draws a small figure and reads back what matplotlib holds: the lines and
their points, the scales, the labels, the legend and the reference lines.
"""
import numpy as np
import pytest
from matplotlib.figure import Figure

from minipeft.viz import line_chart, moving_average, training_curves

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def data_lines(ax):
    """The series' lines, without the reference lines (which span the axes: axhline/axvline)."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


# --- line_chart ---------------------------------------------------------------------------

def test_line_chart_one_line_per_series_with_title_labels_and_legend():
    fig = line_chart([16, 32, 64], {"RNN": [1.0, 2.0, 4.0], "Transformer": [1.0, 1.1, 1.3]},
                     ylabel="time per batch (ms)", title="Time against length", xlabel="sequence length T")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "Time against length"
    assert ax.get_xlabel() == "sequence length T" and ax.get_ylabel() == "time per batch (ms)"
    lines = data_lines(ax)
    assert [line.get_label() for line in lines] == ["RNN", "Transformer"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [16, 32, 64])
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 2.0, 4.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RNN", "Transformer"]
    assert ax.get_yscale() == "linear"


def test_a_geometric_decay_switches_to_log_scale_and_says_so():
    """|dL/dh_t| shrinking by 0.5 a step spans 2^20: on a log axis it is a straight line."""
    steps = np.arange(21)
    ax = line_chart(steps, {"RNN": 0.5 ** (20 - steps)}, ylabel="|dL/dh_t|", title="t").axes[0]
    assert ax.get_yscale() == "log" and "log scale" in ax.get_ylabel()
    ax = line_chart(steps, {"RNN": 0.5 ** (20 - steps)}, ylabel="y", title="t", log=False).axes[0]
    assert ax.get_yscale() == "linear"
    ax = line_chart(steps, {"a": steps + 1.0}, ylabel="y", title="t", log=True, logx=True).axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"


def test_on_a_log_scale_zeros_are_left_out_not_plotted():
    ax = line_chart([0, 1, 2], {"a": [0.0, 1e-4, 1.0]}, ylabel="y", title="t", log=True).axes[0]
    ys = data_lines(ax)[0].get_ydata()
    assert np.isnan(ys[0]) and ys[1] == 1e-4 and ys[2] == 1.0


def test_series_with_their_own_x():
    ax = line_chart(None, {"short": ([0, 1], [3.0, 2.0]), "long": ([0, 1, 2, 3], [3.0, 2.0, 1.0, 0.5])},
                    ylabel="loss", title="t").axes[0]
    assert [len(line.get_xdata()) for line in data_lines(ax)] == [2, 4]


def test_text_x_values_become_evenly_spaced_ticks():
    ax = line_chart(["2", "5", "10", "full"], {"accuracy": [0.25, 0.26, 0.3, 1.0]},
                    ylabel="test accuracy", title="t").axes[0]
    np.testing.assert_array_equal(data_lines(ax)[0].get_xdata(), [0, 1, 2, 3])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "5", "10", "full"]


def test_xticklabels_relabel_numeric_x():
    ax = line_chart([2, 5, 40], {"acc": [0.2, 0.3, 1.0]}, ylabel="y", title="t",
                    xticklabels=["2", "5", "40 (full)"]).axes[0]
    np.testing.assert_array_equal(data_lines(ax)[0].get_xdata(), [2, 5, 40])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "5", "40 (full)"]


def test_reference_lines_are_drawn_and_labelled():
    ax = line_chart([1, 2, 3], {"acc": [0.2, 0.5, 1.0]}, ylabel="y", title="t",
                    hlines={"chance 0.25": 0.25}, vlines={"distance 2": 2}).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "chance 0.25" in texts and "distance 2" in texts
    references = [line for line in ax.get_lines() if line.get_label().startswith("_")]
    assert len(references) == 2
    assert len(data_lines(ax)) == 1  # the legend lists only the series


def test_styles_colours_and_last_value_annotation():
    ax = line_chart([0, 1], {"init": [1.0, 2.0], "trained": [1.0, 3.0]}, ylabel="y", title="t",
                    styles={"init": "dashed"}, colors={"trained": "#ff0000"}, annotate_last=True).axes[0]
    init, trained = data_lines(ax)
    assert init.get_linestyle() == "--" and trained.get_linestyle() == "-"
    assert trained.get_color() == "#ff0000"
    assert sorted(t.get_text() for t in ax.texts) == ["2", "3"]


def test_line_chart_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="series is empty"):
        line_chart([1], {}, ylabel="y", title="t")
    with pytest.raises(ValueError, match="'a' needs one y per x"):
        line_chart([1, 2, 3], {"a": [1.0, 2.0]}, ylabel="y", title="t")
    with pytest.raises(ValueError, match="x is needed"):
        line_chart(None, {"a": [1.0, 2.0]}, ylabel="y", title="t")
    with pytest.raises(ValueError, match="style of 'a'"):
        line_chart([1, 2], {"a": [1.0, 2.0]}, ylabel="y", title="t", styles={"a": "wavy"})
    with pytest.raises(ValueError, match="one label per x"):
        line_chart([1, 2], {"a": [1.0, 2.0]}, ylabel="y", title="t", xticklabels=["1"])


# --- training curves ---------------------------------------------------------------------

def test_moving_average_averages_the_window_ending_at_each_step():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 3), [1, 1.5, 2, 3, 4])
    np.testing.assert_allclose(moving_average([4, 2], 1), [4, 2])
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2], 0)


def test_training_curves_draw_raw_and_smoothed_lines_per_run():
    rng = np.random.default_rng(0)
    rnn = 1.4 + 0.1 * rng.standard_normal(200)
    lstm = np.linspace(1.4, 0.01, 100)
    ax = training_curves({"RNN": rnn, "LSTM": lstm}, title="Loss", smooth=10,
                         hlines={"chance: log 4": np.log(4)}).axes[0]
    assert ax.get_title() == "Loss"
    assert ax.get_xlabel() == "training step" and ax.get_ylabel() == "training loss"
    labelled = data_lines(ax)
    assert [line.get_label() for line in labelled] == ["RNN (mean of 10 steps)", "LSTM (mean of 10 steps)"]
    np.testing.assert_allclose(labelled[0].get_ydata(), moving_average(rnn, 10))
    assert len(ax.get_lines()) == 2 * 2 + 1  # raw + smoothed per run, and the chance line
    assert "chance: log 4" in [t.get_text() for t in ax.texts]


def test_training_curves_without_smoothing_and_with_own_steps():
    ax = training_curves({"run": ([0, 10, 20], [1.0, 0.5, 0.25])}, title="t", smooth=None).axes[0]
    (line,) = data_lines(ax)
    assert line.get_label() == "run"
    np.testing.assert_array_equal(line.get_xdata(), [0, 10, 20])
    with pytest.raises(ValueError, match="histories is empty"):
        training_curves({}, title="t")


def test_curves_save_as_png(tmp_path):
    figures = {
        "line.png": line_chart([1, 2, 3], {"a": [1.0, 0.1, 0.01]}, ylabel="y", title="t"),
        "curves.png": training_curves({"a": np.linspace(2, 0, 50)}, title="t"),
    }
    for name, fig in figures.items():
        fig.savefig(tmp_path / name, dpi=60)
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 2000, name


def test_ordered_colours_run_dark_to_light_and_differ():
    from matplotlib.colors import to_rgb

    from minipeft.viz.style import ordered_colours

    colours = ordered_colours(8)
    assert len(colours) == 8 and len({to_rgb(c) for c in colours}) == 8
    lightness = [sum(to_rgb(c)) for c in colours]  # a sequential map: each brighter than the one before
    assert lightness == sorted(lightness)
