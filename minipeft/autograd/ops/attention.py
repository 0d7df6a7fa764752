"""Scaled dot-product attention as one fused Function (the math is in kernels/attention.py).

    O = softmax(q k^T / sqrt(dh) with masked scores set very negative) v

One node in the graph instead of six (matmul, scale, mask, softmax, matmul, ...), and
backward keeps only the attention weights P plus the inputs that the requested
gradients need: when q, k and v are all frozen constants nothing at all is kept.
"""
from __future__ import annotations

import numpy as np

from ...kernels import attention as att
from ...backend import array_module
from ..function import Function
from ..tensor import Tensor


def _check_shapes(q, k, v, mask) -> None:
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"scaled_dot_product_attention: q, k, v need the same number (>= 2) of axes "
                         f"(..., T, d), got shapes {q.shape}, {k.shape}, {v.shape}")
    if k.shape[:-2] != q.shape[:-2] or v.shape[:-2] != q.shape[:-2]:
        raise ValueError(f"scaled_dot_product_attention: q, k, v need the same leading (batch, head) axes, "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: q and k need the same last axis (head size), "
                         f"got shapes {q.shape} and {k.shape}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: k and v need the same number of keys, "
                         f"got shapes {k.shape} and {v.shape}")
    if mask is None:
        return
    scores_shape = q.shape[:-1] + (k.shape[-2],)  # (..., Tq, Tk)
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"scaled_dot_product_attention: the mask of shape {tuple(mask.shape)} does not "
                         f"broadcast to the scores' shape {scores_shape} (..., Tq, Tk)")


class ScaledDotProductAttention(Function):
    """O = softmax(q k^T / sqrt(dh), masked) v;  dV = P^T dO,  dS = P * (dP - rowsum(dP * P)) with
    dP = dO V^T,  dQ = dS K / sqrt(dh),  dK = dS^T Q / sqrt(dh)  (see kernels/attention.py)."""

    @staticmethod
    def forward(ctx, q, k, v, mask=None, weights_out=None):
        _check_shapes(q, k, v, mask)
        out, probs = att.attention_forward(q, k, v, mask)  # (..., Tq, dv), (..., Tq, Tk)
        if weights_out is not None:
            weights_out.append(probs)
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        if ctx.requires_grad:
            ctx.probs = probs
            ctx.q = q if need_k else None  # dK = dS^T Q
            ctx.k = k if need_q else None  # dQ = dS K
            ctx.v = v if need_q or need_k else None  # dP = dO V^T
            ctx.mask = mask if need_q or need_k else None
        return out

    @staticmethod
    def backward(ctx, grad):
        need_q, need_k, need_v = ctx.needs_input_grad[:3]
        dq, dk, dv = att.attention_backward(grad, ctx.probs, ctx.q, ctx.k, ctx.v, ctx.mask,
                                            need_q, need_k, need_v)
        return dq, dk, dv, None


def scaled_dot_product_attention(q, k, v, mask=None, return_weights=False):
    """softmax(q k^T / sqrt(dh)) v for q (..., Tq, dh), k (..., Tk, dh), v (..., Tk, dv).

    ``mask``: boolean, broadcastable to (..., Tq, Tk), True where a query may attend to a key
    (for heads: (B, H, Tq, Tk), or (B, 1, 1, Tk) for padding, (Tq, Tk) for causal). A query
    with no key allowed attends uniformly (no NaN; see kernels/attention.py).
    ``return_weights=True`` also returns the attention weights P (..., Tq, Tk) as a Tensor
    outside the graph, for plots.
    """
    if mask is not None:
        mask = mask if isinstance(mask, Tensor) else Tensor(array_module(q.data).asarray(mask))
        if mask.dtype != bool:
            raise TypeError(f"scaled_dot_product_attention: the mask must be boolean (True = may attend), "
                            f"got dtype {mask.dtype}")
    weights = [] if return_weights else None
    out = ScaledDotProductAttention.apply(q, k, v, mask, weights_out=weights)
    return (out, Tensor(weights[0])) if return_weights else out
