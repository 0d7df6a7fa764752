"""``AdapterConfig``: the settings of one named adapter (Houlsby et al., 2019, and two later placements).

    config = AdapterConfig(bottleneck=8)                         # m = 8, GELU, up-projection zero
    config = AdapterConfig(bottleneck=8, layers=[2, 3])          # adapters in layers 2 and 3 only
    config = AdapterConfig(bottleneck=8, placement="parallel")   # beside each sublayer (He et al., 2022)

Fields
    bottleneck         m, the width of the adapter's narrow middle (1 <= m <= d, checked
                       against the model's hidden size d when the adapter is added)
    nonlinearity       f in h + W_up f(W_down h + b_down) + b_up: "gelu", "relu" or "tanh"
    up_init            "zero" (default): W_up starts at exactly 0, so the adapter starts as the
                       identity, bit for bit. "normal": a truncated normal of std ``init_std``
                       (near-identity, as in the paper).
    down_init          "xavier" (default): W_down at a normal scale (Xavier-uniform), so learning
                       starts at once. "normal": a truncated normal of std ``init_std``.
    init_std           the std of every projection whose init is "normal" (Houlsby: 1e-2 or less)
    placement          where the adapters go in each Transformer layer:
                       "houlsby"  (default) after every sublayer's output projection and dropout,
                                  before the residual add and layer norm: 2 per encoder layer
                                  x = LN(x + Adapter(Drop(W_o Attn(x))))
                       "pfeiffer" one adapter, after the feed-forward block only (Pfeiffer et al.,
                                  2021): x = LN(x + Adapter(Drop(W_2 GELU(W_1 x))))
                       "parallel" beside each sublayer, reading the sublayer's input and added
                                  to its output (He et al., 2022):
                                  x = LN(x + Sublayer(x) + W_up f(W_down x + b_down) + b_up)
    layers, train_layer_norms, train_head: see ``minipeft.peft.config``. The adapter trains
                       the layer norms inside the Transformer layers by default ("layers": 2
                       per encoder layer; BERT-Large's 98,304 = 24 x 2 x 2 x 1024, the count
                       in Houlsby et al.'s table; backward then stops below the first adapter).
                       Without its own copy of them, "adapter off" is not the base model
                       (lesson 07 measures it).

Why the initialisation defaults (measured in lesson 09): with both projections near zero
the gradient of each is proportional to the other, a saddle. Only the up-projection needs
to be near zero for the adapter to start near the identity; the down-projection at a
normal scale lets learning start on the first step. ``up_init="normal",
down_init="normal"`` is Houlsby's original scheme, kept for the init-scale sweep.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..config import JsonConfig, check_choice, check_layers, check_positive_int, check_slot_fields, set_field

NONLINEARITIES = ("gelu", "relu", "tanh")
UP_INITS = ("zero", "normal")
DOWN_INITS = ("xavier", "normal")
PLACEMENTS = ("houlsby", "pfeiffer", "parallel")


@dataclass(frozen=True)
class AdapterConfig(JsonConfig):
    """How to build one named adapter (see the module docstring for every field)."""

    bottleneck: int = 64
    nonlinearity: str = "gelu"
    up_init: str = "zero"
    down_init: str = "xavier"
    init_std: float = 1e-2
    layers: tuple | None = None
    train_layer_norms: bool | str = "layers"
    train_head: bool = True
    placement: str = "houlsby"

    def __post_init__(self):
        set_field(self, "bottleneck", check_positive_int("AdapterConfig", "bottleneck", self.bottleneck,
                                                         " (1 <= m <= d)"))
        for field, choices in (("nonlinearity", NONLINEARITIES), ("up_init", UP_INITS), ("down_init", DOWN_INITS),
                               ("placement", PLACEMENTS)):
            check_choice("AdapterConfig", field, getattr(self, field), choices)
        std = self.init_std
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not std >= 0 or std == float("inf"):
            raise ValueError(f"AdapterConfig: init_std must be a finite number >= 0, got {std!r}")
        set_field(self, "init_std", float(std))
        set_field(self, "layers", check_layers("AdapterConfig", self.layers))
        check_slot_fields("AdapterConfig", self.train_layer_norms, self.train_head)

    def check_fits(self, d_model: int) -> None:
        """Raise ValueError unless the bottleneck fits a model of hidden size ``d_model``."""
        if self.bottleneck > d_model:
            raise ValueError(f"AdapterConfig: bottleneck m = {self.bottleneck} is larger than the model's hidden "
                             f"size d = {d_model}; an adapter narrows d to m, so choose 1 <= m <= {d_model}")
