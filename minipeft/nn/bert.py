"""BERT: embeddings, a stack of post-LN encoder layers, and a pooler, configured by ``BertConfig``.

    h0 = LN(E_token[ids] + E_position[0..T-1] + E_segment[segments]),  then dropout
    h_l = EncoderLayer_l(h_{l-1}, padding mask)        l = 1..N   (B, T, d)
    pooled = tanh(h_N[:, 0] Wp + bp)                   the [CLS] position, for NSP / classification

Parameter names follow the module tree (``embeddings.token.weight``,
``layers.0.attention.query.weight``, ``layers.0.feed_forward.output.dense.weight``, ...).
``count_parameters(config)`` gives the size from the shapes alone, so BERT-Base and
BERT-Large can be counted on any laptop. The task heads are in ``heads.py``.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from . import init
from .attention import padding_mask
from .layers import Dropout, Embedding, LayerNorm, Linear, ModuleList
from .module import Module, Parameter
from .transformer import EncoderLayer

INIT_SCHEMES = ("bert", "xavier")

_PRESETS = {
    # d 64 and d 128: Xavier linears (BERT's N(0, 0.02) suits d = 768-1024, and is small for d = 64)
    # and no dropout, the recipe lesson 04 pre-trains with
    "tiny": dict(vocab_size=128, hidden_size=64, num_layers=2, num_heads=4, ff_size=256, max_position=64,
                 dropout=0.0, init="xavier"),
    "small": dict(vocab_size=1000, hidden_size=128, num_layers=4, num_heads=4, ff_size=512, max_position=128,
                  dropout=0.0, init="xavier"),
    # the shapes of Hugging Face's bert-base-uncased and bert-large-uncased
    "base": dict(vocab_size=30522, hidden_size=768, num_layers=12, num_heads=12, ff_size=3072, max_position=512,
                 dropout=0.1, init="bert"),
    "large": dict(vocab_size=30522, hidden_size=1024, num_layers=24, num_heads=16, ff_size=4096,
                  max_position=512, dropout=0.1, init="bert"),
}


@dataclass
class BertConfig:
    """The sizes of a BERT model. ``BertConfig.preset("tiny")`` gives a ready one.

    init: "bert" draws every Linear weight from N(0, 0.02) (as BERT did); "xavier" keeps
    Linear's Xavier-uniform start. Embeddings are N(0, 0.02) in both; layer norms start at
    gamma 1, beta 0. At d = 64, std 0.02 makes positions nearly blind to each other, so the
    tiny and small presets use "xavier".
    """

    vocab_size: int = 128
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    ff_size: int = 256
    max_position: int = 64
    type_vocab_size: int = 2
    dropout: float = 0.0
    layer_norm_eps: float = 1e-12
    init: str = "xavier"
    pooler: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "ff_size", "max_position",
                     "type_vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"BertConfig: {name} must be a positive integer, got {value!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"BertConfig: hidden_size ({self.hidden_size}) must be divisible by num_heads "
                             f"({self.num_heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"BertConfig: dropout must be in [0, 1), got {self.dropout}")
        if self.layer_norm_eps <= 0:
            raise ValueError(f"BertConfig: layer_norm_eps must be positive, got {self.layer_norm_eps}")
        if self.init not in INIT_SCHEMES:
            raise ValueError(f"BertConfig: init must be one of {INIT_SCHEMES}, got {self.init!r}")

    @property
    def d_model(self) -> int:
        """Another name for hidden_size."""
        return self.hidden_size

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @classmethod
    def preset(cls, name: str, **overrides) -> "BertConfig":
        """"tiny" (d 64, 2 layers), "small" (d 128, 4 layers), "base" or "large" (BERT's own sizes),
        with any field replaced by ``overrides``, e.g. ``preset("tiny", vocab_size=71)``."""
        if name not in _PRESETS:
            raise ValueError(f"BertConfig.preset: unknown preset {name!r}; choose one of {list(_PRESETS)}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise TypeError(f"BertConfig.preset: unknown fields {unknown}; the fields are {sorted(fields)}")
        return cls(**{**_PRESETS[name], **overrides})


def _linear_size(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out  # weight + bias


def parameter_breakdown(config: BertConfig) -> dict[str, int]:
    """Where BertModel's parameters are, from the shapes alone (no arrays are made).

    Keys: embeddings (token, position and segment tables), attention (query, key, value
    and output projections, all layers), feed_forward (both projections, all layers),
    layer_norms (the embedding one and two per layer), pooler. The values add up to
    ``count_parameters(config)``; divide attention or feed_forward by num_layers for one layer.
    """
    d, ff, layers = config.hidden_size, config.ff_size, config.num_layers
    return {
        "embeddings": (config.vocab_size + config.max_position + config.type_vocab_size) * d,
        "attention": layers * 4 * _linear_size(d, d),
        "feed_forward": layers * (_linear_size(d, ff) + _linear_size(ff, d)),
        "layer_norms": (1 + 2 * layers) * 2 * d,
        "pooler": _linear_size(d, d) if config.pooler else 0,
    }


def count_parameters(config: BertConfig) -> int:
    """BertModel(config).num_parameters(), without building it: 109,482,240 for "base"."""
    return sum(parameter_breakdown(config).values())


def init_weights(module: Module, scheme: str) -> None:
    """Re-draw the Linear weights of ``module`` by ``scheme`` (see BertConfig): "bert" = N(0, 0.02)."""
    if scheme == "bert":
        for sub in module.modules():
            if isinstance(sub, Linear):
                sub.weight.data = init.normal(sub.weight.shape, 0.02).data


def token_ids(ids, xp, vocab_size: int, max_position: int, name: str = "input_ids"):
    """``ids`` as an integer array (B, T), checked against the vocabulary and the position table."""
    data = xp.asarray(ids.data if isinstance(ids, Tensor) else ids)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{name}: token ids must be integers, got dtype {data.dtype}")
    if data.ndim != 2:
        raise ValueError(f"{name}: expected shape (batch, length), got {tuple(data.shape)}")
    if data.shape[1] > max_position:
        raise ValueError(f"{name}: sequences of length {data.shape[1]} are longer than the position table "
                         f"(max_position = {max_position})")
    if data.size and (int(data.min()) < 0 or int(data.max()) >= vocab_size):
        bad = int(data.min()) if int(data.min()) < 0 else int(data.max())
        raise ValueError(f"{name}: token id {bad} is outside the vocabulary of {vocab_size} "
                         f"(valid ids are 0..{vocab_size - 1})")
    return data


class BertEmbeddings(Module):
    """h0 = Dropout(LN(E_token[ids] + E_position[t] + E_segment[segments])), (B, T) ids -> (B, T, d).

    ``token_weight``: share another model's token table (the same Parameter), as the
    encoder-decoder's decoder does. ``segments=False`` leaves out the segment table.

    ``extra_positions`` is a hook, None by default: a module that, called with the batch size B,
    returns P vectors per sequence (B, P, d) to put before the token vectors, or None. The
    sequence is then P + T long and the output is (B, P + T, d). The extra vectors take segment
    0, and by default positions 0..P-1, which moves the tokens to positions P..P+T-1. A hook with
    ``shifts_tokens = False`` leaves the tokens at 0..T-1 and gives its vectors no position
    vector. (Prompt tuning sets it; this module knows nothing else about it.)
    """

    def __init__(self, config: BertConfig, token_weight: Parameter | None = None, segments: bool = True):
        super().__init__()
        self.config = config
        d = config.hidden_size
        self.token = Embedding(config.vocab_size, d)
        if token_weight is not None:
            self.token.weight = token_weight  # tied: one Parameter, two users
        self.position = Embedding(config.max_position, d)
        self.segment = Embedding(config.type_vocab_size, d) if segments else None
        self.norm = LayerNorm(d, config.layer_norm_eps)
        self.dropout = Dropout(config.dropout)
        self.extra_positions = None  # the hook (see the class docstring)

    def forward(self, input_ids, segment_ids=None) -> Tensor:
        xp = array_module(self.token.weight.data)
        ids = token_ids(input_ids, xp, self.config.vocab_size, self.config.max_position)
        vectors = self.token(ids)  # (B, T, d)
        segments = self._segments(segment_ids, ids, xp) if self.segment is not None else None  # (B, T)
        extra = self.extra_positions(ids.shape[0]) if self.extra_positions is not None else None
        if extra is None:
            h = vectors + self.position.weight[:vectors.shape[1]]  # (B, T, d) + (T, d)
        elif getattr(self.extra_positions, "shifts_tokens", True):
            vectors, segments = self._prepend(extra, vectors, segments, xp)  # (B, P + T, d), (B, P + T)
            h = vectors + self.position.weight[:vectors.shape[1]]  # extra: 0..P-1, tokens: P..P+T-1
        else:
            tokens = vectors + self.position.weight[:vectors.shape[1]]  # tokens keep 0..T-1
            h, segments = self._prepend(extra, tokens, segments, xp, shifted=False)  # extra: no position
        if segments is not None:
            h = h + self.segment(segments)  # (B, L, d)
        return self.dropout(self.norm(h))  # (B, L, d)

    def _prepend(self, extra: Tensor, vectors: Tensor, segments, xp, shifted: bool = True):
        """The extra positions before the tokens; they take segment 0. Checks that the position
        table holds the ``shifted`` tokens."""
        batch, length, d = vectors.shape
        if extra.ndim != 3 or extra.shape[0] != batch or extra.shape[2] != d:
            raise ValueError(f"BertEmbeddings.extra_positions: expected vectors of shape ({batch}, P, {d}), "
                             f"got {extra.shape}")
        if shifted and extra.shape[1] + length > self.config.max_position:
            raise ValueError(f"input_ids: sequences of length {length} with {extra.shape[1]} extra positions "
                             f"before them ({extra.shape[1] + length} in all) are longer than the position "
                             f"table (max_position = {self.config.max_position})")
        vectors = F.concatenate([extra, vectors], axis=1)  # (B, P + T, d)
        if segments is not None:
            segments = xp.concatenate([xp.zeros((batch, extra.shape[1]), dtype=segments.dtype), segments], axis=1)
        return vectors, segments

    def _segments(self, segment_ids, ids, xp):
        if segment_ids is None:
            return xp.zeros_like(ids)
        segments = xp.asarray(segment_ids.data if isinstance(segment_ids, Tensor) else segment_ids)
        if segments.shape != ids.shape:
            raise ValueError(f"segment_ids: expected the shape of input_ids {tuple(ids.shape)}, "
                             f"got {tuple(segments.shape)}")
        return token_ids(segments, xp, self.config.type_vocab_size, self.config.max_position, "segment_ids")


class Pooler(Module):
    """pooled = tanh(h[:, 0] Wp + bp): the [CLS] vector, transformed, (B, T, d) -> (B, d)."""

    def __init__(self, d_model: int):
        super().__init__()
        self.dense = Linear(d_model, d_model)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.dense(hidden[:, 0]).tanh()  # (B, d)


class BertModel(Module):
    """Embeddings, ``config.num_layers`` EncoderLayers and (if config.pooler) a Pooler.

    ``model(input_ids)`` gives the hidden states (B, T, d); ``model.pool(hidden)`` the
    pooled [CLS] vector (B, d). Its parameter count equals ``count_parameters(config)``.
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.layers = ModuleList(
            EncoderLayer(config.hidden_size, config.num_heads, config.ff_size, config.dropout, config.layer_norm_eps)
            for _ in range(config.num_layers))
        self.pooler = Pooler(config.hidden_size) if config.pooler else None
        init_weights(self, config.init)

    def forward(self, input_ids, segment_ids=None, attention_mask=None, return_weights: bool = False):
        """input_ids (B, T) ints, segment_ids (B, T) in {0, 1}, attention_mask (B, T) True = real token.

        Returns hidden states (B, T, d); with ``return_weights=True``, (hidden, a list of one
        (B, H, T, T) attention-weight Tensor per layer). When the embeddings' ``extra_positions``
        hook adds P positions before the tokens, the layers run on P + T positions (every token
        may attend to them, the mask is extended), the weights are (B, H, P + T, P + T), and the
        hidden states returned are the T token positions, so a head reads what it read before.
        """
        h = self.embeddings(input_ids, segment_ids)  # (B, P + T, d): P extra positions first, if any
        batch, total, _ = h.shape
        extra = total - len(input_ids[0])  # P: the positions the embeddings put before the T tokens
        if attention_mask is not None:
            xp = array_module(h.data)
            attention_mask = padding_mask(attention_mask, batch, total - extra, xp, "attention_mask")
            if extra:  # every token may attend to the extra positions
                attention_mask = xp.concatenate([xp.ones((batch, extra), dtype=bool), attention_mask], axis=1)
        weights = []
        for layer in self.layers:
            h = layer(h, attention_mask, return_weights=return_weights)
            if return_weights:
                h, w = h
                weights.append(w)
        if extra:
            h = h[:, extra:]  # (B, T, d): the heads read the token positions, as without them
        return (h, weights) if return_weights else h

    def pool(self, hidden: Tensor) -> Tensor:
        """The [CLS] summary (B, d): tanh(dense(h[:, 0])), or h[:, 0] itself without a pooler."""
        return self.pooler(hidden) if self.pooler is not None else hidden[:, 0]
