"""GELU, the smooth ReLU of BERT's feed-forward layers, in its tanh form ("gelu_new").

    gelu(x)  = 0.5 x (1 + tanh(u)),   u = c (x + 0.044715 x^3),   c = sqrt(2 / pi)
    gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2),   t = tanh(u)

(The exact GELU uses the normal CDF, x * Phi(x); NumPy has no vectorised erf, and the
two differ by less than 1e-3.)
"""
from __future__ import annotations

import math

from ..backend import array_module

C = math.sqrt(2.0 / math.pi)
A = 0.044715


def gelu_forward(x):
    xp = array_module(x)
    t = xp.tanh(C * (x + A * x * x * x))
    t += 1.0
    t *= x
    t *= 0.5
    return t


def gelu_backward(x, dy):
    xp = array_module(x)
    x2 = x * x
    t = xp.tanh(C * x * (1.0 + A * x2))
    dt = (1.0 - t * t) * (C * (1.0 + 3.0 * A * x2))  # d tanh(u) / dx
    return dy * (0.5 * (1.0 + t) + 0.5 * x * dt)
