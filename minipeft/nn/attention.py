"""Multi-head attention: every position reads from every other position, all at once.

For an input x (B, T, d) and H heads of size dh = d / H:

    q = x Wq + bq,  k = s Wk + bk,  v = s Wv + bv       s = x (self-attention) or memory (cross)
    split each into H heads                            (B, T, d) -> (B, H, T, dh)
    c = softmax(q k^T / sqrt(dh), masked) v            per head, one fused op
    y = Dropout(merge_heads(c) Wo + bo)                (B, H, T, dh) -> (B, T, d)

The last line is its own sub-module, ``SublayerOutput`` (``dense`` + ``dropout``): the
place where adapters attach. ``minipeft.peft`` wraps it from outside, so a wrapped model
computes Adapter(Dropout(dense(c))) before the layer's residual add and layer norm.

Masks are boolean with True = may attend:
    key_padding_mask (B, Tk)   True for real tokens, False for padding (no query looks at padding)
    causal=True                query t sees keys 0..t only (self-attention in a decoder)

A hook for extra keys and values: ``extra_keys_values`` (None by default) may hold a module
that, called with the batch size B, returns (keys, values), each (B, P, d), or None. They are
split into heads like k and v and put before them, so every query may also attend to P extra
positions (masks are extended: nothing hides them). Prefix tuning sets it; this module knows
nothing else about it.

Unlike Hugging Face's BERT there is no dropout on the attention weights themselves (the
fused op stays deterministic); the output dropout is there.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from .layers import Dropout, Linear
from .module import Module


class SublayerOutput(Module):
    """y = Dropout(x @ W + b): a sublayer's last projection and its dropout.

    Both the attention output projection and the second feed-forward projection are one
    of these. Wrapping one in a module that adds an adapter to its output places the
    adapter exactly where Houlsby et al. put it: after the projection and its dropout,
    before the residual add and the layer norm.
    """

    def __init__(self, in_features: int, out_features: int, dropout: float = 0.0):
        super().__init__()
        self.dense = Linear(in_features, out_features)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.dense(x))  # (..., out)


def padding_mask(mask, batch: int, length: int, xp, name: str = "key_padding_mask"):
    """``mask`` as a boolean array of shape (batch, length), True = a real token.

    Accepts a Tensor or array of booleans, or of integers (1 = real token, 0 = padding, as
    tokenizers often give); anything else, or any other shape, is a clear error.
    """
    data = xp.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if data.dtype.kind in "iu":
        data = data != 0
    if data.dtype != bool:
        raise TypeError(f"{name}: expected booleans (True = real token) or 0/1 integers, got dtype {data.dtype}")
    if data.shape != (batch, length):
        raise ValueError(f"{name}: expected shape (batch, length) = ({batch}, {length}), got {tuple(data.shape)}")
    return data


class MultiHeadAttention(Module):
    """Self- or cross-attention with H heads (see the module docstring for the math).

    Sub-modules: ``query``, ``key``, ``value`` (Linear d -> d) and ``output``
    (SublayerOutput: ``output.dense`` d -> d, then ``output.dropout``).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if d_model <= 0 or num_heads <= 0 or d_model % num_heads:
            raise ValueError(f"MultiHeadAttention: d_model ({d_model}) must be a positive multiple of "
                             f"num_heads ({num_heads})")
        self.d_model, self.num_heads, self.head_dim = d_model, num_heads, d_model // num_heads
        self.query = Linear(d_model, d_model)
        self.key = Linear(d_model, d_model)
        self.value = Linear(d_model, d_model)
        self.output = SublayerOutput(d_model, d_model, dropout)
        self.extra_keys_values = None  # the hook (see the module docstring)

    def forward(self, x: Tensor, key_padding_mask=None, causal: bool = False, memory: Tensor | None = None,
                return_weights: bool = False):
        """x (B, Tq, d) attends to itself, or to ``memory`` (B, Tk, d) when given.

        Returns y (B, Tq, d), or (y, weights (B, H, Tq, Tk)) with ``return_weights=True``.
        """
        source = x if memory is None else memory
        self._check_input(x, "x")
        if memory is not None:
            self._check_input(memory, "memory")
            if memory.shape[0] != x.shape[0]:
                raise ValueError(f"MultiHeadAttention: x has batch size {x.shape[0]} but memory has "
                                 f"{memory.shape[0]} (shapes {x.shape} and {memory.shape})")
            if causal:
                raise ValueError("MultiHeadAttention: causal=True is for self-attention; cross-attention "
                                 "over memory may look at every memory position")
        mask = self._mask(key_padding_mask, causal, x.shape[0], x.shape[1], source.shape[1], array_module(x.data))
        q = self._split_heads(self.query(x))  # (B, H, Tq, dh)
        k = self._split_heads(self.key(source))  # (B, H, Tk, dh)
        v = self._split_heads(self.value(source))  # (B, H, Tk, dh)
        extra = self.extra_keys_values(x.shape[0]) if self.extra_keys_values is not None else None
        if extra is not None:
            k, v, mask = self._prepend(extra, k, v, mask, x.shape[0], array_module(x.data))  # (B, H, P + Tk, dh)
        context = F.scaled_dot_product_attention(q, k, v, mask, return_weights=return_weights)
        context, weights = context if return_weights else (context, None)
        y = self.output(self._merge_heads(context))  # (B, Tq, d)
        return (y, weights) if return_weights else y

    def _prepend(self, extra, k: Tensor, v: Tensor, mask, batch: int, xp):
        """The hook's P keys and values before k and v, and the mask widened to let every query see them."""
        keys, values = extra
        for name, tensor in (("keys", keys), ("values", values)):
            if tensor.ndim != 3 or tensor.shape[0] != batch or tensor.shape[2] != self.d_model:
                raise ValueError(f"MultiHeadAttention.extra_keys_values: expected {name} of shape ({batch}, P, "
                                 f"{self.d_model}), got {tensor.shape}")
        k = F.concatenate([self._split_heads(keys), k], axis=2)  # (B, H, P + Tk, dh)
        v = F.concatenate([self._split_heads(values), v], axis=2)  # (B, H, P + Tk, dh)
        if mask is not None:
            seen = xp.ones(mask.shape[:-1] + (keys.shape[1],), dtype=bool)  # the P extra keys: never hidden
            mask = xp.concatenate([seen, mask], axis=-1)
        return k, v, mask

    def _check_input(self, x: Tensor, name: str) -> None:
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"MultiHeadAttention: expected {name} of shape (batch, length, {self.d_model}), "
                             f"got {x.shape}")

    @staticmethod
    def _mask(key_padding_mask, causal: bool, batch: int, tq: int, tk: int, xp):
        """The boolean mask (True = may attend) that the attention op broadcasts to (B, H, Tq, Tk)."""
        mask = None
        if key_padding_mask is not None:
            mask = padding_mask(key_padding_mask, batch, tk, xp)[:, None, None, :]  # (B, 1, 1, Tk)
        if causal:
            past = xp.tril(xp.ones((tq, tk), dtype=bool))  # (Tq, Tk): True where key j <= query t
            mask = past if mask is None else mask & past  # (B, 1, Tq, Tk)
        return mask

    def _split_heads(self, x: Tensor) -> Tensor:
        batch, length, _ = x.shape
        x = x.reshape(batch, length, self.num_heads, self.head_dim)  # (B, T, H, dh)
        return x.permute(0, 2, 1, 3)  # (B, H, T, dh)

    def _merge_heads(self, x: Tensor) -> Tensor:
        batch, _, length, _ = x.shape
        return x.permute(0, 2, 1, 3).reshape(batch, length, self.d_model)  # (B, H, T, dh) -> (B, T, d)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, num_heads={self.num_heads}"
