"""The benchmark's BERT classifier written as a PyTorch user writes it, to time minipeft against.

Imported only where torch is installed (it is never a dependency of minipeft): ``nn.Embedding``,
``nn.Linear``, ``nn.LayerNorm``, ``F.gelu`` and a softmax attention, fp32 eager. The attention is
spelt out (``softmax(q k^T / sqrt(dh)) v``) rather than ``F.scaled_dot_product_attention`` so that
both sides do the same arithmetic. Modules carry minipeft's own names, so ``from_minipeft`` copies
a minipeft model's weights one by one (a Linear's weight transposed: minipeft stores it (in, out),
``nn.Linear`` (out, in)) and freezes what minipeft froze, Houlsby adapters included.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Adapter(nn.Module):
    """h + W_up gelu(W_down h + b_down) + b_up, as minipeft's ``peft`` Adapter."""

    def __init__(self, d: int, bottleneck: int):
        super().__init__()
        self.down, self.up = nn.Linear(d, bottleneck), nn.Linear(bottleneck, d)

    def forward(self, h):
        return h + self.up(F.gelu(self.down(h), approximate="tanh"))


class SublayerOutput(nn.Module):
    """dense, then each adapter in ``adapters`` (minipeft's AdapterWrapper keeps the same names)."""

    def __init__(self, d_in: int, d: int):
        super().__init__()
        self.dense, self.adapters = nn.Linear(d_in, d), nn.ModuleDict()

    def forward(self, x):
        h = self.dense(x)
        for adapter in self.adapters.values():
            h = adapter(h)
        return h


class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.output = SublayerOutput(d, d)

    def forward(self, x):
        batch, length, d = x.shape

        def split(t):  # (B, T, d) -> (B, H, T, dh)
            return t.view(batch, length, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)  # (B, H, T, T)
        return self.output((probs @ v).transpose(1, 2).reshape(batch, length, d))


class FeedForward(nn.Module):
    def __init__(self, d: int, ff: int):
        super().__init__()
        self.intermediate, self.output = nn.Linear(d, ff), SublayerOutput(ff, d)

    def forward(self, x):
        return self.output(F.gelu(self.intermediate(x), approximate="tanh"))


class EncoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ff: int, eps: float):
        super().__init__()
        self.attention, self.attention_norm = Attention(d, heads), nn.LayerNorm(d, eps=eps)
        self.feed_forward, self.feed_forward_norm = FeedForward(d, ff), nn.LayerNorm(d, eps=eps)

    def forward(self, x):
        x = self.attention_norm(x + self.attention(x))
        return self.feed_forward_norm(x + self.feed_forward(x))


class Embeddings(nn.Module):
    def __init__(self, vocab: int, positions: int, d: int, eps: float):
        super().__init__()
        self.token, self.position = nn.Embedding(vocab, d), nn.Embedding(positions, d)
        self.segment, self.norm = nn.Embedding(2, d), nn.LayerNorm(d, eps=eps)

    def forward(self, ids):
        length = ids.shape[1]
        return self.norm(self.token(ids) + self.position.weight[:length] + self.segment.weight[0])


class Bert(nn.Module):
    def __init__(self, config):
        super().__init__()
        d, eps = config.hidden_size, config.layer_norm_eps
        self.embeddings = Embeddings(config.vocab_size, config.max_position, d, eps)
        self.layers = nn.ModuleList(EncoderLayer(d, config.num_heads, config.ff_size, eps)
                                    for _ in range(config.num_layers))
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(d, d)

    def forward(self, ids):
        h = self.embeddings(ids)
        for layer in self.layers:
            h = layer(h)
        return torch.tanh(self.pooler.dense(h[:, 0]))  # [CLS]


class BertForSequenceClassification(nn.Module):
    def __init__(self, config, num_labels: int = 2):
        super().__init__()
        self.bert, self.head = Bert(config), nn.Module()
        self.head.classifier = nn.Linear(config.hidden_size, num_labels)

    def forward(self, ids, labels):
        return F.cross_entropy(self.head.classifier(self.bert(ids)), labels)


def from_minipeft(model, config, device: str = "cpu") -> BertForSequenceClassification:
    """A torch copy of a minipeft ``BertForSequenceClassification`` (pooling "cls"): same weights,
    same adapters, the same parameters frozen."""
    named = dict(model.named_parameters())
    copy = BertForSequenceClassification(config)
    for name in named:
        if ".adapters." in name:  # e.g. bert.layers.0.attention.output.adapters.bench.down.weight
            holder, rest = name.split(".adapters.")
            adapter_name, adapters = rest.split(".")[0], copy.get_submodule(holder).adapters
            if adapter_name not in adapters:
                bottleneck = named[f"{holder}.adapters.{adapter_name}.down.bias"].shape[0]
                adapters[adapter_name] = Adapter(config.hidden_size, bottleneck)
    copy = copy.to(device)
    torch_params = dict(copy.named_parameters())
    if set(torch_params) != set(named):
        raise ValueError(f"the torch model's parameters differ from minipeft's: "
                         f"{sorted(set(torch_params) ^ set(named))}")
    with torch.no_grad():
        for name, parameter in named.items():
            value = torch.as_tensor(parameter.numpy(), device=device)
            is_linear_weight = name.endswith(".weight") and value.ndim == 2 and "embeddings" not in name
            torch_params[name].copy_(value.T if is_linear_weight else value)
            torch_params[name].requires_grad_(parameter.requires_grad)
    return copy
