"""Adam and AdamW: per-parameter step sizes from running moments of the gradient.

Each parameter keeps two arrays of its own size, m (mean of g) and v (mean of g^2), and
a step count; the update itself lives in ``minipeft.kernels.adam`` (read the formulas
there). Two extra copies of every trainable weight is why optimizer state dominates the
memory of full fine-tuning, and why freezing most weights (adapters) saves so much.
"""
from __future__ import annotations

from ..backend import array_module
from ..kernels.adam import adam_step
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015); ``weight_decay`` is L2, added to the gradient."""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        name = type(self).__name__
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be > 0, got {eps}")
        if weight_decay < 0:
            raise ValueError(f"{name}: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def update(self, param, grad, state: dict) -> None:
        if not state:
            xp = array_module(param.data)
            state["step"] = 0
            state["m"] = xp.zeros_like(param.data)  # mean of g
            state["v"] = xp.zeros_like(param.data)  # mean of g^2
        state["step"] += 1
        adam_step(param.data, grad, state["m"], state["v"], lr=self.lr, beta1=self.betas[0],
                  beta2=self.betas[1], eps=self.eps, weight_decay=self.weight_decay,
                  step=state["step"], decoupled=self.decoupled)

    def _settings(self) -> str:
        return f"lr={self.lr:g}, betas={self.betas}, eps={self.eps:g}, weight_decay={self.weight_decay:g}"


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): weight decay decoupled from the gradient,
    p -= lr * weight_decay * p at every step, whatever the gradient's size."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)
