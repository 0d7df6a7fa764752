"""``BitFitConfig``: train only the bias terms (Ben Zaken et al., 2021), and the head.

    config = BitFitConfig()              # every bias in the Transformer layers, and the head
    config = BitFitConfig(layers=[1])    # the biases of layer 1 only

Fields
    layers, train_head: see ``minipeft.peft.config``.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import JsonConfig, check_layers, check_slot_fields, set_field


@dataclass(frozen=True)
class BitFitConfig(JsonConfig):
    """Which biases train (see the module docstring)."""

    layers: tuple | None = None
    train_head: bool = True

    train_layer_norms = False  # the layer norms' betas are biases and train; their gammas do not

    def __post_init__(self):
        set_field(self, "layers", check_layers("BitFitConfig", self.layers))
        check_slot_fields("BitFitConfig", False, self.train_head)
