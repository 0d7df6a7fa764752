"""minipeft.viz.tradeoffs: gradient flow bars, score against parameters, step cost, span heat map.

The tests check what was drawn (bars, lines, cell texts, axis scales) and that each figure saves
as a PNG.
"""
import io

import numpy as np
import pytest

from minipeft.viz.tradeoffs import cost_panels, gradient_flow, short_name, span_heatmap, tradeoff_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_short_names():
    assert short_name("bert.layers.0.attention.query.weight") == "L0 attention.query.weight"
    assert short_name("decoder_layers.1.feed_forward.output.dense.bias") == "D1 feed_forward.output.dense.bias"
    assert short_name("head.classifier.weight") == "head.classifier.weight"


def test_gradient_flow_draws_trained_bars_and_marks_frozen_and_zero():
    rows = ["bert.embeddings.token.weight", "bert.layers.0.attention.query.weight",
            "bert.layers.0.attention.output.adapters.t.up.weight",
            "bert.layers.0.attention.output.adapters.t.down.weight", "head.classifier.weight"]
    full = {rows[0]: 0.5, rows[1]: 0.2, rows[4]: 1.0}
    adapter = {rows[0]: None, rows[1]: None, rows[2]: 0.3, rows[3]: 0.0, rows[4]: 1.0}
    fig = gradient_flow({"full": full, "adapters": adapter}, rows, "title",
                        groups=["embeddings", "layer 0", "layer 0", "layer 0", "head"],
                        notes={rows[3]: "W_up = 0"})
    left, right = fig.axes[:2]
    assert left.get_xscale() == "log"
    assert len(left.patches) == 3                          # three trained tensors, blank rows for the adapter
    assert texts(right).count("frozen") == 2
    assert "gradient exactly 0: W_up = 0" in texts(right)
    assert "3 of 3 tensors get a gradient" in left.get_title()
    assert "2 of 5 tensors get a gradient" in right.get_title()
    assert png_bytes(fig)[:8] == PNG_SIGNATURE


def test_gradient_flow_rejects_mismatched_groups():
    with pytest.raises(ValueError, match="groups"):
        gradient_flow({"a": {"x": 1.0}}, ["x"], "t", groups=["g1", "g2"])


def test_tradeoff_chart_is_log_x_and_labels_points():
    fig = tradeoff_chart({"adapters": ([1_000, 3_000, 9_000], [0.7, 0.8, 0.85], ["m=1", "m=4", "m=16"]),
                          "full": ([100_000], [0.9], None)}, "t", hlines={"full 0.9": 0.9})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.lines) == 3  # two series and one reference line
    assert {"m=1", "m=4", "m=16", "full 0.9"} <= set(texts(ax))
    with pytest.raises(ValueError, match="one score per parameter count"):
        tradeoff_chart({"bad": ([1, 2], [0.5], None)}, "t")


def test_tradeoff_chart_rings_a_marked_point_and_keeps_labels_off_reference_lines():
    fig = tradeoff_chart({"adapters": ([1_000, 3_000], [0.7, 0.9], ["m=1", "m=16"])}, "t",
                         hlines={"full 0.9": 0.9}, marks={"m/d = 1/16": (3_000, 0.9)})
    ax = fig.axes[0]
    ring = [line for line in ax.lines if line.get_marker() == "o" and line.get_markerfacecolor() == "none"]
    assert len(ring) == 1 and list(ring[0].get_xdata()) == [3_000] and list(ring[0].get_ydata()) == [0.9]
    assert "m/d = 1/16" in texts(ax)
    label = next(t for t in ax.texts if t.get_text() == "m=16")
    assert label.get_bbox_patch() is not None and label.get_bbox_patch().get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert label.get_zorder() > ax.lines[-1].get_zorder()  # drawn over the dotted line at 0.9


def test_cost_panels_are_relative_to_the_first_method():
    fig = cost_panels(["tiny: d 64", "big: d 128"],
                      {"full fine-tuning": [30.0, 300.0], "adapters m = 4": [20.0, 150.0]},
                      {"full fine-tuning": {"weights": [400e3, 4e6], "activations": [9e6, 90e6]},
                       "adapters m = 4": {"weights": [420e3, 4.2e6], "activations": [6e6, 40e6]}}, "t")
    left, right = fig.axes[:2]
    heights = sorted(round(p.get_height(), 4) for p in left.patches)
    assert heights == [0.5, 0.6667, 1.0, 1.0]
    assert len(right.patches) == 8
    tops = {}
    for patch in right.patches:
        key = round(patch.get_x(), 3)
        tops[key] = max(tops.get(key, 0.0), patch.get_y() + patch.get_height())
    assert sorted(round(v, 4) for v in tops.values()) == sorted(
        [1.0, 1.0, round(6.42 / 9.4, 4), round(44.2 / 94, 4)])
    assert [t.get_text() for t in right.get_xticklabels()][:2] == ["tiny\nfull", "tiny\nadapters"]
    assert any("0.67x" in t for t in texts(left)) and any("MB" in t for t in texts(right))
    with pytest.raises(ValueError, match="same methods"):
        cost_panels(["a"], {"x": [1.0]}, {"y": {"w": [1.0]}}, "t")
    assert png_bytes(fig)[:8] == PNG_SIGNATURE


def test_span_heatmap_writes_the_upper_triangle():
    matrix = np.array([[0.6, 0.55], [np.nan, 0.7]])
    fig = span_heatmap(matrix, ["0", "1"], "t", note="all in place: 0.9")
    ax = fig.axes[0]
    assert sorted(texts(ax)) == ["0.550", "0.600", "0.700"]
    with pytest.raises(ValueError, match="2x2"):
        span_heatmap(np.zeros((3, 3)), ["0", "1"], "t")
