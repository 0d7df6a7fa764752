"""minipeft.viz.heatmaps: attention maps (one panel per head, a [CLS] strip, a colour bar) and line panels.

The tests count what was drawn: one image per map, the pixels are the weights given,
every token labels its row and column (or every k-th of them, never losing the marked
ones), and the marked key is coloured.
"""
import numpy as np
import pytest
from matplotlib.figure import Figure

from minipeft.viz import attention_heatmaps, draw_heatmap, line_panels, new_figure, tick_positions
from minipeft.viz.heatmaps import HIGHLIGHT_COLOUR

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def attention(length, key, heads=2, seed=0):
    """Random attention rows (each sums to 1), with head 0 putting 0.9 of every row on ``key``."""
    rng = np.random.default_rng(seed)
    maps = {}
    for h in range(heads):
        w = rng.dirichlet(np.ones(length), size=length)
        if h == 0:
            w = 0.1 * w
            w[:, key] += 0.9
        maps[f"head {h + 1}"] = w
    return maps


def images(ax):
    return ax.get_images()


def labels_of(ticks):
    return [t.get_text() for t in ticks]


# --- which positions get a label -------------------------------------------------------------

def test_every_position_is_labelled_when_they_fit():
    assert tick_positions(10, max_ticks=40) == list(range(10))


def test_too_many_positions_are_thinned_to_every_kth():
    positions = tick_positions(100, max_ticks=40)
    assert positions == list(range(0, 100, 3))  # ceil(100 / 40) = 3
    assert len(positions) <= 40


def test_kept_positions_are_always_labelled_and_their_neighbours_make_room():
    positions = tick_positions(41, max_ticks=20, keep=[1])  # step 3: 0, 3, 6, ...
    assert 1 in positions
    assert 0 not in positions and 3 not in positions and 6 in positions  # closer than a step to 1: gone
    assert np.diff(positions).min() >= 3, "labels around a kept one must not be crowded"


def test_two_adjacent_kept_positions_are_both_labelled():
    assert {0, 1} <= set(tick_positions(41, max_ticks=20, keep=[0, 1]))


def test_tick_positions_rejects_nonsense():
    with pytest.raises(ValueError, match="max_ticks"):
        tick_positions(10, max_ticks=0)


# --- one heat map ------------------------------------------------------------------------------

def test_draw_heatmap_shows_the_matrix_with_row_0_on_top_and_labels_every_cell():
    fig, ax = new_figure()
    matrix = np.arange(12.0).reshape(3, 4)
    image = draw_heatmap(ax, matrix, ["a", "b", "c"], ["w", "x", "y", "z"], title="m")
    np.testing.assert_array_equal(image.get_array(), matrix)
    assert image.origin == "upper"  # row 0 drawn at the top, like a printed matrix
    assert labels_of(ax.get_xticklabels()) == ["w", "x", "y", "z"]
    assert labels_of(ax.get_yticklabels()) == ["a", "b", "c"]
    assert ax.get_title() == "m"


def test_draw_heatmap_colours_the_highlighted_labels():
    fig, ax = new_figure()
    tokens = ["[CLS]", "K1", "d0", "d3"]
    draw_heatmap(ax, np.eye(4), tokens, tokens, highlight=[1])
    for ticks in (ax.get_xticklabels(), ax.get_yticklabels()):
        colours = {t.get_text(): t.get_color() for t in ticks}
        assert colours["K1"] == HIGHLIGHT_COLOUR
        assert colours["d0"] != HIGHLIGHT_COLOUR


def test_draw_heatmap_checks_its_inputs():
    fig, ax = new_figure()
    with pytest.raises(ValueError, match="2-D"):
        draw_heatmap(ax, np.zeros(5))
    with pytest.raises(ValueError, match="col_labels has 2 entries for 3"):
        draw_heatmap(ax, np.zeros((2, 3)), ["a", "b"], ["x", "y"])


# --- a figure of attention maps ---------------------------------------------------------------

def test_one_panel_per_map_on_one_colour_scale_with_a_colorbar():
    tokens = ["[CLS]", "K2", "d1", "d4", "d0"]
    maps = attention(len(tokens), key=1, heads=3)
    fig = attention_heatmaps(maps, tokens, title="attention", highlight=[1], vmax=1.0)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if images(ax)]
    assert [ax.get_title() for ax in panels] == ["head 1", "head 2", "head 3"]
    for ax, weights in zip(panels, maps.values()):
        np.testing.assert_allclose(images(ax)[0].get_array(), weights)
        assert images(ax)[0].get_clim() == (0.0, 1.0)
        assert labels_of(ax.get_xticklabels()) == tokens
    colorbars = [ax for ax in fig.axes if ax.get_ylabel() == "attention weight"]
    assert len(colorbars) == 1
    assert fig._suptitle.get_text() == "attention"


def test_the_key_column_is_where_the_weight_is():
    tokens = ["[CLS]", "K0"] + [f"d{i}" for i in range(8)]
    maps = attention(len(tokens), key=1)
    fig = attention_heatmaps(maps, tokens, title="t", highlight=[1])
    first = [ax for ax in fig.axes if images(ax)][0]
    shown = np.asarray(images(first)[0].get_array())
    assert shown.argmax(axis=1).tolist() == [1] * len(tokens)  # every row's brightest cell: the key
    np.testing.assert_allclose(shown.sum(axis=1), 1.0)


def test_focus_adds_a_strip_with_that_row_of_every_map():
    tokens = ["[CLS]", "K3", "d0", "d2", "d7", "d1"]
    maps = attention(len(tokens), key=1, heads=4)
    fig = attention_heatmaps(maps, tokens, title="t", highlight=[1], focus=0, note="a note")
    drawn = [ax for ax in fig.axes if images(ax)]
    assert len(drawn) == 5  # four maps and the strip
    strip = drawn[-1]
    np.testing.assert_allclose(strip.get_images()[0].get_array(), np.stack([m[0] for m in maps.values()]))
    assert labels_of(strip.get_yticklabels()) == list(maps)
    assert labels_of(strip.get_xticklabels()) == tokens
    assert "[CLS]" in strip.get_title()
    assert any(t.get_text() == "a note" for t in fig.texts)


def test_long_sequences_keep_the_marked_and_focus_labels():
    tokens = ["[CLS]", "K1"] + [f"d{i % 16}" for i in range(59)]  # 61 tokens: thinned labels
    maps = attention(len(tokens), key=1, heads=1)
    fig = attention_heatmaps(maps, tokens, title="t", highlight=[1], focus=0, max_ticks=30)
    panel = [ax for ax in fig.axes if images(ax)][0]
    rows = labels_of(panel.get_yticklabels())
    assert rows[:2] == ["[CLS]", "K1"] and len(rows) < len(tokens)
    assert "K1" in labels_of(panel.get_xticklabels())


def test_attention_heatmaps_checks_its_inputs():
    with pytest.raises(ValueError, match="empty"):
        attention_heatmaps({}, ["a"], title="t")
    with pytest.raises(ValueError, match=r"panel 'h' has shape \(2, 2\), expected \(3, 3\)"):
        attention_heatmaps({"h": np.eye(2)}, ["a", "b", "c"], title="t")
    with pytest.raises(ValueError, match="focus"):
        attention_heatmaps({"h": np.eye(2)}, ["a", "b"], title="t", focus=5)


def test_attention_figure_saves_as_png(tmp_path):
    tokens = ["[CLS]", "K0", "d3", "d9"]
    fig = attention_heatmaps(attention(4, key=1), tokens, title="t", highlight=[1], focus=0)
    path = tmp_path / "a.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == PNG_SIGNATURE


# --- line panels ---------------------------------------------------------------------------------

def timing_panels():
    x = [16, 64, 256]
    return [
        dict(x=x, series={"RNN": [1.0, 4.0, 16.0], "Transformer": [2.0, 3.0, 30.0]}, ylabel="ms",
             title="time", log=True, logx=True, xticklabels=x, styles={"Transformer": "dashed"},
             colors={"RNN": "#D55E00"}),
        dict(x=x, series={"RNN": [0.5, 0.6, 0.7]}, ylabel="GFLOP/s", title="rate", log=False,
             hlines={"peak": 1.0}, ylim=(0, None)),
    ]


def test_line_panels_draws_one_axes_per_panel_with_its_lines():
    fig = line_panels(timing_panels(), title="both")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["time", "rate"]
    time_ax, rate_ax = shown
    assert [line.get_label() for line in time_ax.get_lines()] == ["RNN", "Transformer"]
    assert time_ax.get_yscale() == "log" and time_ax.get_xscale() == "log"
    assert time_ax.get_lines()[1].get_linestyle() == "--"
    assert time_ax.get_lines()[0].get_color() == "#D55E00"
    assert labels_of(time_ax.get_xticklabels()) == ["16", "64", "256"]
    assert rate_ax.get_yscale() == "linear"
    np.testing.assert_allclose(time_ax.get_lines()[0].get_ydata(), [1.0, 4.0, 16.0])
    assert any(t.get_text() == "peak" for t in rate_ax.texts)  # the labelled reference line
    low, high = rate_ax.get_ylim()
    assert low == 0 and high > 1.0, "the reference line must stay inside the panel"


def test_line_panels_checks_its_inputs():
    with pytest.raises(ValueError, match="empty"):
        line_panels([], title="t")
    with pytest.raises(ValueError, match="unknown keys"):
        line_panels([dict(x=[1], series={"a": [1]}, ylabel="y", title="t", colour="red")], title="t")
    with pytest.raises(ValueError, match="lacks"):
        line_panels([dict(x=[1], series={"a": [1]}, title="t")], title="t")
    with pytest.raises(ValueError, match="style"):
        line_panels([dict(x=[1], series={"a": [1]}, ylabel="y", title="t", styles={"a": "wavy"})], title="t")
    with pytest.raises(ValueError, match="one y per x"):
        line_panels([dict(x=[1, 2], series={"a": [1]}, ylabel="y", title="t")], title="t")
