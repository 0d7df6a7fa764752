"""An encoder-decoder Transformer for sequence-to-sequence tasks such as summarization.

    memory = BertModel(source)                                       (B, Ts, d)
    h      = DecoderLayers(embed(target so far), memory)             (B, Td, d)
    logits = h E^T + bias                                            (B, Td, V)

One token table E serves the encoder input, the decoder input and the output projection
(three uses of one Parameter). Training feeds the whole target shifted right ("teacher
forcing"); generation feeds back its own predictions one token at a time (``greedy_decode``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import functional as F
from ..autograd import Tensor, no_grad
from ..backend import array_module, to_numpy
from . import init
from .attention import padding_mask
from .bert import BertConfig, BertEmbeddings, BertModel, init_weights
from .layers import ModuleList
from .module import Module
from .transformer import DecoderLayer


class EncoderDecoder(Module):
    """A BERT-style encoder (``encoder``) and a decoder stack (``decoder_embeddings``,
    ``decoder_layers``) of config.num_layers DecoderLayers, sharing one token table."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.encoder = BertModel(dataclasses.replace(config, pooler=False))
        token_weight = self.encoder.embeddings.token.weight  # (V, d), shared by all three uses
        self.decoder_embeddings = BertEmbeddings(config, token_weight=token_weight, segments=False)
        self.decoder_layers = ModuleList(
            DecoderLayer(config.hidden_size, config.num_heads, config.ff_size, config.dropout, config.layer_norm_eps)
            for _ in range(config.num_layers))
        self.output_bias = init.zeros((config.vocab_size,))
        init_weights(self.decoder_layers, config.init)  # the encoder initialised itself

    def encode(self, input_ids, attention_mask=None) -> Tensor:
        """The source read by the encoder: (B, Ts) ids -> memory (B, Ts, d)."""
        return self.encoder(input_ids, attention_mask=attention_mask)

    def decode(self, decoder_input_ids, memory: Tensor, attention_mask=None, decoder_attention_mask=None) -> Tensor:
        """Next-token logits (B, Td, V) for every prefix of ``decoder_input_ids`` (B, Td).

        ``attention_mask`` (B, Ts) marks the real source tokens, ``decoder_attention_mask``
        (B, Td) the real target tokens (True = real).
        """
        h = self.decoder_embeddings(decoder_input_ids)  # (B, Td, d)
        xp = array_module(h.data)
        if attention_mask is not None:
            attention_mask = padding_mask(attention_mask, memory.shape[0], memory.shape[1], xp, "attention_mask")
        if decoder_attention_mask is not None:
            decoder_attention_mask = padding_mask(decoder_attention_mask, h.shape[0], h.shape[1], xp,
                                                  "decoder_attention_mask")
        for layer in self.decoder_layers:
            h = layer(h, memory, memory_mask=attention_mask, self_mask=decoder_attention_mask)  # (B, Td, d)
        token_weight = self.decoder_embeddings.token.weight
        return F.linear(h, token_weight.T, self.output_bias)  # (B, Td, d) @ (d, V) -> (B, Td, V)

    def forward(self, input_ids, attention_mask, decoder_input_ids, decoder_attention_mask=None) -> Tensor:
        """Logits (B, Td, V): position t predicts target token t + 1 from target tokens 0..t."""
        memory = self.encode(input_ids, attention_mask)  # (B, Ts, d)
        return self.decode(decoder_input_ids, memory, attention_mask, decoder_attention_mask)

    def loss(self, input_ids, attention_mask, decoder_input_ids, labels, decoder_attention_mask=None) -> Tensor:
        """Mean cross-entropy of the logits against ``labels`` (B, Td); label -100 is ignored."""
        logits = self(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask)
        return F.cross_entropy(logits, labels)

    @no_grad()
    def greedy_decode(self, input_ids, attention_mask, bos_id: int, eos_id: int, max_len: int,
                      pad_id: int = 0) -> np.ndarray:
        """Generate up to ``max_len`` tokens per source, each the most likely next one.

        Starts from ``bos_id``; a sequence stops at its first ``eos_id`` (kept in the output;
        later places hold ``pad_id``), and decoding stops when every sequence has stopped.
        Returns a NumPy int64 array (B, n), n <= max_len, without the leading BOS. Runs in
        evaluation mode (no dropout) and recomputes the whole prefix at every step.
        """
        if not 1 <= max_len <= self.config.max_position:
            raise ValueError(f"greedy_decode: max_len must be in 1..{self.config.max_position} "
                             f"(the position table), got {max_len}")
        was_training = self.training
        self.eval()
        try:
            memory = self.encode(input_ids, attention_mask)  # (B, Ts, d)
            xp = array_module(memory.data)
            batch = memory.shape[0]
            target = xp.full((batch, 1), bos_id, dtype=np.int64)  # (B, 1): BOS
            finished = xp.zeros(batch, dtype=bool)
            for _ in range(max_len):
                logits = self.decode(target, memory, attention_mask)  # (B, t, V)
                next_ids = logits.data[:, -1].argmax(axis=-1)  # (B,) the most likely next token
                next_ids = xp.where(finished, pad_id, next_ids)
                target = xp.concatenate([target, next_ids[:, None]], axis=1)  # (B, t + 1)
                finished |= next_ids == eos_id
                if bool(finished.all()):
                    break
        finally:
            self.train(was_training)
        return to_numpy(target[:, 1:])
