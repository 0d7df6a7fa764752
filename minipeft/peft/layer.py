"""The adapter module, and the wrapper that plugs adapters into a Transformer layer.

    Adapter(d, m):   y = h + W_up f(W_down h + b_down) + b_up        (..., d) -> (..., d)
                     W_down (d, m), b_down (m,), W_up (m, d), b_up (d,): 2md + d + m parameters

    AdapterWrapper(sublayer):   y = Adapter_active(sublayer(x))     or sublayer(x) when none is active

Where it goes: every Transformer layer ends each sublayer with a ``SublayerOutput``
(projection + dropout); the layer then adds the residual and applies its layer norm.
``add_adapter`` replaces each SublayerOutput by an AdapterWrapper around it, so the
adapter sits exactly where Houlsby et al. put it:

    x = LN(x + Adapter(Drop(W_o Attn(x))))         x = LN(x + Adapter(Drop(W_2 GELU(W_1 x))))

The wrapper keeps the wrapped module's weights under their old names (it registers the
wrapped module's ``dense`` and ``dropout`` as its own children), so a wrapped model's base
weights are still called ``...attention.output.dense.weight``: base checkpoints still load,
and the base fingerprint does not depend on whether adapters are present. The adapters
themselves appear as ``...attention.output.adapters.<name>.down.weight``.
"""
from __future__ import annotations

from ..autograd import Tensor
from ..backend import array_module
from ..nn import init
from ..nn.layers import Linear, ModuleDict
from ..nn.module import Module
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

    def forward(self, h: Tensor) -> Tensor:
        # (..., d) -> (..., m) -> (..., d): the skip connection keeps h, the bottleneck adds a change
        return adapter_bottleneck(h, self.down.weight, self.down.bias, self.up.weight, self.up.bias,
                                  self.nonlinearity)

    def extra_repr(self) -> str:
        d, m = self.d_model, self.bottleneck
        return f"{d} -> {m} -> {d}, {self.nonlinearity}, {2 * m * d + d + m:,} parameters"


class AdapterWrapper(Module):
    """A SublayerOutput with named adapters after it; the active one (or none) is applied.

    Children: the wrapped module's own children (``dense``, ``dropout``, under their old
    names) and ``adapters`` (a ModuleDict, name -> Adapter). ``active`` is the name of the
    adapter applied in forward, or None for the wrapped module's plain output.
    ``base_layer`` is the wrapped module itself (not registered again: its weights are
    already listed under the old names).
    """

    def __init__(self, base_layer: Module):
        super().__init__()
        if isinstance(base_layer, AdapterWrapper):
            raise TypeError("AdapterWrapper: this module is already wrapped; add adapters to the existing wrapper")
        for name, child in base_layer.named_children():
            setattr(self, name, child)  # the same objects, so their weights keep their names
        for name, param in base_layer._parameters.items():
            setattr(self, name, param)
        object.__setattr__(self, "base_layer", base_layer)
        self.adapters = ModuleDict()
        object.__setattr__(self, "active", None)

    def forward(self, x: Tensor) -> Tensor:
        object.__setattr__(self.base_layer, "training", self.training)  # train()/eval() reach it through us
        h = self.base_layer(x)  # (..., d): projection + dropout, as without adapters
        if self.active is None or self.active not in self.adapters:
            return h
        return self.adapters[self.active](h)  # (..., d)

    def extra_repr(self) -> str:
        held = ", ".join(f"{name}: m={adapter.bottleneck}" for name, adapter in self.adapters.items())
        active = "none (base output)" if self.active is None else repr(self.active)
        return f"wraps {type(self.base_layer).__name__}; adapters: {{{held}}}, active={active}"
