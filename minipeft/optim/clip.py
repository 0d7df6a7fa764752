"""Gradient clipping by global norm: one bad batch cannot throw the weights far away.

    total = sqrt(sum over every parameter p of sum(p.grad ** 2))
    if total > max_norm:  every p.grad *= max_norm / total

All gradients are scaled by the same factor, so the update keeps its direction and
only its length is capped at ``max_norm``.
"""
from __future__ import annotations

import math

from .optimizer import _named_parameters


def clip_grad_norm(params, max_norm: float) -> float:
    """Rescale the gradients so that their global L2 norm is at most ``max_norm``; return
    the norm they had before. Parameters without a gradient are skipped. The scaled
    gradients are new arrays (never written in place: gradient arrays may be shared)."""
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm}")
    with_grad = [p for _, p in _named_parameters(params) if p.grad is not None]
    total = math.sqrt(sum(_sum_of_squares(p.grad) for p in with_grad))
    if not math.isfinite(total):
        raise FloatingPointError(f"clip_grad_norm: the gradient norm is {total}; some gradient "
                                 f"holds NaN or infinity (check the loss and the learning rate)")
    if total > max_norm:
        scale = max_norm / total
        for p in with_grad:
            p.grad = p.grad * p.grad.dtype.type(scale)
    return total


def _sum_of_squares(grad) -> float:
    flat = grad.reshape(-1)
    return float(flat @ flat)
