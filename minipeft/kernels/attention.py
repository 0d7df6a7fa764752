"""Scaled dot-product attention, fused: scores, mask, softmax and the weighted sum in one op.

For queries q (..., Tq, dh), keys k (..., Tk, dh) and values v (..., Tk, dv):

    S = q k^T / sqrt(dh)                 (..., Tq, Tk)  how well each query matches each key
    S[~mask] = MASKED                    a position that may not be attended gets a huge
                                         negative score, so its weight below is exactly 0
    P = softmax(S) over the keys         (..., Tq, Tk)  each row sums to 1
    O = P v                              (..., Tq, dv)  each query's weighted mix of the values

Backward, given dO = dL/dO (the chain rule through each line above, in reverse):

    dV = P^T dO                          (..., Tk, dv)
    dP = dO V^T                          (..., Tq, Tk)
    dS = P * (dP - rowsum(dP * P))       softmax's backward, row by row
    dS[~mask] = 0                        masked scores are constants, not functions of q, k
    dQ = dS K / sqrt(dh)                 (..., Tq, dh)
    dK = dS^T Q / sqrt(dh)               (..., Tk, dh)

Masked scores are set to ``MASKED = finfo(dtype).min / 2`` rather than -inf: then a row
whose keys are *all* masked has equal scores everywhere and attends uniformly (its output
is the mean of v, and no gradient reaches q or k) instead of dividing 0 by 0 into NaN.
In a row with at least one open key, exp(MASKED - max) underflows to exactly 0.

Keeping the op fused stores only P for backward (plus q, k, v as the gradients asked for
need them), where separate ops would also keep S and the masked S. Every product goes
through ``gemm`` so it is counted. Works for NumPy and CuPy arrays alike.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from .matmul import gemm
from .softmax import softmax_forward


def _swap_last(x):
    return x.swapaxes(-1, -2)


def masked_score(dtype) -> float:
    """The score given to positions that may not be attended: half the most negative float."""
    return float(np.finfo(dtype).min) / 2


def attention_forward(q, k, v, mask=None):
    """O = softmax(q k^T / sqrt(dh), masked) v. Returns (O, P); backward needs P.

    ``mask`` is boolean, broadcastable to (..., Tq, Tk); True means "may attend".
    """
    xp = array_module(q)
    scores = gemm(q, _swap_last(k))  # (..., Tq, Tk)
    scores *= 1.0 / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = xp.where(mask, scores, scores.dtype.type(masked_score(scores.dtype)))  # (..., Tq, Tk)
    probs = softmax_forward(scores)  # (..., Tq, Tk), rows sum to 1
    return gemm(probs, v), probs  # (..., Tq, dv), (..., Tq, Tk)


def attention_backward(dout, probs, q=None, k=None, v=None, mask=None,
                       need_q=True, need_k=True, need_v=True):
    """Returns (dQ, dK, dV) from dO and P (see the module docstring); None where not asked.

    dV needs only P; dQ needs k and v; dK needs q and v.
    """
    dq = dk = dv = None
    if need_v:
        dv = gemm(_swap_last(probs), dout)  # (..., Tk, dv)
    if need_q or need_k:
        dscores = gemm(dout, _swap_last(v))  # dP: (..., Tq, Tk)
        dscores -= (dscores * probs).sum(axis=-1, keepdims=True)  # dP - rowsum(dP * P)
        dscores *= probs  # dS = P * (dP - rowsum(dP * P))
        if mask is not None:
            dscores *= mask  # a masked score was a constant: no gradient flows through it
        head_dim = (k if k is not None else q).shape[-1]
        dscores *= 1.0 / math.sqrt(head_dim)
        if need_q:
            dq = gemm(dscores, k)  # (..., Tq, dh)
        if need_k:
            dk = gemm(_swap_last(dscores), q)  # (..., Tk, dh)
    return dq, dk, dv
