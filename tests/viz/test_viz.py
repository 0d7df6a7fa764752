"""minipeft.viz: the graph picture (nodes, edges, layout, boxes) and the bar charts.

The graph tests trace small known graphs and count what was drawn: one box per tensor,
one arrow per edge, every arrow pointing left to right, no two boxes overlapping.
"""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

import minipeft as mp
from minipeft.viz import (bar_chart, draw_graph, format_array, graph_edges, graph_layout, graph_nodes,
                          grouped_bars, stacked_bars)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gids(fig, gid):
    return [a for a in fig.axes[0].get_children() if a.get_gid() == gid]


def traced(fn):
    with mp.trace() as t:
        fn()
    return t


@pytest.fixture
def small_graph():
    """L = sum(a * b + a): a (wants a gradient) is used twice, b (a constant) once.

    Nodes: a, b, c = a*b, d = c + a, L = sum(d)   -> 5 boxes
    Edges: a->c, b->c, c->d, a->d, d->L           -> 5 arrows
    """
    a = mp.tensor([1.0, -2.0], requires_grad=True, dtype="float64", name="a")
    b = mp.tensor([3.0, 0.5], dtype="float64", name="b")

    def run():
        c = a * b
        c.name = "c"
        d = c + a
        d.sum().backward()

    return traced(run), a, b


def two_layer_trace():
    """The network of lesson 01: x -> x@W1+b1 -> tanh -> @W2+b2 -> cross-entropy."""
    rng = np.random.default_rng(0)
    kw = dict(requires_grad=True, dtype="float64")
    x = mp.tensor([[0.5, -1.0]], name="x", **kw)
    W1, W2 = (mp.tensor(rng.normal(size=(2, 2)), name=n, **kw) for n in ("W1", "W2"))
    b1, b2 = (mp.tensor(rng.normal(size=2), name=n, **kw) for n in ("b1", "b2"))
    y = mp.tensor([1], name="y")
    with mp.trace() as t:
        h = mp.tanh(x @ W1 + b1)
        h.name = "h"
        mp.cross_entropy(h @ W2 + b2, y).backward()
    return t


# --- graph_nodes: what the trace says about each tensor ---------------------------------

def test_graph_nodes_of_a_known_graph(small_graph):
    trace, a, b = small_graph
    nodes = graph_nodes(trace)
    assert [n.label for n in nodes] == ["a", "b", "c", "Add(c, a)", "Sum(·)"]
    kinds = {n.label: n.kind for n in nodes}
    assert kinds == {"a": "parameter", "b": "constant", "c": "op", "Add(c, a)": "op", "Sum(·)": "root"}
    by = {n.label: n for n in nodes}
    assert [by[k].depth for k in ("a", "b", "c", "Add(c, a)", "Sum(·)")] == [0, 0, 1, 2, 3]
    assert by["c"].title == "c = Mul"
    # values: leaves from trace.leaves, op outputs from the forward records
    np.testing.assert_allclose(by["a"].value, [1.0, -2.0])
    np.testing.assert_allclose(by["c"].value, [3.0, -1.0])
    # gradients: dL/dd = dL/dc = 1, dL/da = b + 1 (both paths), b gets none
    np.testing.assert_allclose(by["Add(c, a)"].grad, [1.0, 1.0])
    np.testing.assert_allclose(by["a"].grad, a.numpy() * 0 + [4.0, 1.5])
    np.testing.assert_allclose(by["a"].grad, a.grad)
    assert by["Sum(·)"].grad_norm == 1.0
    assert math.isnan(by["b"].grad_norm) and by["b"].grad is None
    assert graph_edges(nodes) == {(0, 2): 1, (1, 2): 1, (2, 3): 1, (0, 3): 1, (3, 4): 1}


def test_trace_records_leaf_values_and_whether_they_want_a_gradient(small_graph):
    trace, a, b = small_graph
    leaves = list(trace.leaves.values())
    assert [(leaf.name, leaf.requires_grad) for leaf in leaves] == [("a", True), ("b", False)]
    np.testing.assert_allclose(leaves[1].value, [3.0, 0.5])
    assert leaves[1].value_norm == pytest.approx(math.hypot(3.0, 0.5))


def test_a_tensor_used_twice_by_one_op_is_one_edge_marked_x2():
    a = mp.tensor([2.0], requires_grad=True, name="a")
    t = traced(lambda: (a * a).sum().backward())
    nodes = graph_nodes(t)
    assert graph_edges(nodes)[(0, 1)] == 2
    fig = draw_graph(t)
    assert len(gids(fig, "graph-node")) == 3
    assert len(gids(fig, "graph-edge")) == 2
    assert [t.get_text() for t in gids(fig, "graph-edge-count")] == ["×2"]


def test_forward_only_trace_has_no_gradients_and_no_root():
    a = mp.tensor([1.0, 2.0], requires_grad=True, name="a")
    nodes = graph_nodes(traced(lambda: mp.tanh(a)))
    assert [n.kind for n in nodes] == ["parameter", "op"]
    assert all(math.isnan(n.grad_norm) for n in nodes)


# --- the layout and the picture -----------------------------------------------------------

def test_layout_runs_left_to_right_and_keeps_a_chain_on_one_row():
    nodes = graph_nodes(two_layer_trace())
    pos = graph_layout(nodes)
    for src, dst in graph_edges(nodes):
        assert pos[src][0] < pos[dst][0], "every arrow must point to the right"
    ops = [n for n in nodes if n.op is not None]
    assert len({pos[n.key][1] for n in ops}) == 1, "a chain of ops lies on one row"
    assert [pos[n.key][0] for n in ops] == [1, 2, 3, 4, 5, 6]
    for n in nodes:  # each leaf sits one column before the op that reads it
        if n.op is None:
            reader = next(m for m in nodes if n.key in m.inputs)
            assert pos[n.key][0] == pos[reader.key][0] - 1
    for i, p in pos.items():  # nodes of one column at least a row apart
        for j, q in pos.items():
            if i < j and p[0] == q[0]:
                assert abs(p[1] - q[1]) >= 1.0


def test_draw_graph_one_box_per_tensor_one_arrow_per_edge(small_graph):
    trace, _, _ = small_graph
    fig = draw_graph(trace, title="small")
    assert isinstance(fig, Figure)
    boxes, arrows = gids(fig, "graph-node"), gids(fig, "graph-edge")
    assert len(boxes) == 5 and len(arrows) == 5
    texts = [b.get_text() for b in boxes]
    assert texts[0].splitlines()[0].startswith("a  [2]")
    assert "value [ 1, -2]" in texts[0] and "grad  [  4, 1.5]" in texts[0]
    assert "grad  none" in texts[1]  # b: a constant
    assert fig._suptitle.get_text() == "small"


@pytest.mark.parametrize("column_width", [2.3, 0.5], ids=["default", "too-narrow-asked"])
def test_graph_boxes_do_not_overlap(column_width):
    fig = draw_graph(two_layer_trace(), column_width=column_width, row_height=0.3)
    boxes = gids(fig, "graph-node")
    assert len(boxes) == 12 and len(gids(fig, "graph-edge")) == 11
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    extents = [b.get_bbox_patch().get_window_extent(renderer) for b in boxes]
    for i in range(len(extents)):
        for j in range(i + 1, len(extents)):
            assert not extents[i].overlaps(extents[j]), f"{boxes[i].get_text()!r} overlaps {boxes[j].get_text()!r}"


def test_big_tensors_show_shape_and_norm_not_numbers():
    assert format_array(np.ones((3, 4)), 12 ** 0.5, (3, 4)) == "3×4, |.|=3.46"
    assert format_array(None, 2.0, (100,)) == "100, |.|=2"
    assert format_array(np.array(0.25), 0.25, ()) == "0.25"
    assert format_array(np.array([[1.0, -2.0], [3.5, 4.0]]), 0, (2, 2)) == "[[  1,  -2]\n [3.5,   4]]"
    assert format_array(None, math.nan, (2,)) == "—"


def test_draw_graph_of_an_empty_trace_says_what_to_do():
    with pytest.raises(ValueError, match="trace recorded no op"):
        draw_graph(traced(lambda: None))


# --- bar charts -------------------------------------------------------------------------

def test_bar_chart_sets_labels_title_and_units():
    fig = bar_chart(["W1", "b1", "W2"], [0.3, 0.2, 0.5], ylabel="|dL/dp| (L2 norm)", title="Gradients",
                    xlabel="parameter")
    ax = fig.axes[0]
    assert ax.get_title() == "Gradients"
    assert ax.get_ylabel() == "|dL/dp| (L2 norm)" and ax.get_xlabel() == "parameter"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W1", "b1", "W2"]
    assert ax.get_yscale() == "linear"
    assert len(ax.patches) == 3
    assert sorted(t.get_text() for t in ax.texts) == ["0.2", "0.3", "0.5"]


def test_bar_chart_switches_to_log_scale_for_a_wide_range_and_says_so():
    ax = bar_chart(["a", "b"], [1e-6, 1.0], ylabel="size (L2 norm)", title="t").axes[0]
    assert ax.get_yscale() == "log" and "log scale" in ax.get_ylabel()
    assert bar_chart(["a", "b"], [1e-6, 1.0], ylabel="y", title="t", log=False).axes[0].get_yscale() == "linear"


def test_bar_chart_legend_and_bad_input():
    ax = bar_chart(["a", "b"], [1, 2], ylabel="y (s)", title="t", colors=["red", "blue"],
                   legend={"first kind": "red", "second kind": "blue"}).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first kind", "second kind"]
    with pytest.raises(ValueError, match="one value per label"):
        bar_chart(["a", "b"], [1, 2, 3], ylabel="y", title="t")


def test_grouped_and_stacked_bars():
    labels = ["full", "adapter"]
    ax = grouped_bars(labels, {"forward": [3, 2], "backward": [6, 1]}, ylabel="time (ms)", title="Step").axes[0]
    assert len(ax.patches) == 4 and ax.get_title() == "Step" and ax.get_ylabel() == "time (ms)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["forward", "backward"]
    ax = stacked_bars(labels, {"forward": [3, 2], "backward": [6, 1]}, ylabel="time (ms)", title="Step").axes[0]
    tops = sorted(p.get_y() + p.get_height() for p in ax.patches)
    assert tops == [2, 3, 3, 9]  # forward bars, then backward stacked on top of them
    assert sorted(t.get_text() for t in ax.texts) == ["3", "9"]  # the totals
    with pytest.raises(ValueError, match="negative"):
        stacked_bars(labels, {"x": [1, -1]}, ylabel="y", title="t")


def test_grouped_bars_draw_the_spread_from_low_to_high():
    ax = grouped_bars(["a", "b"], {"mean": [2.0, 5.0]}, ylabel="y", title="t",
                      spread={"mean": ([1.0, 4.5], [3.0, 6.0])}).axes[0]
    (segments,) = ax.collections  # one set of vertical error segments
    spans = sorted((float(s[0][1]), float(s[1][1])) for s in segments.get_segments())
    assert spans == [(1.0, 3.0), (4.5, 6.0)]
    with pytest.raises(ValueError, match="not series"):
        grouped_bars(["a"], {"mean": [1.0]}, ylabel="y", title="t", spread={"other": ([0.0], [2.0])})


def test_figures_save_as_png(tmp_path, small_graph):
    trace, _, _ = small_graph
    figures = {
        "graph.png": draw_graph(trace),
        "bars.png": bar_chart(["a", "b"], [1.0, 2.0], ylabel="y (units)", title="t"),
        "grouped.png": grouped_bars(["a"], {"x": [1.0], "y": [2.0]}, ylabel="y", title="t"),
        "stacked.png": stacked_bars(["a"], {"x": [1.0], "y": [2.0]}, ylabel="y", title="t"),
    }
    for name, fig in figures.items():
        fig.savefig(tmp_path / name, dpi=60)
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 2000, name
