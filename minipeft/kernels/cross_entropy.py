"""Cross-entropy of logits against class indices, fused with the softmax.

For one row of logits x and its target class t:
    loss = -log softmax(x)_t = log sum_j e^(x_j) - x_t
    dloss/dx = softmax(x) - onehot(t)
Rows whose target equals ``ignore_index`` (padding, unmasked tokens) add nothing, and the
loss is the mean over the remaining n rows, so each row's gradient is divided by n.
Fusing keeps one (rows, classes) array alive instead of four (exp, sum, log, gather).
"""
from __future__ import annotations

from ..backend import array_module
from .softmax import softmax_forward


def cross_entropy_forward(logits, targets, ignore_index: int = -100):
    """Mean loss over rows with a target, and what backward needs: (loss, probs, valid, count).

    logits: (N, C) float; targets: (N,) int with values in [0, C) or ignore_index.
    """
    xp = array_module(logits)
    valid = targets != ignore_index  # (N,)
    safe_targets = xp.where(valid, targets, 0)
    probs = softmax_forward(logits)  # (N, C)
    rows = xp.arange(logits.shape[0])
    picked = probs[rows, safe_targets]  # (N,) probability of the right class
    count = max(int(valid.sum()), 1)
    tiny = xp.finfo(logits.dtype).tiny  # log(0) would be -inf
    loss = -(xp.log(xp.maximum(picked, tiny)) * valid).sum() / count
    return loss.astype(logits.dtype), probs, safe_targets, valid, count


def cross_entropy_backward(probs, safe_targets, valid, count: int, dloss):
    """dL/dlogits = dloss * (probs - onehot(target)) / count on valid rows, 0 elsewhere."""
    xp = array_module(probs)
    grad = probs.copy()  # (N, C)
    grad[xp.arange(grad.shape[0]), safe_targets] -= 1
    grad *= (valid * (dloss / count)).astype(grad.dtype)[:, None]
    return grad
