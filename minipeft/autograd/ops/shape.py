"""Ops that move entries around without changing them: reshape, transpose, indexing,
joining and splitting, and choosing between two tensors with a mask.

Backward of each puts every gradient entry back where its value came from: reshape
back, transpose back, scatter into the indexed places (adding where an index repeats,
as in an embedding lookup of the same word twice), cut the joined gradient apart.
"""
from __future__ import annotations

import numpy as np

from ...backend import array_module
from ..function import Function, unbroadcast
from ..tensor import Tensor


class Reshape(Function):
    """z = a viewed with a new shape (same entries, same order);  dz/da: reshape back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view a tensor of shape {a.shape} ({a.size} entries) "
                             f"as shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


class Permute(Function):
    """z = a with its axes reordered;  dz/da: apply the inverse order."""

    @staticmethod
    def forward(ctx, a, axes):
        if sorted(ax % a.ndim for ax in axes) != list(range(a.ndim)):
            raise ValueError(f"permute: {tuple(axes)} is not an order of the {a.ndim} axes of shape {a.shape}")
        ctx.inverse = tuple(int(i) for i in np.argsort([ax % a.ndim for ax in axes]))
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse), None


class GetItem(Function):
    """z = a[index] (slices or integer arrays);  dz/da: zeros with grad added at the indexed places."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        try:
            return a[index]
        except IndexError as err:
            raise IndexError(f"getitem: {err} (tensor of shape {a.shape})") from None

    @staticmethod
    def backward(ctx, grad):
        xp = array_module(grad)
        full = xp.zeros(ctx.shape, dtype=grad.dtype)
        if _has_array_index(ctx.index):
            xp.add.at(full, ctx.index, grad)  # repeated indices add up
        else:
            full[ctx.index] = grad  # basic slicing never repeats an entry
        return full, None


def _has_array_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "shape") or isinstance(p, list) for p in parts)


class Concatenate(Function):
    """z = [a_1, ..., a_n] joined along an axis;  dz/da_i: the slice of grad where a_i went."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        _check_same_shape_except("concatenate", arrays, axis)
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        bounds = [int(b) for b in np.cumsum(ctx.sizes)[:-1]]
        pieces = array_module(grad).split(grad, bounds, axis=ctx.axis)
        return tuple(p if need else None for p, need in zip(pieces, ctx.needs_input_grad))


class Stack(Function):
    """z = a_1, ..., a_n stacked along a new axis;  dz/da_i = grad taken at index i of that axis."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
        ctx.axis = axis
        return array_module(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        before = (slice(None),) * (ctx.axis % grad.ndim)
        return tuple(grad[before + (i,)] if need else None for i, need in enumerate(ctx.needs_input_grad))


class _UnbindGradients:
    """Where the pieces of one ``unbind`` leave their gradients: one shared (.., n, ..) array."""

    def __init__(self, shape, axis: int):
        self.shape, self.axis, self.grad = shape, axis, None

    def add(self, i: int, grad) -> None:
        if self.grad is None:
            self.grad = array_module(grad).zeros(self.shape, dtype=grad.dtype)
        self.grad[(slice(None),) * self.axis + (i,)] += grad

    def pop(self):
        grad, self.grad = self.grad, None  # empty again for a later backward
        return grad


class UnbindAnchor(Function):
    """a = 0, a scalar that every piece of an unbind takes as an input, so that backward
    reaches it only after all the pieces;  dL/dx = the gradients the pieces left behind."""

    @staticmethod
    def forward(ctx, x, collector):
        ctx.collector = collector
        return array_module(x).zeros((), dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return ctx.collector.pop(), None


class UnbindPiece(Function):
    """z = x[..., i, ...] (index i on the unbound axis);  backward writes dL/dz into the shared array."""

    @staticmethod
    def forward(ctx, anchor, x, i, collector):
        ctx.i, ctx.collector = i, collector
        return x[(slice(None),) * collector.axis + (i,)]

    @staticmethod
    def backward(ctx, grad):
        ctx.collector.add(ctx.i, grad)
        return array_module(grad).zeros((), dtype=grad.dtype), None, None, None


def _check_same_shape_except(op: str, arrays, axis: int) -> None:
    shapes = [a.shape for a in arrays]
    rest = {tuple(n for i, n in enumerate(s) if i != axis % len(s)) for s in shapes}
    if len({len(s) for s in shapes}) > 1 or len(rest) > 1:
        raise ValueError(f"{op}: shapes {shapes} differ outside axis {axis}")


class Where(Function):
    """z = a where cond else b;  dz/da = cond, dz/db = not cond (cond is a constant mask)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        for name, x in (("a", a), ("b", b)):
            try:
                np.broadcast_shapes(np.shape(cond), np.shape(x))
            except ValueError:
                raise ValueError(f"where: the condition of shape {np.shape(cond)} does not "
                                 f"broadcast with {name} of shape {np.shape(x)}") from None
        xp = array_module(a if hasattr(a, "shape") else b)
        ctx.cond, ctx.shapes = xp.asarray(cond), (np.shape(a), np.shape(b))
        return xp.where(ctx.cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        zero = grad.dtype.type(0)
        grad_a = unbroadcast(array_module(grad).where(ctx.cond, grad, zero), shape_a) if ctx.needs_input_grad[1] else None
        grad_b = unbroadcast(array_module(grad).where(ctx.cond, zero, grad), shape_b) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


def _mask_array(mask, op: str):
    data = mask.data if isinstance(mask, Tensor) else mask
    if getattr(data, "dtype", None) != bool:
        raise TypeError(f"{op}: the mask must be boolean, got {getattr(data, 'dtype', type(data).__name__)}")
    return data


def reshape(a, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Reshape.apply(a, shape)


def permute(a, *axes):
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    return Permute.apply(a, axes)


def transpose(a, axis1=-2, axis2=-1):
    """Swap two axes (the last two by default: a matrix transpose)."""
    axes = list(range(a.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return Permute.apply(a, tuple(axes))


def getitem(a, index):
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return GetItem.apply(a, index)


def concatenate(tensors, axis=0): return Concatenate.apply(*tensors, axis=axis)
def stack(tensors, axis=0): return Stack.apply(*tensors, axis=axis)


def split(a, sections, axis=0):
    """Cut ``a`` along ``axis`` into pieces of the given sizes (a list) or into n equal pieces (an int)."""
    length = a.shape[axis]
    if isinstance(sections, int):
        if length % sections:
            raise ValueError(f"split: axis {axis} of length {length} does not split into {sections} equal parts")
        sections = [length // sections] * sections
    if sum(sections) != length:
        raise ValueError(f"split: sizes {list(sections)} add up to {sum(sections)}, expected {length}")
    starts = np.cumsum([0] + list(sections))
    before = (slice(None),) * (axis % a.ndim)
    return [getitem(a, before + (slice(int(s), int(e)),)) for s, e in zip(starts[:-1], starts[1:])]


def unbind(a, axis=0):
    """The n slices of ``a`` along ``axis`` (an RNN's time steps), as a list of Tensors.

    ``[a[:, t] for t in range(T)]`` gives the same values, but each slice's backward would
    build a full array of zeros around one step's gradient and the engine would add T of
    them: O(T^2) work. Here every piece writes its gradient into one shared array, which
    a tiny extra op (the anchor, an input of every piece) hands back to ``a`` once: O(T).
    """
    axis = axis % a.ndim
    collector = _UnbindGradients(a.shape, axis)
    anchor = UnbindAnchor.apply(a, collector)
    return [UnbindPiece.apply(anchor, a.data, i, collector) for i in range(a.shape[axis])]


def where(cond, a, b):
    cond = _mask_array(cond, "where")
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        b = Tensor(array_module(a.data).asarray(b, dtype=a.dtype))
    if isinstance(b, Tensor) and not isinstance(a, Tensor):
        a = Tensor(array_module(b.data).asarray(a, dtype=b.dtype))
    return Where.apply(cond, a, b)


def masked_fill(a, mask, value):
    """``a`` with ``value`` wherever ``mask`` is True (no gradient reaches those entries)."""
    return where(_mask_array(mask, "masked_fill"), Tensor(array_module(a.data).asarray(value, dtype=a.dtype)), a)
