"""minipeft.bench.memory: a training step's memory computed from the shapes, checked against
the measurement of minipeft.bench.step_memory.

The measured activations are the arrays the graph keeps for backward; the computed ones
are a formula. They must agree, so that the formula can be trusted for BERT-Large, which
no test can build.
"""
import numpy as np
import pytest

import minipeft as mp
import minipeft.functional as F
from minipeft.bench.memory import PARTS, activation_bytes_formula, estimate_training_memory
from minipeft.bench.step_memory import activation_bytes, step_memory
from minipeft.optim import AdamW
from minipeft.nn import BertConfig, BertForSequenceClassification, count_parameters


def batch_of(config, batch, seq, padding=2, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), dtype=bool)
    mask[:, seq - padding:] = False
    return {"input_ids": rng.integers(5, config.vocab_size, (batch, seq)),
            "segment_ids": np.zeros((batch, seq), np.int64), "attention_mask": mask,
            "labels": rng.integers(0, 2, batch)}


def loss_fn(model, batch):
    logits = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])["logits"]
    return F.cross_entropy(logits, batch["labels"])


@pytest.mark.parametrize("config, batch, seq", [
    (BertConfig.preset("tiny", vocab_size=81), 8, 16),
    (BertConfig.preset("tiny", vocab_size=81, dropout=0.1), 4, 24),
    (BertConfig(vocab_size=50, hidden_size=48, num_layers=3, num_heads=6, ff_size=100, max_position=40), 5, 33),
])
def test_activation_formula_matches_what_the_graph_keeps(config, batch, seq):
    mp.manual_seed(0)
    model = BertForSequenceClassification(config, 2, pooling="mean")
    loss = loss_fn(model, batch_of(config, batch, seq))
    measured = activation_bytes(loss, exclude=[p.data for p in model.parameters()])
    assert measured == pytest.approx(activation_bytes_formula(config, batch, seq), rel=1e-3)


def test_activations_grow_with_the_square_of_the_length_through_attention():
    config = BertConfig.preset("tiny", vocab_size=81)
    short, long = activation_bytes_formula(config, 8, 32), activation_bytes_formula(config, 8, 64)
    assert 2.0 < long / short < 4.0  # linear terms double, the T^2 attention term quadruples


def test_measured_step_matches_the_computed_one():
    config = BertConfig.preset("tiny", vocab_size=81)
    mp.manual_seed(0)
    model = BertForSequenceClassification(config, 2, pooling="mean")
    parts = step_memory(model, loss_fn, batch_of(config, 8, 12), AdamW(model.parameters(), lr=1e-4))
    assert set(parts) == set(PARTS) | {"total"}
    n = model.num_parameters()
    unused = model.bert.pooler.dense.weight.size + model.bert.pooler.dense.bias.size  # mean pooling skips it
    assert parts["parameters"] == 4 * n
    assert parts["gradients"] == 4 * (n - unused)  # the pooler gets no gradient, hence no Adam state
    assert parts["optimizer_state"] == 8 * (n - unused)
    assert parts["activations"] == pytest.approx(activation_bytes_formula(config, 8, 12), rel=1e-3)
    computed = estimate_training_memory(config, 8, 12)
    head = 4 * (config.hidden_size * 2 + 2)  # the classifier: in the model, not in BertModel's count
    assert parts["parameters"] - head == computed["parameters"]
    assert computed["optimizer_state"] == 2 * computed["gradients"] == 2 * computed["parameters"]


def test_bert_large_costs_sixteen_bytes_per_parameter_before_activations():
    large = BertConfig.preset("large")
    assert count_parameters(large) == 335_141_888
    parts = estimate_training_memory(large, batch=32, seq=128)
    assert parts["parameters"] == 4 * 335_141_888
    assert parts["parameters"] + parts["gradients"] + parts["optimizer_state"] == 16 * 335_141_888
    assert parts["activations"] > parts["parameters"]  # at batch 32 x 128 the activations dominate
    frozen = estimate_training_memory(large, batch=32, seq=128, trainable_fraction=0.02)
    assert frozen["optimizer_state"] < parts["optimizer_state"] / 40
