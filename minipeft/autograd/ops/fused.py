"""Fused ops: several steps of math done as one Function with a hand-derived backward.

Writing softmax as exp, sum and divide would record three nodes and keep three arrays;
as one Function it records one node and keeps only its output. The math lives in
``minipeft.kernels`` (one file per family); these classes connect it to autograd.
"""
from __future__ import annotations

import numpy as np

from ... import backend
from ...kernels import cross_entropy as ce
from ...kernels import layernorm as ln
from ...kernels import softmax as sm
from ...backend import array_module
from ..function import Function
from ..tensor import Tensor


def _last_axis(x, axis: int, op: str) -> None:
    if axis not in (-1, x.ndim - 1):
        raise ValueError(f"{op}: works over the last axis (axis=-1), got axis={axis}; "
                         f"move the axis last with .transpose() first")


class Softmax(Function):
    """y = softmax(x) over the last axis;  dx = y * (dy - sum(dy * y))."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        _last_axis(x, axis, "softmax")
        y = sm.softmax_forward(x)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return sm.softmax_backward(ctx.y, grad)


class LogSoftmax(Function):
    """y = log softmax(x) over the last axis;  dx = dy - e^y * sum(dy)."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        _last_axis(x, axis, "log_softmax")
        y = sm.log_softmax_forward(x)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return sm.log_softmax_backward(ctx.y, grad)


class CrossEntropy(Function):
    """L = mean over rows with a target of -log softmax(logits)_target;  dL/dlogits = (p - onehot) / n."""

    @staticmethod
    def forward(ctx, logits, targets, ignore_index=-100):
        _check_targets(logits, targets, ignore_index)
        rows = logits.reshape(-1, logits.shape[-1])  # (N, C)
        loss, probs, safe, valid, count = ce.cross_entropy_forward(rows, targets.reshape(-1), ignore_index)
        if ctx.requires_grad:
            ctx.saved, ctx.shape = (probs, safe, valid, count), logits.shape
        return loss

    @staticmethod
    def backward(ctx, grad):
        return ce.cross_entropy_backward(*ctx.saved, grad).reshape(ctx.shape), None


def _check_targets(logits, targets, ignore_index: int) -> None:
    if targets.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {targets.dtype}")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"cross_entropy: logits of shape {logits.shape} need targets of shape "
                         f"{logits.shape[:-1]}, got {targets.shape}")
    num_classes = logits.shape[-1]
    bad = ((targets < 0) | (targets >= num_classes)) & (targets != ignore_index)
    if bool(bad.any()):
        raise ValueError(f"cross_entropy: targets must lie in [0, {num_classes}) or equal "
                         f"ignore_index={ignore_index}; found {int(targets[bad].ravel()[0])}")


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis (see kernels.layernorm)."""

    @staticmethod
    def forward(ctx, x, gamma, beta, eps=1e-5):
        if gamma.shape != x.shape[-1:] or beta.shape != x.shape[-1:]:
            raise ValueError(f"layer_norm: input of shape {x.shape} needs gamma and beta of shape "
                             f"{x.shape[-1:]}, got {gamma.shape} and {beta.shape}")
        y, xhat, rstd = ln.layer_norm_forward(x, gamma, beta, eps)
        if ctx.requires_grad:
            ctx.xhat, ctx.rstd, ctx.gamma = xhat, rstd, gamma
        return y

    @staticmethod
    def backward(ctx, grad):
        return ln.layer_norm_backward(grad, ctx.xhat, ctx.rstd, ctx.gamma, *ctx.needs_input_grad[:3])


class Dropout(Function):
    """y = x * m / (1 - p), m_i ~ Bernoulli(1 - p) drawn once;  dx = dy * m / (1 - p)."""

    @staticmethod
    def forward(ctx, x, p):
        keep = backend.rng(backend.device_of(x)).random(x.shape, dtype=np.float32) >= p
        scale = keep.astype(x.dtype)
        scale *= 1.0 / (1.0 - p)  # 0 or 1/(1-p): E[y] = x
        ctx.scale = scale
        return x * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def softmax(x, axis=-1): return Softmax.apply(x, axis=axis)
def log_softmax(x, axis=-1): return LogSoftmax.apply(x, axis=axis)


def cross_entropy(logits, targets, ignore_index=-100):
    """Mean cross-entropy of ``logits`` (..., C) against integer ``targets`` (...)."""
    targets = targets if isinstance(targets, Tensor) else Tensor(array_module(logits.data).asarray(targets))
    if targets.dtype.kind not in "iu":  # before apply, whose float-dtype check would blame the wrong thing
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {targets.dtype}")
    return CrossEntropy.apply(logits, targets, ignore_index=ignore_index)


def layer_norm(x, gamma, beta, eps=1e-5):
    return LayerNorm.apply(x, gamma, beta, eps=eps)


def dropout(x, p=0.1, training=True):
    """Zero each entry with probability p and scale the rest by 1/(1-p); the identity when not training."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    return Dropout.apply(x, p)
