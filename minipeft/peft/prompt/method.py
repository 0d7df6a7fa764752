"""The prompt-tuning method: a Prompt in the ``extra_positions`` hook of each BertModel's embeddings.

Parameters: P x d (``prompt_parameter_count``; BERT-Large, P = 20: 20 x 1024 = 20,480).
"""
from __future__ import annotations

from ... import backend
from ...nn.bert import BertModel
from ...nn.module import Module
from ..config import check_positive_int
from ..method import PeftMethod, register
from ..state import Site, join
from .config import PromptTuningConfig
from .layer import Prompt, PromptWrapper


class PromptTuningMethod(PeftMethod):
    tag = "prompt"
    config_class = PromptTuningConfig

    def sites(self, model: Module, config: PromptTuningConfig) -> list[Site]:
        encoders = [(path, module) for path, module in model.named_modules() if isinstance(module, BertModel)]
        if not encoders:
            raise ValueError(f"PromptTuningConfig: {type(model).__name__} has no BertModel whose embeddings could "
                             f"take a prompt")
        sites = []
        for path, encoder in encoders:
            P, limit = config.num_virtual_tokens, encoder.config.max_position
            if config.positions == "shift" and P >= limit:
                raise ValueError(f"PromptTuningConfig: num_virtual_tokens = {P} leaves no room for the input in the "
                                 f"position table (max_position = {limit}); choose P + the longest input <= {limit}, "
                                 f"or positions='keep'")
            embeddings = encoder.embeddings
            prompt = Prompt(P, encoder.config.hidden_size, self._start(encoder, config),
                            shifts_tokens=config.positions == "shift")
            sites.append(Site(join(path, "embeddings.extra_positions"), embeddings, "extra_positions",
                              embeddings.extra_positions, -1, prompt))
        return sites

    @staticmethod
    def _start(encoder: BertModel, config: PromptTuningConfig):
        """The prompt's first values: rows of the token table ("vocab"), or None for random."""
        if config.init == "random":
            return None
        table = backend.to_numpy(encoder.embeddings.token.weight.data)  # (V, d)
        rows = backend.rng("cpu").integers(0, table.shape[0], config.num_virtual_tokens)  # the seeded generator
        return table[rows]  # (P, d)

    def wrap(self, site: Site, config: PromptTuningConfig) -> PromptWrapper:
        return PromptWrapper(None)


def prompt_parameter_count(d: int, length: int) -> int:
    """Parameters of a prompt of ``length`` vectors of width d: length x d."""
    check_positive_int("prompt_parameter_count", "d", d)
    check_positive_int("prompt_parameter_count", "length", length)
    return length * d


PROMPT = register(PromptTuningMethod())
