"""The computational graph of a traced forward/backward pass, drawn with matplotlib.

    with mp.trace() as t:
        loss = model(x)
        loss.backward()
    fig = draw_graph(t, title="A tiny network")

Three steps, each usable alone:

``graph_nodes(trace)``   one ``GraphNode`` per tensor the trace saw: the leaves (inputs,
                         parameters, targets) and the output of every op, each with its
                         value and the gradient dL/d(node) that backward() sent to it.
``graph_layout(nodes)``  where each node goes: a column per step of depth (the longest path
                         from a leaf), left to right; each leaf sits one column before the
                         first op that uses it, so no arrow is longer than it needs to be.
``draw_graph(trace)``    one box per node (what it is, its value, its gradient) and one
                         arrow per edge, from each input to the op output it feeds.

A box shows the numbers themselves when the tensor is small (at most ``max_entries``
of them), else its shape and L2 norm.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from matplotlib.patches import Patch

from .style import EDGE_COLOURS, NODE_COLOURS, TEXT_SIZE, TITLE_SIZE, finish, new_figure

KINDS = ("parameter", "constant", "op", "root")
_PAD = 0.45  # space inside a box around its text, in units of the font size
_KIND_LEGEND = {
    "parameter": "leaf with a gradient (input, weight)",
    "constant": "leaf without a gradient (target)",
    "op": "output of an op",
    "root": "where backward() starts (the loss)",
}


@dataclass
class GraphNode:
    """One tensor of the graph. ``key`` is its index in the list ``graph_nodes`` returns."""

    key: int
    kind: str                   # "parameter", "constant", "op" or "root" (see KINDS)
    label: str                  # short and unique: its name, else "Op(inputs)"
    name: str                   # the tensor's name= ("" when it has none)
    op: str | None              # the op that made it (None for a leaf)
    shape: tuple
    value: object               # NumPy array when small, else None
    value_norm: float
    grad: object = None         # dL/d(this node) as a NumPy array when small, else None
    grad_norm: float = math.nan  # L2 norm of dL/d(this node); NaN when no gradient reached it
    inputs: list[int] = field(default_factory=list)  # keys of the nodes this op read
    depth: int = 0              # longest path from a leaf (leaves: 0)
    output_id: int | None = None  # id() of the op's output tensor, as the trace recorded it

    @property
    def title(self) -> str:
        """First line of its box: "W1", "z1 = Add", "MatMul(x, W1)"."""
        if self.op is not None and self.name:
            return f"{self.name} = {self.op}"
        return self.label


def graph_nodes(trace) -> list[GraphNode]:
    """Turn a ``Trace`` into nodes in the order the forward pass met them (see module docstring).

    Tensors are matched by ``id()``. If a tensor died inside the traced block and Python
    reused its id, the later tensor simply becomes a new node (ids are read in order).
    """
    nodes: list[GraphNode] = []
    current: dict[int, int] = {}  # id(tensor) -> key of the node it is now
    leaves = getattr(trace, "leaves", {})

    for record in trace.forward:
        keys = []
        for tid, name, shape in zip(record.input_ids, record.input_names, record.input_shapes):
            if tid not in current:
                leaf = leaves.get(tid)
                wants_grad = bool(leaf and leaf.requires_grad) or tid in trace.leaf_grads
                current[tid] = len(nodes)
                nodes.append(GraphNode(
                    key=len(nodes), kind="parameter" if wants_grad else "constant", label=name,
                    name=name or (leaf.name if leaf else ""), op=None, shape=tuple(shape),
                    value=leaf.value if leaf else None, value_norm=leaf.value_norm if leaf else math.nan))
            node = nodes[current[tid]]
            if name and not node.name:  # named after it was made (z1.name = "z1"): seen by its users
                node.name = name
            keys.append(current[tid])
        current[record.output_id] = len(nodes)
        nodes.append(GraphNode(
            key=len(nodes), kind="op", label="", name="", op=record.op, shape=tuple(record.output_shape),
            value=record.value, value_norm=record.value_norm, inputs=keys,
            depth=1 + max((nodes[k].depth for k in keys), default=0), output_id=record.output_id))

    _attach_gradients(trace, nodes, current)
    _name_nodes(nodes)
    return nodes


def _attach_gradients(trace, nodes: list[GraphNode], current: dict[int, int]) -> None:
    """dL/d(node): from the backward records for op outputs, from ``leaf_grads`` for leaves."""
    pending = defaultdict(list)  # output id -> backward records, in the order backward ran
    for record in trace.backward:
        pending[record.output_id].append(record)
    # backward visits later tensors first, so walking the ops from the last one pairs
    # each op with its own record even if an id was reused
    for node in reversed(nodes):
        records = pending.get(node.output_id)
        if node.op is not None and records and records[0].op == node.op:
            record = records.pop(0)
            node.grad, node.grad_norm = record.grad, record.grad_norm
    for tid, key in current.items():
        node = nodes[key]
        if node.op is None and tid in trace.leaf_grads:
            grad = np.asarray(trace.leaf_grads[tid])
            node.grad_norm = float(np.linalg.norm(grad.astype(np.float64).ravel()))
            node.grad = grad if grad.size <= getattr(trace, "keep_values", 16) else None
    if trace.backward:
        first = current.get(trace.backward[0].output_id)
        if first is not None and nodes[first].op is not None:
            nodes[first].kind = "root"


def _name_nodes(nodes: list[GraphNode]) -> None:
    """Labels: a tensor's own name; else "Op(input labels)"; made unique with #2, #3..."""
    seen: dict[str, int] = {}
    for node in nodes:
        if node.name:
            label = node.name
        elif node.op is None:
            label = "leaf"
        else:
            args = [nodes[k].name or "·" for k in node.inputs]
            label = f"{node.op}({', '.join(args)})"
        seen[label] = seen.get(label, 0) + 1
        node.label = label if seen[label] == 1 else f"{label} #{seen[label]}"


def graph_edges(nodes: list[GraphNode]) -> dict[tuple[int, int], int]:
    """{(input key, output key): how many times that op read that input} (2 for x * x)."""
    edges: dict[tuple[int, int], int] = {}
    for node in nodes:
        for k in node.inputs:
            edges[(k, node.key)] = edges.get((k, node.key), 0) + 1
    return edges


def graph_layout(nodes: list[GraphNode], sweeps: int = 20) -> dict[int, tuple[float, float]]:
    """{key: (column, row)}: columns left to right, row 0 at the top; rows may be fractional.

    Columns: an op's column is its depth; a leaf's is one less than the column of the
    first op that reads it. Rows: first the ops, each moved toward the mean row of the ops
    it is joined to, ops of one column staying at least one row apart (a few sweeps of the
    "barycentre" method); a chain of ops therefore lies on one straight row. Then the
    leaves: beside the op that reads them, above it if they are its first input, else below,
    in the nearest row not taken in their own column.
    """
    users = defaultdict(list)
    for node in nodes:
        for k in node.inputs:
            if node.key not in users[k]:
                users[k].append(node.key)
    column = {n.key: n.depth for n in nodes if n.op is not None}
    for n in nodes:
        if n.op is None:
            column[n.key] = max(0, min((column[u] for u in users[n.key]), default=1) - 1)
    columns = defaultdict(list)
    for n in nodes:
        columns[column[n.key]].append(n.key)

    # 1. the ops
    is_op = {n.key: n.op is not None for n in nodes}
    joined = {n.key: [j for j in list(n.inputs) + users[n.key] if is_op[j]] for n in nodes}
    row = {}
    for keys in columns.values():
        ops = [k for k in keys if is_op[k]]
        for i, k in enumerate(ops):
            row[k] = i - (len(ops) - 1) / 2
    order = sorted(columns)
    for sweep in range(sweeps):
        for c in (order if sweep % 2 == 0 else order[::-1]):
            ops = [k for k in columns[c] if is_op[k]]
            if ops:
                want = {k: float(np.mean([row[j] for j in joined[k]])) if joined[k] else row[k] for k in ops}
                _spread(ops, want, row)

    # 2. the leaves, column by column
    for c in order:
        leaves = [k for k in columns[c] if not is_op[k]]
        if not leaves:
            continue
        reader = {k: min(users[k], key=lambda u: (column[u], u)) for k in leaves}  # the op that placed it
        slot = {k: nodes[reader[k]].inputs.index(k) for k in leaves}
        taken = [row[k] for k in columns[c] if is_op[k]]
        if not taken:  # a column of leaves only: stack them around their reader's row
            want = {}
            for k in leaves:
                siblings = sorted(j for j in leaves if reader[j] == reader[k])
                want[k] = row[reader[k]] + siblings.index(k) - (len(siblings) - 1) / 2
            _spread(leaves, want, row)
            continue
        for k in sorted(leaves, key=lambda k: (row[reader[k]], slot[k])):
            side = -1.0 if slot[k] == 0 else 1.0
            y = row[reader[k]] + side
            while any(abs(y - t) < 1.0 for t in taken):
                y += side
            row[k] = y
            taken.append(y)

    top = min(row.values())
    return {k: (float(column[k]), round(row[k] - top, 3)) for k in column}


def _spread(keys, want: dict, row: dict) -> None:
    """Put ``keys`` (one column) as near their wanted rows as possible, at least one row apart."""
    keys = sorted(keys, key=lambda k: (want[k], row.get(k, 0.0), k))
    placed = [want[keys[0]]]
    for k in keys[1:]:
        placed.append(max(want[k], placed[-1] + 1.0))
    shift = float(np.mean([want[k] for k in keys]) - np.mean(placed))
    for k, y in zip(keys, placed):
        row[k] = y + shift


def format_array(value, norm: float, shape: tuple, max_entries: int = 4, digits: int = 3) -> str:
    """The numbers themselves when there are at most ``max_entries``, else "shape (3, 4), |v|=1.2"."""
    if value is not None and np.size(value) <= max_entries:
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 0:
            return f"{value.item():.{digits}g}"
        rows = value.reshape(-1, value.shape[-1]) if value.ndim > 1 else value[None, :]
        cells = [[f"{v:.{digits}g}" for v in r] for r in rows]
        width = max(len(c) for r in cells for c in r)
        lines = ["[" + ", ".join(c.rjust(width) for c in r) + "]" for r in cells]
        if value.ndim == 1:
            return lines[0]
        return "[" + ("\n ".join(lines)) + "]"
    if math.isnan(norm):
        return "—"
    dims = "×".join(str(n) for n in shape) or "scalar"
    return f"{dims}, |.|={norm:.{digits}g}"


def node_text(node: GraphNode, max_entries: int = 4) -> str:
    """What a box says: title and shape, value, gradient (continuation lines indented)."""
    dims = "×".join(str(n) for n in node.shape) or "scalar"

    def field_(name, text):
        pad = " " * (len(name) + 1)
        return name + " " + text.replace("\n", "\n" + pad)

    value = format_array(node.value, node.value_norm, node.shape, max_entries)
    if math.isnan(node.grad_norm):
        grad = "none" if node.kind == "constant" else "not reached"
    else:
        grad = format_array(node.grad, node.grad_norm, node.shape, max_entries)
    return "\n".join([f"{node.title}  [{dims}]", field_("value", value), field_("grad ", grad)])


def draw_graph(trace, title: str = "Computational graph", max_entries: int = 4,
               column_width: float = 1.2, row_height: float = 1.0):
    """One box per tensor (value and dL/dtensor), one arrow per edge; returns the Figure.

    Read it left to right for the forward pass, right to left for the backward pass:
    every arrow is a place where backward() applies the chain rule. ``column_width`` and
    ``row_height`` are the least inches per column and per row; both grow to fit the
    widest and tallest box, so boxes never overlap. An op that reads one tensor twice
    (``x * x``) gets one arrow from it, marked "×2".
    """
    nodes = graph_nodes(trace)
    if not nodes:
        raise ValueError("draw_graph: the trace recorded no op; run the forward pass inside "
                         "`with mp.trace() as t:`")
    layout = graph_layout(nodes)
    fig, ax = new_figure(6.0, 4.0)  # resized below, once the boxes have been measured
    ax.axis("off")
    boxes = {}
    for node in nodes:
        boxes[node.key] = ax.text(
            0, 0, node_text(node, max_entries), ha="center", va="center", multialignment="left",
            family="monospace", fontsize=TEXT_SIZE, zorder=3, gid="graph-node",
            bbox=dict(boxstyle=f"round,pad={_PAD}", facecolor=NODE_COLOURS[node.kind],
                      edgecolor=EDGE_COLOURS[node.kind], linewidth=1.2))

    # Measure every box (in inches), then give each column the width of its widest box
    # and each row the height of the tallest: x and y below are inches from the top left.
    renderer = fig.canvas.get_renderer()
    pad = 2 * _PAD * TEXT_SIZE / 72
    size = {k: (b.get_window_extent(renderer).width / fig.dpi + pad,
                b.get_window_extent(renderer).height / fig.dpi + pad) for k, b in boxes.items()}
    n_cols = int(max(c for c, _ in layout.values())) + 1
    widths = [max([column_width] + [size[k][0] + 0.45 for k, (c, _) in layout.items() if c == col])
              for col in range(n_cols)]
    left = np.concatenate([[0.0], np.cumsum(widths)])
    row_h = max(row_height, max(h for _, h in size.values()) + 0.3)
    pos = {k: (left[int(c)] + widths[int(c)] / 2, (r + 0.5) * row_h) for k, (c, r) in layout.items()}
    for k, box in boxes.items():
        box.set_position(pos[k])
    total_w, total_h = left[-1], (max(r for _, r in layout.values()) + 1) * row_h
    ax.set_xlim(0, total_w)
    ax.set_ylim(total_h, 0)  # row 0 at the top
    fig.set_size_inches(max(6.0, total_w + 0.3), total_h + 1.3)

    for (src, dst), count in graph_edges(nodes).items():
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        skips = layout[dst][0] - layout[src][0] > 1 and y0 == y1
        bend = 0.25 if skips else 0.0  # a straight edge that skips a column arcs over the boxes between
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=4, gid="graph-edge", arrowprops=dict(
            arrowstyle="-|>", color="#444444", linewidth=1.1, mutation_scale=12, shrinkA=1, shrinkB=1,
            connectionstyle=f"arc3,rad={bend}",
            patchA=boxes[src].get_bbox_patch(), patchB=boxes[dst].get_bbox_patch()))
        if count > 1:
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"×{count}", ha="center", va="bottom", fontsize=TEXT_SIZE + 1,
                    fontweight="bold", zorder=5, gid="graph-edge-count")
    kinds = [k for k in KINDS if any(n.kind == k for n in nodes)]
    ax.legend(handles=[Patch(facecolor=NODE_COLOURS[k], edgecolor=EDGE_COLOURS[k], label=_KIND_LEGEND[k])
                       for k in kinds],
              loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(kinds), frameon=False,
              fontsize=TEXT_SIZE + 1)
    fig.suptitle(title, fontsize=TITLE_SIZE)
    ax.set_title("arrows: forward pass, inputs → outputs;  backward() carries dL/d(node) the other way. "
                 "'grad' = dL/d(this tensor)", fontsize=TEXT_SIZE + 1, color="#444444", pad=26)
    return finish(fig)
