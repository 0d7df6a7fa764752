"""``LoraConfig``: the settings of one LoRA task (Hu et al., 2021).

    config = LoraConfig(r=8, alpha=16)                                  # query and value, scale 2
    config = LoraConfig(r=4, target_modules=("query", "key", "value", "attention.output.dense"))

Fields
    r                  the rank of the change B A (1 <= r <= min(d_in, d_out), checked against
                       each chosen Linear when the task is added)
    alpha              the scale is alpha / r, so a sweep over r keeps the size of the first
                       updates about the same (Hu et al., section 4.1)
    target_modules     which Linears of each Transformer layer get a LoRA: a name matches a
                       Linear whose path inside the layer is that name or ends with "." + it
                       ("query" matches attention.query; "output.dense" both output projections).
                       Hu et al. adapt W_q and W_v, the default here.
    dropout            dropout on the Linear's input before A, while training
    layers, train_layer_norms, train_head: see ``minipeft.peft.config``. LoRA trains no layer
                       norms by default (Hu et al. train only A and B, and the head).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..config import JsonConfig, check_layers, check_positive_int, check_slot_fields, set_field


@dataclass(frozen=True)
class LoraConfig(JsonConfig):
    """How to build one LoRA task (see the module docstring for every field)."""

    r: int = 8
    alpha: float = 8.0
    target_modules: tuple = ("query", "value")
    dropout: float = 0.0
    layers: tuple | None = None
    train_layer_norms: bool | str = False
    train_head: bool = True

    def __post_init__(self):
        set_field(self, "r", check_positive_int("LoraConfig", "r", self.r, " (1 <= r <= min(d_in, d_out))"))
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < float("inf"):
            raise ValueError(f"LoraConfig: alpha must be a finite number > 0 (the scale is alpha / r), got "
                             f"{self.alpha!r}")
        set_field(self, "alpha", float(self.alpha))
        targets = (self.target_modules,) if isinstance(self.target_modules, str) else self.target_modules
        if not targets or not all(isinstance(t, str) and t for t in targets):
            raise ValueError(f"LoraConfig: target_modules must be a non-empty list of Linear names (e.g. "
                             f"('query', 'value')), got {self.target_modules!r}")
        set_field(self, "target_modules", tuple(targets))
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, numbers.Real) or not 0 <= self.dropout < 1:
            raise ValueError(f"LoraConfig: dropout must be in [0, 1), got {self.dropout!r}")
        set_field(self, "layers", check_layers("LoraConfig", self.layers))
        check_slot_fields("LoraConfig", self.train_layer_norms, self.train_head)

    @property
    def scale(self) -> float:
        """alpha / r: the factor on B A."""
        return self.alpha / self.r
