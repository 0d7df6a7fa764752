"""FLOPs of a BERT classifier from its shapes: what the counted matrix products should add up to.

A matrix product (m x k) @ (k x n) costs 2 m k n FLOPs (a multiply and an add for each of
the m n k terms). One encoder layer over N = B T tokens of width d, h heads of size d/h:

    projections   q, k, v, output     4 x 2 N d^2
    feed-forward  d -> ff -> d        2 x 2 N d ff
    attention     scores, weighted v  2 x 2 B T^2 d

Backward repeats each product twice (one for each input's gradient), so a step where
every input wants a gradient costs 3x the forward; a frozen weight skips one of the two.
"""
from __future__ import annotations

from ..nn import BertConfig


def encoder_layer_flops(config: BertConfig, batch: int, seq: int) -> int:
    tokens, d = batch * seq, config.hidden_size
    return 4 * 2 * tokens * d * d + 2 * 2 * tokens * d * config.ff_size + 2 * 2 * batch * seq * seq * d


def classifier_forward_flops(config: BertConfig, batch: int, seq: int, num_labels: int = 2) -> int:
    """Forward FLOPs of BertForSequenceClassification with the [CLS] pooler."""
    d = config.hidden_size
    pooler_and_head = 2 * batch * d * d + 2 * batch * d * num_labels
    return config.num_layers * encoder_layer_flops(config, batch, seq) + pooler_and_head


def full_training_step_flops(config: BertConfig, batch: int, seq: int, num_labels: int = 2) -> int:
    """Forward + backward with every weight trained: 3x the forward."""
    return 3 * classifier_forward_flops(config, batch, seq, num_labels)
