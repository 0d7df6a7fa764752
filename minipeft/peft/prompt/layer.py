"""The prompt module, and the wrapper that fills the embeddings' ``extra_positions`` hook.

    Prompt(P, d):   the same P trainable vectors before every sequence: (B,) -> (B, P, d)
                    P x d parameters

With it the embeddings compute, for ids (B, T),

    h0 = LN([prompt; E_token[ids]] + E_position[0..P+T-1] + E_segment[0; segments])   (B, P + T, d)

the layers attend over all P + T positions (padding stays hidden, the prompt never is), and
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

    def __init__(self, length: int, d_model: int, start=None):
        super().__init__()
        self.length, self.d_model = length, d_model
        self.vectors = init.normal((length, d_model), 0.02)  # (P, d)
        if start is not None:
            self.vectors.data[...] = backend.to_device(start, self.vectors.device)  # e.g. rows of the token table

    def forward(self, batch: int) -> Tensor:
        return F.stack([self.vectors] * batch, axis=0)  # (B, P, d)

    def extra_repr(self) -> str:
        return f"{self.length} x {self.d_model}, {self.length * self.d_model:,} parameters"


class PromptWrapper(TaskWrapper):
    """Fills ``BertEmbeddings.extra_positions``: the active task's prompt (``prompts``: name -> Prompt), or None."""

    TASKS_ATTR = "prompts"

    def apply_task(self, name: str | None, batch: int):
        return None if name is None else self.prompts[name](batch)

    def describe_task(self, prompt: Prompt) -> str:
        return f"P={prompt.length}"
