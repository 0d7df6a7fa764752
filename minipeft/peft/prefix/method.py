"""The prefix-tuning method: a Prefix in the ``extra_keys_values`` hook of every attention of the
chosen Transformer layers.

Parameters (folded): 2 x P x d per attention; an encoder of L layers: L x 2Pd
(``prefix_parameter_count``; BERT-Large, P = 10: 24 x 2 x 10 x 1024 = 491,520). While
reparameterised, each attention's MLP adds Pd + dh + h + 2hd + 2d for width h instead.
"""
from __future__ import annotations

import dataclasses

from ...nn.attention import MultiHeadAttention
from ...nn.module import Module
from ..config import check_positive_int
from ..method import PeftMethod, register
from ..state import Site, chosen_layers, join, require_state
from .config import PrefixTuningConfig
from .layer import Prefix, PrefixWrapper


class PrefixTuningMethod(PeftMethod):
    tag = "prefix"
    config_class = PrefixTuningConfig

    def sites(self, model: Module, config: PrefixTuningConfig) -> list[Site]:
        sites = []
        for layer_path, index, layer in chosen_layers(model, config.layers, "PrefixTuningConfig"):
            for path, attention in layer.named_modules():
                if isinstance(attention, MultiHeadAttention):
                    d = attention.d_model
                    hidden = (config.hidden or d) if config.reparameterize else None
                    sites.append(Site(join(layer_path, path, "extra_keys_values"), attention, "extra_keys_values",
                                      attention.extra_keys_values, index, Prefix(config.num_virtual_tokens, d, hidden)))
        return sites

    def wrap(self, site: Site, config: PrefixTuningConfig) -> PrefixWrapper:
        return PrefixWrapper(None)


def fold_prefix(model: Module, name: str) -> None:
    """Fold task ``name``'s MLP away: each Prefix keeps only P_k and P_v (the outputs do not change), and
    the task's config becomes ``reparameterize=False`` (so its file holds only those)."""
    state = require_state(model, "fold_prefix", name)
    record = state.tasks[name]
    if record.method != PREFIX.tag:
        raise ValueError(f"fold_prefix: task {name!r} is a {record.method!r} task, not a prefix")
    for _, prefix in state.task_modules(name):
        prefix.fold()
        for param in prefix.parameters():
            param.requires_grad = state.active == name
    record.config = dataclasses.replace(record.config, reparameterize=False, hidden=None)


def prefix_parameter_count(d: int, length: int, attentions: int) -> int:
    """Parameters of folded prefixes of ``length`` in ``attentions`` attention modules: attentions x 2 x length x d."""
    for label, value in (("d", d), ("length", length), ("attentions", attentions)):
        check_positive_int("prefix_parameter_count", label, value)
    return attentions * 2 * length * d


PREFIX = register(PrefixTuningMethod())
