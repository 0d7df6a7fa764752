"""``PromptTuningConfig``: the settings of one prompt-tuning task (Lester et al., 2021).

    config = PromptTuningConfig(num_virtual_tokens=20)

Fields
    num_virtual_tokens   P, how many trainable vectors go before the input's token vectors
    positions            "shift" (default, as Hugging Face peft does for BERT): the prompt takes
                         positions 0..P-1 and the input moves to P..P+T-1, so P + the longest
                         input must fit the position table, and the input sits at positions
                         pre-training may never have trained. "keep": the input keeps positions
                         0..T-1 and the prompt gets no position vector (it is trained anyway);
                         any P fits. (Lester et al. used T5, whose relative positions have no
                         table, so their inputs never moved to untrained positions.)
    init                 "vocab" (default): start each vector as the embedding of a random
                         token of the vocabulary, which Lester et al. found trains better than
                         "random" (N(0, 0.02^2), like the embedding tables)
    train_layer_norms, train_head: see ``minipeft.peft.config``
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import JsonConfig, check_choice, check_positive_int, check_slot_fields, set_field

PROMPT_INITS = ("vocab", "random")
PROMPT_POSITIONS = ("shift", "keep")


@dataclass(frozen=True)
class PromptTuningConfig(JsonConfig):
    """How to build one prompt-tuning task (see the module docstring for every field)."""

    num_virtual_tokens: int = 20
    positions: str = "shift"
    init: str = "vocab"
    train_layer_norms: bool | str = False
    train_head: bool = True

    def __post_init__(self):
        set_field(self, "num_virtual_tokens", check_positive_int("PromptTuningConfig", "num_virtual_tokens",
                                                                 self.num_virtual_tokens))
        check_choice("PromptTuningConfig", "positions", self.positions, PROMPT_POSITIONS)
        check_choice("PromptTuningConfig", "init", self.init, PROMPT_INITS)
        check_slot_fields("PromptTuningConfig", self.train_layer_norms, self.train_head)
