"""minipeft.train.inspection: gradient norms per tensor (None for frozen ones, nothing changed),
parameters grouped by layer, and the printed tree of what trains."""
import numpy as np
import pytest

from minipeft.data import load_task
from minipeft.nn import BertForPreTraining
from minipeft.peft import AdapterConfig
from minipeft.train.inspection import describe_trainable, gradient_norms, layer_of
from minipeft.train.sweeps import choose_trainable, shared_task_model


@pytest.fixture(scope="module")
def tasks():
    return {"sentiment": load_task("sentiment", seed=0, n_train=48, n_dev=16, n_test=32)}


@pytest.fixture
def pretrained(config):
    return BertForPreTraining(config)


def test_gradient_norms_mark_frozen_tensors_and_change_nothing(pretrained, tasks):
    task = tasks["sentiment"]
    model = shared_task_model(pretrained, task, seed=0)
    choose_trainable(model, "adapter", adapter=AdapterConfig(bottleneck=2))
    before = model.state_dict()
    batch = next(task.batches("train", 8))
    norms = gradient_norms(model, task, batch)
    assert list(norms) == [name for name, _ in model.named_parameters()]
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert {name for name, v in norms.items() if v is None} == frozen
    # W_up starts at exactly zero, so W_down's gradient (which passes through W_up) is exactly zero
    assert all(norms[n] == 0.0 for n in norms if ".down." in n)
    assert all(norms[n] > 0 for n in norms if ".up.weight" in n)
    assert norms["bert.pooler.dense.weight"] is None
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())


def test_a_trainable_tensor_the_loss_ignores_gets_zero(pretrained, tasks):
    task = tasks["sentiment"]
    model = shared_task_model(pretrained, task, seed=0)
    choose_trainable(model, "full")
    norms = gradient_norms(model, task, next(task.batches("train", 8)))
    assert norms["bert.pooler.dense.weight"] == 0.0  # a mean-pooled head never reads the pooler
    assert norms["bert.embeddings.token.weight"] > 0


def test_layer_of_groups_parameter_names():
    assert layer_of("bert.layers.1.attention.query.weight") == "layer 1"
    assert layer_of("decoder_layers.0.cross_attention.key.bias") == "decoder layer 0"
    assert layer_of("bert.embeddings.token.weight") == "embeddings"
    assert layer_of("head.classifier.weight") == "head"
    assert layer_of("bert.pooler.dense.weight") == "pooler"


def test_describe_trainable_marks_adapters_and_their_layer_norms(pretrained, tasks):
    model = shared_task_model(pretrained, tasks["sentiment"], seed=0)
    choose_trainable(model, "adapter", adapter=AdapterConfig(bottleneck=2))
    text = describe_trainable(model.bert.layers[0])
    assert text.count("<== adapter (new, trained)") == 2
    assert text.count("<== the adapter's own copy of this layer norm") == 2
    assert "frozen" in text and "query" in text
