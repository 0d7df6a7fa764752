"""Shared pieces for the adapter tests: a tiny BERT, a separable toy task, a few training steps
(the ``kit`` fixture hands them to a test).

The task ("halves"): every token of a sequence comes from the lower half of the vocabulary
(label 0) or every token from the upper half (label 1); ``flip=True`` swaps the labels, a
second task on the same inputs. A frozen random BERT with adapters learns it in a few
dozen steps; chance-level loss is ln 2 = 0.693.
"""
import types

import numpy as np
import pytest

import minipeft as mp
from minipeft.nn import BertConfig, BertForSequenceClassification

CONFIG = BertConfig.preset("tiny", hidden_size=32, num_layers=2, vocab_size=50, ff_size=64, max_position=16)


@pytest.fixture(autouse=True)
def seeded():
    mp.manual_seed(0)


def classifier(seed: int = 0, config: BertConfig = CONFIG) -> BertForSequenceClassification:
    """A fresh classifier (mean-pooled head, 2 labels) whose weights depend only on ``seed``."""
    mp.manual_seed(seed)
    return BertForSequenceClassification(config, num_labels=2, pooling="mean")


def halves(rng, n: int = 32, length: int = 8, flip: bool = False):
    """(ids (n, length), labels (n,)): the toy task of the module docstring."""
    labels = rng.integers(0, 2, n)
    ids = rng.integers(2, 26, (n, length)) + 24 * labels[:, None]
    return ids, (1 - labels if flip else labels)


def train_steps(model, steps: int, lr: float = 1e-2, flip: bool = False, seed: int = 0) -> list[float]:
    """Adam over the trainable parameters only, ``steps`` batches of the halves task; the losses."""
    model.train()
    optimizer = mp.optim.Adam(model.parameters(trainable_only=True), lr=lr)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        ids, labels = halves(rng, flip=flip)
        optimizer.zero_grad()
        loss = model(ids, labels=labels)["loss"]
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data))
    return losses


def logits(model, ids) -> np.ndarray:
    """The model's logits in evaluation mode, without a graph."""
    model.eval()
    with mp.no_grad():
        return model(ids)["logits"].data.copy()


def heldout(flip: bool = False, n: int = 64):
    return halves(np.random.default_rng(99), n=n, flip=flip)


def accuracy(model, ids, labels) -> float:
    return float((logits(model, ids).argmax(-1) == labels).mean())


def snapshot(model) -> dict:
    """Everything that defines the model as it is: weights by name, which train, the printed tree."""
    return {"state": model.state_dict(), "trainable": [n for n, _ in model.named_parameters(trainable_only=True)],
            "ids": [id(p) for p in model.parameters()], "repr": repr(model)}


def assert_same(before: dict, after: dict) -> None:
    assert after["repr"] == before["repr"]
    assert after["trainable"] == before["trainable"]
    assert after["ids"] == before["ids"]
    assert list(after["state"]) == list(before["state"])
    for name, array in before["state"].items():
        assert np.array_equal(after["state"][name], array), name


@pytest.fixture
def kit():
    """The helpers above, as ``kit.classifier(...)``, ``kit.train_steps(...)``, ... (tests run with
    --import-mode=importlib, so they cannot import this file)."""
    return types.SimpleNamespace(CONFIG=CONFIG, classifier=classifier, halves=halves, train_steps=train_steps,
                                 logits=logits, heldout=heldout, accuracy=accuracy, snapshot=snapshot,
                                 assert_same=assert_same)
