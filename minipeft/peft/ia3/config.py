"""``IA3Config``: the settings of one (IA)^3 task (Liu et al., 2022).

    config = IA3Config()    # scale the keys, the values and the feed-forward intermediate activation

Fields
    target_modules         the Linears whose product a learned vector rescales (matched like
                           LoraConfig's: a path inside the layer, or its ending)
    feedforward_modules    those among the targets whose *input* is rescaled rather than their
                           output: scaling the input of the second feed-forward Linear scales
                           the intermediate activation GELU(x W_1), as the paper does
    layers, train_layer_norms, train_head: see ``minipeft.peft.config``
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import JsonConfig, check_layers, check_slot_fields, set_field


def _names(owner: str, field: str, value) -> tuple:
    names = (value,) if isinstance(value, str) else value
    if names is None or not all(isinstance(t, str) and t for t in names):
        raise ValueError(f"{owner}: {field} must be a list of Linear names, got {value!r}")
    return tuple(names)


@dataclass(frozen=True)
class IA3Config(JsonConfig):
    """How to build one (IA)^3 task (see the module docstring for every field)."""

    target_modules: tuple = ("attention.key", "attention.value", "feed_forward.output.dense")
    feedforward_modules: tuple = ("feed_forward.output.dense",)
    layers: tuple | None = None
    train_layer_norms: bool | str = False
    train_head: bool = True

    def __post_init__(self):
        set_field(self, "target_modules", _names("IA3Config", "target_modules", self.target_modules))
        if not self.target_modules:
            raise ValueError("IA3Config: target_modules is empty; name the Linears to rescale")
        set_field(self, "feedforward_modules", _names("IA3Config", "feedforward_modules", self.feedforward_modules))
        stray = [t for t in self.feedforward_modules if t not in self.target_modules]
        if stray:
            raise ValueError(f"IA3Config: feedforward_modules {stray} are not in target_modules "
                             f"{list(self.target_modules)}")
        set_field(self, "layers", check_layers("IA3Config", self.layers))
        check_slot_fields("IA3Config", self.train_layer_norms, self.train_head)
