"""``trace()``: watch backprop happen, one op at a time.

    with mp.autograd.trace() as t:
        loss = model(x).sum()
        loss.backward()
    print(t)            # a table: every forward op, then every backward op

Each forward row names the op, the shapes that went in and came out, and the size
(L2 norm) of the value it produced. Each backward row names the op whose backward ran,
the norm of the gradient that arrived at its output, and the norms of the gradients it
sent to each input. Records keep ids of the tensors so that a picture of the graph can
be drawn from them (``minipeft.viz.draw_graph``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_active: list["Trace"] = []


def _norm(array) -> float:
    from ..backend import to_numpy

    return float(np.linalg.norm(to_numpy(array).astype(np.float64).ravel())) if array is not None else float("nan")


@dataclass
class ForwardRecord:
    op: str
    input_ids: list[int]
    input_names: list[str]
    input_shapes: list[tuple]
    output_id: int
    output_shape: tuple
    value_norm: float
    value: object = None  # the value itself (a NumPy copy) when it has at most `keep_values` entries


@dataclass
class BackwardRecord:
    op: str
    output_id: int
    grad_norm: float
    input_grad_norms: list[float]
    grad: object = None  # the gradient itself (a NumPy copy) when it is small


@dataclass
class LeafRecord:
    """A tensor that an op used but no recorded op made: an input, a parameter, a target."""

    name: str
    shape: tuple
    value_norm: float
    value: object = None  # a NumPy copy when it has at most `keep_values` entries
    requires_grad: bool = False


@dataclass
class Trace:
    """What one ``trace()`` block saw. ``forward``/``backward`` are lists of records."""

    keep_values: int = 16
    forward: list[ForwardRecord] = field(default_factory=list)
    backward: list[BackwardRecord] = field(default_factory=list)
    leaf_grads: dict = field(default_factory=dict)  # id(leaf tensor) -> NumPy copy of its gradient
    leaves: dict = field(default_factory=dict)  # id(leaf tensor) -> LeafRecord, in order of first use
    _made: set = field(default_factory=set, repr=False)  # ids of the outputs recorded so far

    def table(self) -> str:
        """The trace as a text table (what ``print(trace)`` shows)."""
        rows = [("#", "pass", "op", "shapes", "|value| or |grad out|", "|grad| to inputs")]
        for i, r in enumerate(self.forward):
            shapes = ", ".join(_shape(s) for s in r.input_shapes) + " -> " + _shape(r.output_shape)
            rows.append((str(i), "forward", r.op, shapes, f"{r.value_norm:.4g}", ""))
        for i, r in enumerate(self.backward):
            to_inputs = ", ".join("-" if np.isnan(g) else f"{g:.4g}" for g in r.input_grad_norms)
            rows.append((str(i), "backward", r.op, "", f"{r.grad_norm:.4g}", to_inputs))
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _shape(shape) -> str:
    return "(" + ",".join(str(n) for n in shape) + ")"


class trace:
    """Context manager that records every op of the forward and backward passes inside it."""

    def __init__(self, keep_values: int = 16):
        self.record = Trace(keep_values=keep_values)

    def __enter__(self) -> Trace:
        _active.append(self.record)
        return self.record

    def __exit__(self, *exc):
        _active.remove(self.record)


def active() -> bool:
    return bool(_active)


def record_forward(op: str, inputs, output) -> None:
    from ..backend import to_numpy

    for t in _active:
        for x in inputs:
            if id(x) not in t._made and id(x) not in t.leaves:
                small = to_numpy(x.data).copy() if x.data.size <= t.keep_values else None
                t.leaves[id(x)] = LeafRecord(x.name or "", x.shape, _norm(x.data), small, x.requires_grad)
        t._made.add(id(output))
        value = to_numpy(output.data).copy() if output.data.size <= t.keep_values else None
        t.forward.append(ForwardRecord(
            op, [id(x) for x in inputs], [x.name or "" for x in inputs], [x.shape for x in inputs],
            id(output), output.shape, _norm(output.data), value))


def record_backward(op: str, output_id: int, grad, input_grads) -> None:
    from ..backend import to_numpy

    for t in _active:
        small = to_numpy(grad).copy() if grad.size <= t.keep_values else None
        t.backward.append(BackwardRecord(op, output_id, _norm(grad), [_norm(g) for g in input_grads], small))


def record_leaf_grad(tensor, grad) -> None:
    from ..backend import to_numpy

    for t in _active:
        t.leaf_grads[id(tensor)] = to_numpy(grad).copy()
