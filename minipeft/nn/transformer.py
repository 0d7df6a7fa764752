"""Transformer layers in BERT's post-LN form: attention, feed-forward, each with a
residual connection and a layer norm after it.

    EncoderLayer:  x = LN(x + Drop(Wo Attn(x)))             "attention" sublayer
                   x = LN(x + Drop(W2 GELU(W1 x)))          "feed_forward" sublayer
    DecoderLayer:  x = LN(x + Drop(Wo CausalSelfAttn(x)))
                   x = LN(x + Drop(Wo' CrossAttn(x, memory)))
                   x = LN(x + Drop(W2 GELU(W1 x)))

Every "Drop(W ...)" above is a ``SublayerOutput`` module (``dense`` + ``dropout``), and the
residual add and layer norm happen in the layer's own forward, after it. So replacing
one of them by a wrapper whose output is ``h + adapter(h)``, with h the wrapped module's
output, places the adapter exactly at Houlsby et al.'s position: after the projection
and its dropout, before the residual add and the layer norm. Their dotted names inside a
layer are listed in each class's ``SUBLAYER_OUTPUTS``.
"""
from __future__ import annotations

from ..autograd import Tensor
from .attention import MultiHeadAttention, SublayerOutput
from .layers import GELU, LayerNorm, Linear
from .module import Module


class FeedForward(Module):
    """y = Drop(GELU(x W1 + b1) W2 + b2): d -> ff -> d, applied to each position on its own.

    Sub-modules: ``intermediate`` (Linear d -> ff), ``activation`` (GELU), ``output``
    (SublayerOutput: ``output.dense`` ff -> d, then ``output.dropout``).
    """

    def __init__(self, d_model: int, ff_size: int, dropout: float = 0.0):
        super().__init__()
        self.intermediate = Linear(d_model, ff_size)
        self.activation = GELU()
        self.output = SublayerOutput(ff_size, d_model, dropout)

    def forward(self, x: Tensor) -> Tensor:
        h = self.activation(self.intermediate(x))  # (B, T, ff)
        return self.output(h)  # (B, T, d)


class EncoderLayer(Module):
    """One BERT layer, post-LN (see the module docstring).

        x = attention_norm(x + attention(x))          attention.output = Drop(Wo .)
        x = feed_forward_norm(x + feed_forward(x))    feed_forward.output = Drop(W2 .)

    Adapters (Houlsby) wrap the two modules named in ``SUBLAYER_OUTPUTS``.
    """

    SUBLAYER_OUTPUTS = ("attention.output", "feed_forward.output")

    def __init__(self, d_model: int, num_heads: int, ff_size: int, dropout: float = 0.0,
                 layer_norm_eps: float = 1e-12):
        super().__init__()
        self.attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.attention_norm = LayerNorm(d_model, layer_norm_eps)
        self.feed_forward = FeedForward(d_model, ff_size, dropout)
        self.feed_forward_norm = LayerNorm(d_model, layer_norm_eps)

    def forward(self, x: Tensor, attention_mask=None, return_weights: bool = False):
        """x (B, T, d), attention_mask (B, T) True for real tokens -> (B, T, d).

        With ``return_weights=True`` returns (x, attention weights (B, H, T, T)).
        """
        attended = self.attention(x, key_padding_mask=attention_mask, return_weights=return_weights)
        attended, weights = attended if return_weights else (attended, None)
        x = self.attention_norm(x + attended)  # (B, T, d)
        x = self.feed_forward_norm(x + self.feed_forward(x))  # (B, T, d)
        return (x, weights) if return_weights else x


class DecoderLayer(Module):
    """A Transformer decoder layer, post-LN: causal self-attention, cross-attention over the
    encoder's output (``memory``), feed-forward (see the module docstring).

        x = self_attention_norm(x + self_attention(x, causal))
        x = cross_attention_norm(x + cross_attention(x, memory))
        x = feed_forward_norm(x + feed_forward(x))
    """

    SUBLAYER_OUTPUTS = ("self_attention.output", "cross_attention.output", "feed_forward.output")

    def __init__(self, d_model: int, num_heads: int, ff_size: int, dropout: float = 0.0,
                 layer_norm_eps: float = 1e-12):
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.self_attention_norm = LayerNorm(d_model, layer_norm_eps)
        self.cross_attention = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attention_norm = LayerNorm(d_model, layer_norm_eps)
        self.feed_forward = FeedForward(d_model, ff_size, dropout)
        self.feed_forward_norm = LayerNorm(d_model, layer_norm_eps)

    def forward(self, x: Tensor, memory: Tensor, memory_mask=None, self_mask=None, return_weights: bool = False):
        """x (B, Td, d) the target so far, memory (B, Ts, d) the encoded source -> (B, Td, d).

        ``memory_mask`` (B, Ts) and ``self_mask`` (B, Td) are padding masks, True for real
        tokens. With ``return_weights=True`` returns (x, (self weights, cross weights)).
        """
        mine = self.self_attention(x, key_padding_mask=self_mask, causal=True, return_weights=return_weights)
        mine, self_weights = mine if return_weights else (mine, None)
        x = self.self_attention_norm(x + mine)  # (B, Td, d)
        read = self.cross_attention(x, key_padding_mask=memory_mask, memory=memory, return_weights=return_weights)
        read, cross_weights = read if return_weights else (read, None)
        x = self.cross_attention_norm(x + read)  # (B, Td, d)
        x = self.feed_forward_norm(x + self.feed_forward(x))  # (B, Td, d)
        return (x, (self_weights, cross_weights)) if return_weights else x
