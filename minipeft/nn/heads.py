"""Task heads on top of BertModel, and thin models that join the two and compute the loss.

    MaskedLMHead                logits = LN(GELU(h W + b)) E^T + bias     (B, T, V), E tied to the token table
    NextSentenceHead            logits = pooled Wn + bn                     (B, 2)
    SequenceClassificationHead  logits = Drop(pool(h)) Wc + bc              (B, C), pool = [CLS] or masked mean
    SpanQAHead                  start, end = h Ws, h We (padding masked)    (B, T) each

Losses are mean cross-entropies (``minipeft.functional.cross_entropy``); label -100 is ignored.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from ..kernels.attention import masked_score
from . import init
from .attention import padding_mask
from .bert import BertConfig, BertModel, init_weights
from .layers import GELU, Dropout, Embedding, LayerNorm, Linear
from .module import Module


class MaskedLMHead(Module):
    """Predict the token at every position: logits = LN(GELU(h W + b)) E^T + bias, (B, T, d) -> (B, T, V).

    The decoder weight is the token embedding table E itself (``decoder_weight`` is the same
    Parameter as ``token_embedding.weight``), so it is learned once and counted once.
    """

    def __init__(self, config: BertConfig, token_embedding: Embedding):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.activation = GELU()
        self.norm = LayerNorm(config.hidden_size, config.layer_norm_eps)
        self.decoder_weight = token_embedding.weight  # (V, d), tied
        self.bias = init.zeros((token_embedding.num_embeddings,))
        init_weights(self, config.init)

    def forward(self, hidden: Tensor) -> Tensor:
        h = self.norm(self.activation(self.dense(hidden)))  # (B, T, d)
        return F.linear(h, self.decoder_weight.T, self.bias)  # (B, T, d) @ (d, V) -> (B, T, V)


class NextSentenceHead(Module):
    """Is sentence B the real continuation of A? logits = pooled W + b, (B, d) -> (B, 2)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.classifier = Linear(config.hidden_size, 2)
        init_weights(self, config.init)

    def forward(self, pooled: Tensor) -> Tensor:
        return self.classifier(pooled)  # (B, 2)


def masked_mean(hidden: Tensor, attention_mask=None) -> Tensor:
    """The mean of h over the real tokens of each sequence: sum_t m_t h_t / sum_t m_t, (B, T, d) -> (B, d)."""
    if attention_mask is None:
        return hidden.mean(axis=1)
    xp = array_module(hidden.data)
    real = padding_mask(attention_mask, hidden.shape[0], hidden.shape[1], xp, "attention_mask")
    real = real.astype(hidden.dtype)[:, :, None]  # (B, T, 1): 1 for real tokens, 0 for padding
    count = xp.maximum(real.sum(axis=1), 1)  # (B, 1), at least 1 so an all-padding row gives 0
    return (hidden * Tensor(real)).sum(axis=1) / Tensor(count)  # (B, d)


class SequenceClassificationHead(Module):
    """One label per sequence: logits = Drop(features) W + b, (B, T, d) -> (B, num_labels).

    pooling="cls": the features are the pooled [CLS] vector (pass ``pooled=model.pool(h)``;
    without it, h[:, 0] itself). pooling="mean": the mean over real tokens, which works
    better for tiny models whose [CLS] has learned little.
    """

    POOLINGS = ("cls", "mean")

    def __init__(self, config: BertConfig, num_labels: int, pooling: str = "cls"):
        super().__init__()
        if pooling not in self.POOLINGS:
            raise ValueError(f"SequenceClassificationHead: pooling must be one of {self.POOLINGS}, got {pooling!r}")
        if num_labels < 1:
            raise ValueError(f"SequenceClassificationHead: num_labels must be at least 1, got {num_labels}")
        self.pooling, self.num_labels = pooling, num_labels
        self.dropout = Dropout(config.dropout)
        self.classifier = Linear(config.hidden_size, num_labels)
        init_weights(self, config.init)

    def forward(self, hidden: Tensor, attention_mask=None, pooled: Tensor | None = None) -> Tensor:
        if self.pooling == "mean":
            features = masked_mean(hidden, attention_mask)  # (B, d)
        else:
            features = pooled if pooled is not None else hidden[:, 0]  # (B, d)
        return self.classifier(self.dropout(features))  # (B, num_labels)

    def extra_repr(self) -> str:
        return f"num_labels={self.num_labels}, pooling={self.pooling!r}"


class SpanQAHead(Module):
    """Where does the answer start and end? (B, T, d) -> start logits (B, T), end logits (B, T).

    Padding positions (attention_mask False) get a huge negative logit, so they are never chosen.
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.qa_outputs = Linear(config.hidden_size, 2)
        init_weights(self, config.init)

    def forward(self, hidden: Tensor, attention_mask=None):
        logits = self.qa_outputs(hidden)  # (B, T, 2)
        start, end = logits[..., 0], logits[..., 1]  # (B, T) each
        if attention_mask is not None:
            real = padding_mask(attention_mask, hidden.shape[0], hidden.shape[1], array_module(hidden.data),
                                "attention_mask")
            start = start.masked_fill(~real, masked_score(start.dtype))
            end = end.masked_fill(~real, masked_score(end.dtype))
        return start, end


class BertForPreTraining(Module):
    """BERT with its two pre-training heads: masked LM (``mlm``) and next-sentence prediction (``nsp``).

    ``forward`` returns a dict with mlm_logits (B, T, V) and nsp_logits (B, 2), and, for the
    labels given, mlm_loss, nsp_loss and loss (their sum).
    """

    def __init__(self, config: BertConfig):
        super().__init__()
        self.bert = BertModel(config)
        self.mlm = MaskedLMHead(config, self.bert.embeddings.token)
        self.nsp = NextSentenceHead(config)

    def forward(self, input_ids, segment_ids=None, attention_mask=None, mlm_labels=None, nsp_labels=None) -> dict:
        hidden = self.bert(input_ids, segment_ids, attention_mask)  # (B, T, d)
        out = {"mlm_logits": self.mlm(hidden), "nsp_logits": self.nsp(self.bert.pool(hidden))}
        losses = []
        if mlm_labels is not None:
            out["mlm_loss"] = F.cross_entropy(out["mlm_logits"], mlm_labels)
            losses.append(out["mlm_loss"])
        if nsp_labels is not None:
            out["nsp_loss"] = F.cross_entropy(out["nsp_logits"], nsp_labels)
            losses.append(out["nsp_loss"])
        if losses:
            out["loss"] = losses[0] if len(losses) == 1 else losses[0] + losses[1]
        return out


class BertForSequenceClassification(Module):
    """BertModel (``bert``) + SequenceClassificationHead (``head``): dict with logits (B, C) and loss."""

    def __init__(self, config: BertConfig, num_labels: int, pooling: str = "cls"):
        super().__init__()
        self.bert = BertModel(config)
        self.head = SequenceClassificationHead(config, num_labels, pooling)

    def forward(self, input_ids, segment_ids=None, attention_mask=None, labels=None) -> dict:
        hidden = self.bert(input_ids, segment_ids, attention_mask)  # (B, T, d)
        pooled = self.bert.pool(hidden) if self.head.pooling == "cls" else None
        out = {"logits": self.head(hidden, attention_mask, pooled)}
        if labels is not None:
            out["loss"] = F.cross_entropy(out["logits"], labels)
        return out


class BertForQuestionAnswering(Module):
    """BertModel (``bert``) + SpanQAHead (``head``): dict with start_logits, end_logits (B, T) and
    loss = (CE(start) + CE(end)) / 2 when both positions are given."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.bert = BertModel(config)
        self.head = SpanQAHead(config)

    def forward(self, input_ids, segment_ids=None, attention_mask=None, start_positions=None,
                end_positions=None) -> dict:
        hidden = self.bert(input_ids, segment_ids, attention_mask)  # (B, T, d)
        start, end = self.head(hidden, attention_mask)
        out = {"start_logits": start, "end_logits": end}
        if start_positions is not None and end_positions is not None:
            out["loss"] = (F.cross_entropy(start, start_positions) + F.cross_entropy(end, end_positions)) * 0.5
        return out
