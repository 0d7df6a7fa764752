"""Stochastic gradient descent, with optional momentum and L2 weight decay.

    g = grad + wd * p            (weight decay, if any)
    b = mu * b + g               (momentum buffer, if mu > 0; b = g at the first step)
    p = p - lr * b               (or p - lr * g without momentum)

Without momentum SGD keeps no state at all; with it, one buffer the size of the parameter.
"""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    """p -= lr * (momentum buffer of grad + weight_decay * p); see the module docstring."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay

    def update(self, param, grad, state: dict) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * param.data  # new array: param.grad stays untouched
        if self.momentum:
            if "momentum" not in state:
                state["momentum"] = grad.copy()
            else:
                buffer = state["momentum"]
                buffer *= self.momentum
                buffer += grad
            grad = state["momentum"]
        param.data -= self.lr * grad

    def _settings(self) -> str:
        return f"lr={self.lr:g}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}"
