"""The Adam / AdamW update of one parameter, done in place on its arrays.

With gradient g, step number t (1 for the first update), and moments m, v (zeros at first):

    g  = g + wd * p                       (Adam only: L2 weight decay, added to the gradient)
    m  = b1 m + (1 - b1) g                running mean of the gradient
    v  = b2 v + (1 - b2) g^2              running mean of its square
    m^ = m / (1 - b1^t),  v^ = v / (1 - b2^t)     bias correction: m, v start at 0
    p  = p - lr * wd * p                  (AdamW only: decoupled weight decay)
    p  = p - lr * m^ / (sqrt(v^) + eps)

The two kinds of decay differ: Adam's L2 term goes through the division by sqrt(v^), so
weights with large gradients are barely decayed; AdamW shrinks every weight by the same
factor (1 - lr * wd). This file is the NumPy/CuPy reference (``xp`` is the arrays' own
module); a fused CUDA kernel must match it.
"""
from __future__ import annotations

import math

from ..backend import array_module


def adam_step(param, grad, m, v, *, lr: float, beta1: float, beta2: float, eps: float,
              weight_decay: float, step: int, decoupled: bool) -> None:
    """Update ``param``, ``m`` and ``v`` in place (see the module docstring); ``grad`` is only read.

    ``decoupled=False`` is Adam (L2 added to the gradient), ``True`` is AdamW.
    """
    xp = array_module(param)
    if weight_decay and not decoupled:
        grad = grad + weight_decay * param  # a new array: the caller's gradient stays untouched
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * (grad * grad)
    if weight_decay and decoupled:
        param *= 1.0 - lr * weight_decay
    # lr * m^ / (sqrt(v^) + eps), written with one temporary array
    denom = xp.sqrt(v)
    denom /= math.sqrt(1.0 - beta2 ** step)
    denom += eps
    update = xp.divide(m, denom, out=denom)
    update *= lr / (1.0 - beta1 ** step)
    param -= update
