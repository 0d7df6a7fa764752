"""GELU, the smooth ReLU of BERT's feed-forward layers, in its tanh form ("gelu_new").

    gelu(x)  = 0.5 x (1 + t),          t = tanh(c (x + A x^3)),   c = sqrt(2 / pi), A = 0.044715
    gelu'(x) = 0.5 (1 + t) + 0.5 c x (1 - t^2) (1 + 3 A x^2)

(The exact GELU uses the normal CDF, x * Phi(x); NumPy has no vectorised erf, and the
two differ by less than 1e-3.)

Written as a dozen in-place steps on one or two buffers: the feed-forward activations
are the largest arrays of a BERT step (B*T*4d numbers), and allocating a fresh array
for every intermediate result costs more than the arithmetic. Forward keeps t for
backward, so the tanh is computed once.
"""
from __future__ import annotations

import math

from ..backend import array_module

C = math.sqrt(2.0 / math.pi)
A = 0.044715


def gelu_forward(x):
    """Returns (y, t): the activation and the tanh term that backward reuses."""
    xp = array_module(x)
    t = xp.multiply(x, x)
    t *= A
    t += 1.0
    t *= x
    t *= C                    # c (x + A x^3)
    xp.tanh(t, out=t)         # t
    y = t + 1.0
    y *= x
    y *= 0.5                  # 0.5 x (1 + t)
    return y, t


def gelu_backward(x, t, dy):
    """dL/dx = dy * gelu'(x), given x and the forward's t."""
    xp = array_module(x)
    dx = xp.multiply(x, x)
    dx *= 3.0 * A
    dx += 1.0
    dx *= 0.5 * C
    dx *= x                   # 0.5 c x (1 + 3 A x^2)
    one_minus_t2 = xp.multiply(t, t)
    xp.subtract(1.0, one_minus_t2, out=one_minus_t2)
    dx *= one_minus_t2        # 0.5 c x (1 - t^2) (1 + 3 A x^2)
    half_one_plus_t = xp.multiply(t, 0.5, out=one_minus_t2)
    half_one_plus_t += 0.5
    dx += half_one_plus_t     # + 0.5 (1 + t)
    dx *= dy
    return dx
