"""The freezing baselines as methods: slots only (see ``minipeft.peft.state``), no new modules.

Each task gets its own copy of the weights it trains, so they behave like every other
method: several tasks on one base, switching, disabling (the base exactly), kilobyte files.

    layer_norm   the layer norms' gammas and betas (2 x 2d per encoder layer) + the head
    head         the head only: d x labels + labels for a classifier
    top_layers   every weight of the top k Transformer layers + the head
"""
from __future__ import annotations

from ...nn.module import Module
from ..method import PeftMethod, register
from ..state import parameter_places, standard_slots, transformer_layers
from .config import HeadConfig, LayerNormConfig, TopLayersConfig


class LayerNormMethod(PeftMethod):
    tag = "layer_norm"
    config_class = LayerNormConfig


class HeadMethod(PeftMethod):
    tag = "head"
    config_class = HeadConfig


class TopLayersMethod(PeftMethod):
    tag = "top_layers"
    config_class = TopLayersConfig

    def carried(self, model: Module, config: TopLayersConfig) -> list[str]:
        """Every weight of the top k layers of each stack, then the head."""
        layers = transformer_layers(model)
        indices = sorted({index for _, index, _ in layers})
        if config.k > len(indices):
            raise ValueError(f"TopLayersConfig: k = {config.k}, but the model has {len(indices)} Transformer layers "
                             f"(choose 1 <= k <= {len(indices)})")
        top = set(indices[len(indices) - config.k:])
        prefixes = tuple(path + "." for path, index, _ in layers if index in top)
        names = [name for name in parameter_places(model) if name.startswith(prefixes)]
        return names + standard_slots(model, False, config.train_head)


LAYER_NORM, HEAD, TOP_LAYERS = register(LayerNormMethod()), register(HeadMethod()), register(TopLayersMethod())
