"""Reductions: sum, mean and max over some axes.

Backward of a reduction spreads the gradient back over the entries that were reduced:
``sum`` copies it to each of them, ``mean`` divides it by their number, and ``max``
sends it only to the entry that won (shared equally in a tie).
"""
from __future__ import annotations

from ...backend import array_module
from ..function import Function


def _axes(axis, ndim: int) -> tuple[int, ...]:
    """Normalise None / int / tuple into a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(ax % ndim for ax in axes))


def _expand_back(grad, shape, axes, keepdims: bool):
    """Reinsert the reduced axes (as size 1) so that grad broadcasts against the input."""
    if not keepdims:
        grad = array_module(grad).expand_dims(grad, axes)
    return grad


class Sum(Function):
    """z = sum of a over axes;  dz/da = 1 for every summed entry."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        return a.sum(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims)
        return array_module(grad).broadcast_to(grad, ctx.shape)


class Mean(Function):
    """z = (1/n) * sum of a over axes;  dz/da = 1/n, n = the number of entries averaged."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        ctx.count = 1
        for ax in ctx.axes:
            ctx.count *= a.shape[ax]
        return a.mean(axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.shape, ctx.axes, ctx.keepdims) / ctx.count
        return array_module(grad).broadcast_to(grad, ctx.shape)


class Max(Function):
    """z = max of a over axes;  dz/da = 1 at the maximum (1/k each if k entries tie), else 0."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        axes = _axes(axis, a.ndim)
        z = a.max(axis=axes, keepdims=True)
        winners = (a == z).astype(a.dtype)
        ctx.share = winners / winners.sum(axis=axes, keepdims=True)  # 1/k at each of k maxima
        ctx.axes, ctx.keepdims = axes, keepdims
        return z if keepdims else z.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_back(grad, ctx.share.shape, ctx.axes, ctx.keepdims)
        return grad * ctx.share


def sum(a, axis=None, keepdims=False): return Sum.apply(a, axis=axis, keepdims=keepdims)  # noqa: A001
def mean(a, axis=None, keepdims=False): return Mean.apply(a, axis=axis, keepdims=keepdims)
def max(a, axis=None, keepdims=False): return Max.apply(a, axis=axis, keepdims=keepdims)  # noqa: A001
