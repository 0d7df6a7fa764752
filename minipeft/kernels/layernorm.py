"""Layer normalisation over the last axis (each token's vector on its own).

Forward, for one row x of length D:
    mu = mean(x),  rstd = 1 / sqrt(var(x) + eps),  xhat = (x - mu) * rstd
    y  = xhat * gamma + beta
Backward, with g = dy * gamma:
    dx     = rstd * (g - mean(g) - xhat * mean(g * xhat))
    dgamma = sum over rows of dy * xhat,   dbeta = sum over rows of dy
"""
from __future__ import annotations

from ..backend import array_module


def layer_norm_forward(x, gamma, beta, eps: float):
    """Returns y and what backward needs: (y, xhat, rstd)."""
    xp = array_module(x)
    mu = x.mean(axis=-1, keepdims=True)
    xhat = x - mu
    var = (xhat * xhat).mean(axis=-1, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)  # (..., 1)
    xhat *= rstd
    y = xhat * gamma
    y += beta
    return y, xhat, rstd


def layer_norm_backward(dy, xhat, rstd, gamma, need_x=True, need_gamma=True, need_beta=True):
    """Returns (dx, dgamma, dbeta); each is None when not asked for."""
    dx = dgamma = dbeta = None
    if need_x:
        g = dy * gamma
        dx = g - g.mean(axis=-1, keepdims=True)
        g *= xhat
        dx -= xhat * g.mean(axis=-1, keepdims=True)
        dx *= rstd
    rows_dy = dy.reshape(-1, dy.shape[-1])
    if need_gamma:
        dgamma = (rows_dy * xhat.reshape(rows_dy.shape)).sum(axis=0)
    if need_beta:
        dbeta = rows_dy.sum(axis=0)
    return dx, dgamma, dbeta
