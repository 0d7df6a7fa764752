"""Matrix products: ``matmul`` (batched, broadcasting) and ``linear`` (x @ W + b, fused).

For z = a @ b the chain rule gives two more matrix products:
    dL/da = dL/dz @ b^T        dL/db = a^T @ dL/dz
Each is computed only when that input wants a gradient, and each input is kept for
backward only when the *other* input's gradient needs it.
"""
from __future__ import annotations

from ...kernels.matmul import gemm
from ...backend import array_module
from ..function import Function, unbroadcast


def _swap_last(x):
    return x.swapaxes(-1, -2)


def _check_matmul_shapes(op: str, a, b) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{op}: needs tensors with at least one dimension, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
                         f"({inner_a}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
                         f"axis of the second ({inner_b})")


class MatMul(Function):
    """z = a @ b;  dL/da = dL/dz @ b^T,  dL/db = a^T @ dL/dz (summed over broadcast batch axes)."""

    @staticmethod
    def forward(ctx, a, b):
        _check_matmul_shapes("matmul", a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.a = a if need_b else None
        ctx.b = b if need_a else None
        ctx.shapes = a.shape, b.shape
        return gemm(a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        # 1-D operands are matrices with one row (a) or one column (b), as in numpy.matmul
        a_1d, b_1d = len(shape_a) == 1, len(shape_b) == 1
        if b_1d:  # first, so that a dot product's 0-d gradient becomes (1, 1)
            grad = array_module(grad).expand_dims(grad, -1)
        if a_1d:
            grad = array_module(grad).expand_dims(grad, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            b = ctx.b[:, None] if b_1d else ctx.b
            grad_a = unbroadcast(gemm(grad, _swap_last(b)), (1,) + shape_a if a_1d else shape_a)
            grad_a = grad_a.reshape(shape_a)
        if ctx.needs_input_grad[1]:
            a = ctx.a[None, :] if a_1d else ctx.a
            if len(shape_b) <= 2 and a.ndim > 2:  # a shared weight: fold the batch into one GEMM
                k, m = a.shape[-1], grad.shape[-1]
                grad_b = gemm(a.reshape(-1, k).T, grad.reshape(-1, m))
            else:
                grad_b = unbroadcast(gemm(_swap_last(a), grad), shape_b + (1,) if b_1d else shape_b)
            grad_b = grad_b.reshape(shape_b)
        return grad_a, grad_b


class Linear(Function):
    """z = x @ W + b for x of shape (..., in), W (in, out), b (out,);
    dL/dx = dL/dz @ W^T,  dL/dW = x^T @ dL/dz,  dL/db = dL/dz summed over all rows."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        _check_matmul_shapes("linear", x, weight)
        if weight.ndim != 2:
            raise ValueError(f"linear: the weight must be a matrix (in, out), got shape {weight.shape}")
        if bias is not None and bias.shape != (weight.shape[1],):
            raise ValueError(f"linear: the bias must have shape ({weight.shape[1]},), got {bias.shape}")
        need_x, need_w, _ = ctx.needs_input_grad
        rows = x.reshape(-1, x.shape[-1])  # (N, in): every token of every sequence is one row
        ctx.rows = rows if need_w else None
        ctx.weight = weight if need_x else None
        ctx.x_shape = x.shape
        z = gemm(rows, weight)  # (N, out)
        if bias is not None:
            z += bias
        return z.reshape(x.shape[:-1] + (weight.shape[1],))

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_rows = grad.reshape(-1, grad.shape[-1])  # (N, out)
        grad_x = gemm(grad_rows, ctx.weight.T).reshape(ctx.x_shape) if need_x else None
        grad_w = gemm(ctx.rows.T, grad_rows) if need_w else None
        grad_b = grad_rows.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b


def matmul(a, b): return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """x @ weight + bias in one op (see Linear)."""
    return Linear.apply(x, weight, bias)
