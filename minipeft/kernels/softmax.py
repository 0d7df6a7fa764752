"""Softmax and log-softmax over the last axis: the math every attention and classifier uses.

    softmax(x)_i     = e^(x_i - m) / sum_j e^(x_j - m)       m = max_j x_j (for stability)
    log_softmax(x)_i = x_i - m - log sum_j e^(x_j - m)

Backward, with y the forward output and dy the incoming gradient (one row at a time):
    softmax:      dx = y * (dy - sum_j dy_j y_j)
    log_softmax:  dx = dy - e^y * sum_j dy_j

These functions take NumPy or CuPy arrays alike (``xp`` is the array's own module).
"""
from __future__ import annotations

from ..backend import array_module


def softmax_forward(x):
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = xp.exp(shifted, out=shifted)  # reuse the buffer: one temporary instead of two
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(y, dy):
    return y * (dy - (dy * y).sum(axis=-1, keepdims=True))


def log_softmax_forward(x):
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    log_sum = xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
    shifted -= log_sum
    return shifted


def log_softmax_backward(y, dy):
    xp = array_module(y)
    return dy - xp.exp(y) * dy.sum(axis=-1, keepdims=True)
