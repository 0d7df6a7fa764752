"""The prompt module, and the wrapper that fills the embeddings' ``extra_positions`` hook.

    Prompt(P, d):   the same P trainable vectors before every sequence: (B,) -> (B, P, d)
                    P x d parameters

With it the embeddings compute, for ids (B, T),

    h0 = LN([prompt; E_token[ids]] + E_position[0..P+T-1] + E_segment[0; segments])   (B, P + T, d)

(with ``positions="keep"``: h0 = LN([prompt + E_segment[0]; E_token[ids] + E_position[0..T-1] + ...]),
the tokens where they were), the layers attend over all P + T positions (padding stays
hidden, the prompt never is), and
``BertModel`` returns the T token positions, so the head reads what it read without a
prompt. Unlike an adapter with a zero up-projection, a prompt changes the outputs from the
first step: every token now also attends to P new vectors.
"""
from __future__ import annotations

from ... import backend
from ... import functional as F
from ...autograd import Tensor
from ...nn import init
from ...nn.module import Module
from ..wrapper import TaskWrapper


class Prompt(Module):
    """P trainable vectors of width d (``vectors`` (P, d)), repeated for every row of a batch."""

    def __init__(self, length: int, d_model: int, start=None, shifts_tokens: bool = True):
        super().__init__()
        self.length, self.d_model, self.shifts_tokens = length, d_model, shifts_tokens
        self.vectors = init.normal((length, d_model), 0.02)  # (P, d)
        if start is not None:
            self.vectors.data[...] = backend.to_device(start, self.vectors.device)  # e.g. rows of the token table

    def forward(self, batch: int) -> Tensor:
        return F.stack([self.vectors] * batch, axis=0)  # (B, P, d)

    def extra_repr(self) -> str:
        moves = "the tokens move P places" if self.shifts_tokens else "the tokens keep their positions"
        return f"{self.length} x {self.d_model}, {self.length * self.d_model:,} parameters; {moves}"


class PromptWrapper(TaskWrapper):
    """Fills ``BertEmbeddings.extra_positions``: the active task's prompt (``prompts``: name -> Prompt), or None."""

    TASKS_ATTR = "prompts"

    @property
    def shifts_tokens(self) -> bool:
        """Whether the active task's prompt moves the tokens P positions on (the embeddings ask)."""
        return self.active not in self.prompts or self.prompts[self.active].shifts_tokens

    def apply_task(self, name: str | None, batch: int):
        return None if name is None else self.prompts[name](batch)

    def describe_task(self, prompt: Prompt) -> str:
        return f"P={prompt.length}"
