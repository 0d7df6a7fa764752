"""``PrefixTuningConfig``: the settings of one prefix-tuning task (Li and Liang, 2021).

    config = PrefixTuningConfig(num_virtual_tokens=10)
    config = PrefixTuningConfig(num_virtual_tokens=10, reparameterize=True)   # MLP while training

Fields
    num_virtual_tokens   P, how many trainable key and value vectors each attention gets
    reparameterize       train the prefix through a small MLP (P_k, P_v = MLP(E)), which Li and
                         Liang found steadier; ``fold_prefix`` computes the prefix once and
                         drops the MLP afterwards (the file then holds only P_k and P_v)
    hidden               the MLP's width (None: the model width d)
    layers, train_layer_norms, train_head: see ``minipeft.peft.config``
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import JsonConfig, check_layers, check_positive_int, check_slot_fields, set_field


@dataclass(frozen=True)
class PrefixTuningConfig(JsonConfig):
    """How to build one prefix-tuning task (see the module docstring for every field)."""

    num_virtual_tokens: int = 10
    reparameterize: bool = False
    hidden: int | None = None
    layers: tuple | None = None
    train_layer_norms: bool | str = False
    train_head: bool = True

    def __post_init__(self):
        set_field(self, "num_virtual_tokens", check_positive_int("PrefixTuningConfig", "num_virtual_tokens",
                                                                 self.num_virtual_tokens))
        if not isinstance(self.reparameterize, bool):
            raise ValueError(f"PrefixTuningConfig: reparameterize must be True or False, got {self.reparameterize!r}")
        if self.hidden is not None:
            set_field(self, "hidden", check_positive_int("PrefixTuningConfig", "hidden", self.hidden))
        set_field(self, "layers", check_layers("PrefixTuningConfig", self.layers))
        check_slot_fields("PrefixTuningConfig", self.train_layer_norms, self.train_head)
