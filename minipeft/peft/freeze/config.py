"""Configs of the freezing baselines: train a part of the model itself, nothing new added.

    LayerNormConfig()      the layer norms (and the head): Houlsby et al.'s "layer norm only" baseline
    HeadConfig()           the task head alone: a linear probe of the frozen features
    TopLayersConfig(k=1)   the top k Transformer layers (and the head): the "top layers" baseline
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import JsonConfig, check_positive_int, check_slot_fields


@dataclass(frozen=True)
class LayerNormConfig(JsonConfig):
    """Train only the layer norms (``train_layer_norms``: "layers" = those in the Transformer layers,
    True = every one) and the head (``train_head``)."""

    train_layer_norms: bool | str = "layers"
    train_head: bool = True

    def __post_init__(self):
        check_slot_fields("LayerNormConfig", self.train_layer_norms, self.train_head)


@dataclass(frozen=True)
class HeadConfig(JsonConfig):
    """Train only the task head."""

    train_layer_norms = False  # not fields: what every config tells the core
    train_head = True


@dataclass(frozen=True)
class TopLayersConfig(JsonConfig):
    """Train the top ``k`` Transformer layers (every weight in them) and the head."""

    k: int = 1
    train_head: bool = True

    train_layer_norms = False  # the top layers' own layer norms train as part of them

    def __post_init__(self):
        check_positive_int("TopLayersConfig", "k", self.k)
        check_slot_fields("TopLayersConfig", False, self.train_head)
