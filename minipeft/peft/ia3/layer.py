"""The (IA)^3 module: a learned vector that rescales a Linear's output, or its input.

    IA3Scale(d_out, "output"):  y = (x W + b) * l          l (d_out,): the keys, the values
    IA3Scale(d_in, "input"):    y = (x * l) W + b          l (d_in,): the intermediate activation
                                                           before the second feed-forward Linear

l starts at ones, so the model starts exactly as the base model (x * 1 = x in floating point).
Liu et al. (2022) write it l_k * k, l_v * v and (l_ff * GELU(W_1 x)) W_2. Both forms are linear
in the Linear's weight, so they merge into it: W' = W diag(l), b' = b * l (output) or
W' = diag(l) W (input).
"""
from __future__ import annotations

from ... import functional as F
from ...autograd import Tensor
from ...nn import init
from ...nn.module import Module
from ..wrapper import LinearWrapper

SIDES = ("output", "input")


class IA3Scale(Module):
    """One learned scaling vector ``scale`` (ones at start), on the Linear's output or its input."""

    def __init__(self, size: int, side: str = "output"):
        super().__init__()
        if side not in SIDES:
            raise ValueError(f"IA3Scale: side must be one of {SIDES}, got {side!r}")
        self.size, self.side = size, side
        self.scale = init.ones((size,))  # (size,)

    def forward(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        if self.side == "input":
            return F.linear(x * self.scale, weight, bias)  # (..., d_out)
        return F.linear(x, weight, bias) * self.scale  # (..., d_out)

    def merge(self, weight, bias):
        """(W', b'): one Linear that computes the same (see the module docstring)."""
        if self.side == "input":
            return weight * self.scale.data[:, None], bias  # rows of W: one per input feature
        return weight * self.scale.data, (None if bias is None else bias * self.scale.data)

    def extra_repr(self) -> str:
        return f"{self.size} ({self.side})"


class IA3Wrapper(LinearWrapper):
    """A Linear with named (IA)^3 vectors (``ia3``: name -> IA3Scale)."""

    TASKS_ATTR = "ia3"

    def describe_task(self, module: IA3Scale) -> str:
        return f"scales {module.side}"
