"""The prefix module, and the wrapper that fills an attention's ``extra_keys_values`` hook.

    Prefix(P, d):   P trainable keys and P values for one attention: (B,) -> ((B, P, d), (B, P, d))
                    2 x P x d parameters

With it, an attention over x computes, per head (Li and Liang, 2021),

    softmax(q [P_k; k]^T / sqrt(dh)) [P_v; v]                (B, H, T, dh)

so every query can also read P learned positions. Reparameterised (``hidden`` given):
[P_k, P_v] = tanh(E W_1 + b_1) W_2 + b_2 with E (P, d), an MLP Li and Liang found steadier to
train; ``fold`` computes it once and keeps only P_k and P_v.
"""
from __future__ import annotations

from ... import functional as F
from ...autograd import Tensor, no_grad
from ...nn import init
from ...nn.layers import Linear
from ...nn.module import Module, Parameter
from ..wrapper import TaskWrapper


class Prefix(Module):
    """P keys and P values of width d (``keys``, ``values`` (P, d)), or an MLP that makes them."""

    def __init__(self, length: int, d_model: int, hidden: int | None = None):
        super().__init__()
        self.length, self.d_model = length, d_model
        if hidden is None:
            self.keys = init.normal((length, d_model), 0.02)  # (P, d)
            self.values = init.normal((length, d_model), 0.02)  # (P, d)
        else:
            self.embedding = init.normal((length, d_model), 1.0)  # (P, d): E
            self.hidden = Linear(d_model, hidden)
            self.output = Linear(hidden, 2 * d_model)

    @property
    def folded(self) -> bool:
        return "keys" in self._parameters

    def keys_values(self) -> tuple[Tensor, Tensor]:
        """(P_k, P_v), each (P, d)."""
        if self.folded:
            return self.keys, self.values
        both = self.output(self.hidden(self.embedding).tanh())  # (P, 2d)
        return both[:, :self.d_model], both[:, self.d_model:]

    def forward(self, batch: int):
        keys, values = self.keys_values()
        return F.stack([keys] * batch, axis=0), F.stack([values] * batch, axis=0)  # (B, P, d) each

    def fold(self) -> None:
        """Compute P_k and P_v once from the MLP, keep them as the parameters, drop the MLP."""
        if self.folded:
            return
        with no_grad():
            keys, values = self.keys_values()
        for name in ("embedding", "hidden", "output"):
            delattr(self, name)
        self.keys, self.values = Parameter(keys.data.copy()), Parameter(values.data.copy())

    def extra_repr(self) -> str:
        form = "" if self.folded else ", through an MLP"
        return f"{self.length} keys and values of width {self.d_model}{form}, {self.num_parameters():,} parameters"


class PrefixWrapper(TaskWrapper):
    """Fills ``MultiHeadAttention.extra_keys_values``: the active task's prefix (``prefixes``: name -> Prefix)."""

    TASKS_ATTR = "prefixes"

    def apply_task(self, name: str | None, batch: int):
        return None if name is None else self.prefixes[name](batch)

    def describe_task(self, prefix: Prefix) -> str:
        return f"P={prefix.length}"
