"""The LoRA module, and the wrapper that puts LoRAs beside a Linear.

    LoraLayer(d_in, d_out, r):   h = x W0 + b + (alpha / r) (x A) B          (..., d_in) -> (..., d_out)
                                 A (d_in, r), B (r, d_out): r (d_in + d_out) parameters

(Hu et al. write h = W0 x + (alpha/r) B A x with column vectors; minipeft's Linear computes
x W with row vectors, so A and B appear in the other order and W0 is (d_in, d_out).)
A starts Xavier-uniform and B at exactly zero, so the change B A is zero at the start and
the model computes exactly its base outputs. Only A and B train; W0 stays frozen, so its
weight gradient is never computed.

Merging: since the change is linear, W = W0 + (alpha / r) A B is one Linear that computes
the same outputs with no extra product: ``merge`` returns it.
"""
from __future__ import annotations

from ... import functional as F
from ...autograd import Tensor
from ...backend import array_module
from ...nn import init
from ...nn.module import Module
from ..wrapper import LinearWrapper


class LoraLayer(Module):
    """One LoRA change: (alpha / r) (Drop(x) A) B added to the Linear's output."""

    def __init__(self, d_in: int, d_out: int, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        if not 1 <= r <= min(d_in, d_out):
            raise ValueError(f"LoraLayer: r = {r} must be in 1..min(d_in, d_out) = {min(d_in, d_out)}")
        self.d_in, self.d_out, self.r, self.scale, self.dropout = d_in, d_out, r, alpha / r, dropout
        self.A = init.xavier_uniform(d_in, r)  # (d_in, r)
        self.B = init.zeros((r, d_out))  # (r, d_out): B = 0, so the change starts at exactly 0

    def forward(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        base = F.linear(x, weight, bias)  # (..., d_out)
        low = F.linear(F.dropout(x, self.dropout, self.training), self.A)  # (..., r)
        return base + F.linear(low, self.B * self.scale)  # (..., d_out)

    def merge(self, weight, bias):
        """(W0 + (alpha / r) A B, b): one Linear's weight and bias with the change folded in."""
        xp = array_module(weight)
        return weight + self.scale * xp.matmul(self.A.data, self.B.data), bias

    def extra_repr(self) -> str:
        count = self.r * (self.d_in + self.d_out)
        return f"{self.d_in} -> {self.r} -> {self.d_out}, scale {self.scale:g}, {count:,} parameters"


class LoraWrapper(LinearWrapper):
    """A Linear with named LoRAs beside it (``lora``: name -> LoraLayer)."""

    TASKS_ATTR = "lora"

    def describe_task(self, layer: LoraLayer) -> str:
        return f"r={layer.r}"
