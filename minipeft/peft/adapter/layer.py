"""The adapter module, and the wrappers that plug adapters into a Transformer layer.

    Adapter(d, m):   y = h + W_up f(W_down h + b_down) + b_up        (..., d) -> (..., d)
                     W_down (d, m), b_down (m,), W_up (m, d), b_up (d,): 2md + d + m parameters

    AdapterWrapper(sublayer_output):   y = Adapter_active(sublayer_output(x))     serial (Houlsby, Pfeiffer)
    ParallelAdapterWrapper(sublayer):  y = sublayer(x) + W_up f(W_down x + b_down) + b_up    (He et al.)

Where the serial one goes: every Transformer layer ends each sublayer with a
``SublayerOutput`` (projection + dropout); the layer then adds the residual and applies its
layer norm. Wrapping a SublayerOutput puts the adapter exactly where Houlsby et al. put it:

    x = LN(x + Adapter(Drop(W_o Attn(x))))         x = LN(x + Adapter(Drop(W_2 GELU(W_1 x))))

The parallel one wraps the whole sublayer (the attention, or the feed-forward block), so its
adapter reads the sublayer's input x and adds its change to the sublayer's output.

Base weights keep their names (see ``minipeft.peft.wrapper``); the adapters themselves appear
as ``...attention.output.adapters.<name>.down.weight`` (serial) or
``...attention.adapters.<name>.down.weight`` (parallel).
"""
from __future__ import annotations

from ...autograd import Tensor
from ...backend import array_module
from ...nn import init
from ...nn.layers import Linear
from ...nn.module import Module
from ..wrapper import TaskWrapper
from .config import DOWN_INITS, NONLINEARITIES, UP_INITS
from .fused import adapter_bottleneck


class Adapter(Module):
    """y = h + W_up f(W_down h + b_down) + b_up: a bottleneck of width m with a skip connection.

    ``down`` (Linear d -> m) starts Xavier-uniform ("xavier") or N(0, init_std) truncated
    ("normal"); ``up`` (Linear m -> d) starts at exactly zero ("zero"), so the adapter starts as
    the identity, or N(0, init_std) truncated ("normal"), near the identity. Biases start at 0.
    """

    def __init__(self, d_model: int, bottleneck: int, nonlinearity: str = "gelu", up_init: str = "zero",
                 down_init: str = "xavier", init_std: float = 1e-2):
        super().__init__()
        if not 1 <= bottleneck <= d_model:
            raise ValueError(f"Adapter: bottleneck m = {bottleneck} must be in 1..d = {d_model}")
        for field, value, choices in (("nonlinearity", nonlinearity, NONLINEARITIES),
                                      ("up_init", up_init, UP_INITS), ("down_init", down_init, DOWN_INITS)):
            if value not in choices:
                raise ValueError(f"Adapter: {field} must be one of {choices}, got {value!r}")
        self.d_model, self.bottleneck, self.nonlinearity = d_model, bottleneck, nonlinearity
        self.down = Linear(d_model, bottleneck)  # Xavier-uniform: a normal scale
        self.up = Linear(bottleneck, d_model)
        if down_init == "normal":
            self.down.weight.data = init.truncated_normal((d_model, bottleneck), init_std).data
        if up_init == "zero":
            self.up.weight.data = array_module(self.up.weight.data).zeros_like(self.up.weight.data)
        else:
            self.up.weight.data = init.truncated_normal((bottleneck, d_model), init_std).data

    def forward(self, h: Tensor, skip: Tensor | None = None) -> Tensor:
        """h + change(h), or skip + change(h) when ``skip`` is given (the parallel placement)."""
        # (..., d) -> (..., m) -> (..., d): the skip connection keeps h, the bottleneck adds a change
        return adapter_bottleneck(h, self.down.weight, self.down.bias, self.up.weight, self.up.bias,
                                  self.nonlinearity, skip)

    def extra_repr(self) -> str:
        d, m = self.d_model, self.bottleneck
        return f"{d} -> {m} -> {d}, {self.nonlinearity}, {2 * m * d + d + m:,} parameters"


class AdapterWrapper(TaskWrapper):
    """A SublayerOutput with named adapters after it (``adapters``: name -> Adapter); the active one
    (or none) is applied to its output. ``base_layer`` is the wrapped module."""

    TASKS_ATTR = "adapters"

    def apply_task(self, name: str | None, x: Tensor) -> Tensor:
        h = self.base_layer(x)  # (..., d): projection + dropout, as without adapters
        return h if name is None else self.adapters[name](h)  # (..., d)

    def describe_task(self, adapter: Adapter) -> str:
        return f"m={adapter.bottleneck}"


class ParallelAdapterWrapper(TaskWrapper):
    """A sublayer (attention or feed-forward) with named adapters beside it: the active adapter reads
    the sublayer's input x and adds W_up f(W_down x + b_down) + b_up to the sublayer's output."""

    TASKS_ATTR = "adapters"

    def apply_task(self, name: str | None, x: Tensor, *args, **kwargs):
        out = self.base_layer(x, *args, **kwargs)  # (B, T, d), or (y, attention weights)
        if name is None:
            return out
        y, rest = (out[0], out[1:]) if isinstance(out, tuple) else (out, None)
        y = self.adapters[name](x, skip=y)  # sublayer(x) + change(x), (B, T, d)
        return y if rest is None else (y, *rest)

    def describe_task(self, adapter: Adapter) -> str:
        return f"m={adapter.bottleneck}, parallel"
