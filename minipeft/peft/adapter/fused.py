"""The adapter as one op: forward and backward derived by hand, like the other fused ops.

For h of shape (..., d), viewed as N rows of d (every token of every sequence):

    a = h W_down + b_down            (N, m)   the narrow middle, m << d
    z = f(a)                         (N, m)   f = GELU, ReLU or tanh
    y = s + z W_up + b_up            (N, d)   the skip connection: s = h (serial adapter), or the
                                              sublayer's output (a parallel adapter)

Backward, given dy = dL/dy (N, d), the chain rule through each line above, in reverse:

    dW_up   = z^T dy                 (m, d)   db_up   = sum over rows of dy   (d,)
    dz      = dy W_up^T              (N, m)
    da      = dz * f'(a)             (N, m)
    dW_down = h^T da                 (d, m)   db_down = sum over rows of da   (m,)
    dh      = dy + da W_down^T       (N, d)   the skip connection passes dy straight back (s = h)
    ds      = dy                     (N, d)   (a separate skip input s)

Why one op and not Linear, f, Linear and Add: an adapter's products are skinny (N x d
times d x m with m = 16 against d = 128), so there is little arithmetic in them and the
overhead shows: four graph nodes, a fresh (N, d) array for the skip connection's sum,
and NumPy's slow sums over rows for the bias gradients. Here the skip connection is
added in place, the bias gradients are matrix-vector products (``column_sum``), and
dW_up is computed as (dy^T z)^T, the wide side first, which BLAS does faster. The
forward pass is bit for bit the composed one (so an adapter whose W_up is zero is exactly
the identity); the gradients agree with the composed ops to float32 rounding.
``ctx.needs_input_grad`` trims backward as everywhere: without a gradient for h (the
first adapter above a frozen input) the dh product is skipped.
"""
from __future__ import annotations

from ...autograd import Function, Tensor
from ...backend import array_module
from ...kernels.gelu import gelu_backward, gelu_forward
from ...kernels.matmul import gemm
from ...kernels.rows import column_sum


def activation_forward(nonlinearity: str, a):
    """z = f(a), and what f' will need: GELU's tanh term, ReLU's mask, or tanh's output."""
    if nonlinearity == "gelu":
        return gelu_forward(a)
    if nonlinearity == "relu":
        positive = a > 0
        return a * positive, positive
    z = array_module(a).tanh(a)
    return z, z


def activation_backward(nonlinearity: str, a, kept, dz):
    """da = dz * f'(a), from what activation_forward kept."""
    if nonlinearity == "gelu":
        return gelu_backward(a, kept, dz)
    if nonlinearity == "relu":
        return dz * kept
    return dz * (1 - kept * kept)  # tanh' = 1 - tanh^2


class AdapterBottleneck(Function):
    """y = s + f(h W_down + b_down) W_up + b_up over the last axis, s = h unless given (see the module docstring)."""

    @staticmethod
    def forward(ctx, h, w_down, b_down, w_up, b_up, skip=None, nonlinearity="gelu"):
        need_h, need_w_down, need_b_down, need_w_up, _, _ = ctx.needs_input_grad
        rows = h.reshape(-1, h.shape[-1])  # (N, d)
        a = gemm(rows, w_down)  # (N, m)
        a += b_down
        z, kept = activation_forward(nonlinearity, a)  # (N, m)
        y = gemm(z, w_up)  # (N, d)
        y += b_up
        y += rows if skip is None else skip.reshape(y.shape)  # the skip connection, in place
        through_f = need_h or need_w_down or need_b_down  # gradients that pass back through f
        ctx.nonlinearity, ctx.h_shape, ctx.skip_is_h = nonlinearity, h.shape, skip is None
        ctx.rows = rows if need_w_down else None
        ctx.z = z if need_w_up else None
        ctx.a, ctx.kept, ctx.w_up = (a, kept, w_up) if through_f else (None, None, None)
        ctx.w_down = w_down if need_h else None
        return y.reshape(h.shape)

    @staticmethod
    def backward(ctx, grad):
        need_h, need_w_down, need_b_down, need_w_up, need_b_up, need_skip = ctx.needs_input_grad
        dy = grad.reshape(-1, grad.shape[-1])  # (N, d)
        dh = dw_down = db_down = dw_up = db_up = dskip = None
        if need_skip:
            dskip = grad  # the separate skip input s
        if need_w_up:
            dw_up = gemm(dy.T, ctx.z).T  # (m, d), computed as the (d, m) product dy^T z
        if need_b_up:
            db_up = column_sum(dy)  # (d,)
        if need_h or need_w_down or need_b_down:
            dz = gemm(dy, ctx.w_up.T)  # (N, m)
            da = activation_backward(ctx.nonlinearity, ctx.a, ctx.kept, dz)  # (N, m)
            if need_w_down:
                dw_down = gemm(ctx.rows.T, da)  # (d, m)
            if need_b_down:
                db_down = column_sum(da)  # (m,)
            if need_h:
                dh = gemm(da, ctx.w_down.T)  # (N, d)
                if ctx.skip_is_h:
                    dh += dy  # the skip connection
                dh = dh.reshape(ctx.h_shape)
        return dh, dw_down, db_down, dw_up, db_up, dskip


def adapter_bottleneck(h: Tensor, w_down: Tensor, b_down: Tensor, w_up: Tensor, b_up: Tensor,
                       nonlinearity: str = "gelu", skip: Tensor | None = None) -> Tensor:
    """s + f(h W_down + b_down) W_up + b_up in one op, s = ``skip`` or h itself (see AdapterBottleneck)."""
    return AdapterBottleneck.apply(h, w_down, b_down, w_up, b_up, skip, nonlinearity=nonlinearity)
