"""Tiny synthetic sequence tasks for the RNN lesson: remember one token across many others.

The recall task. Every sequence has ``length`` tokens. Exactly one of them is a *key*
(one of ``num_classes`` key tokens); it sits ``distance`` steps before the end, and every
other position holds a random *distractor*. The label is which key it was:

    length 10, distance 7, keys K0..K3, distractors d0..d15

    position   0    1    2    3    4    5    6    7    8    9
    tokens    d3   d11  d0   K2   d7   d7   d15  d4   d9   d1      label 2
                             ^-- 7 steps before the end (position length - distance)

A model that reads the sequence and answers after the last token must carry the key
across ``distance - 1`` distractors: a dependency of known, settable range. With
``distance == length`` the key is the first token ("copy the first token"). Chance
accuracy is ``1 / num_classes``.

Token ids: keys are ``0 .. num_classes - 1``, distractors ``num_classes .. vocab_size - 1``.
There is no padding; every row has the same length.

    task = RecallTask(length=30, distance=12)
    ids, labels = task.sample(512, seed=1)                    # a fixed test set
    for ids, labels in task.batches(32, seed=0): ...          # endless fresh training batches

Everything is NumPy and deterministic for a seed. This module depends on numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class RecallTask:
    """Recall the key token placed ``distance`` steps before the end of a sequence of ``length``.

    ``distance`` counts back from the end: 1 is the last token, ``length`` the first
    (None means ``length``). Classes are balanced in expectation (keys are drawn uniformly).
    """

    length: int = 30
    distance: int | None = None
    num_classes: int = 4
    num_distractors: int = 16

    def __post_init__(self):
        for name in ("length", "num_classes", "num_distractors"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"RecallTask: {name} must be a positive int, got {value!r}")
        if self.num_classes < 2:
            raise ValueError(f"RecallTask: num_classes must be at least 2, got {self.num_classes}")
        if self.distance is None:
            object.__setattr__(self, "distance", int(self.length))
        if not isinstance(self.distance, (int, np.integer)) or not 1 <= self.distance <= self.length:
            raise ValueError(f"RecallTask: distance must be an int in 1..length={self.length}, "
                             f"got {self.distance!r}")

    @property
    def vocab_size(self) -> int:
        """Keys plus distractors: the size of the embedding table a model needs."""
        return self.num_classes + self.num_distractors

    @property
    def key_position(self) -> int:
        """Index (0-based) of the key token in every sequence: ``length - distance``."""
        return self.length - self.distance

    @property
    def chance(self) -> float:
        """Accuracy of guessing: 1 / num_classes."""
        return 1.0 / self.num_classes

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` sequences: ids (n, length) int64 and labels (n,) int64, the same for the same seed."""
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"RecallTask.sample: n must be a positive int, got {n!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        ids = rng.integers(self.num_classes, self.vocab_size, size=(n, self.length), dtype=np.int64)
        labels = rng.integers(0, self.num_classes, size=n, dtype=np.int64)
        ids[:, self.key_position] = labels  # key token id == its class
        return ids, labels

    def batches(self, batch_size: int, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """An endless stream of fresh batches (ids (B, length), labels (B,)), reproducible for a seed.

        Each batch is new data, so a model cannot memorise the training set: what it
        learns is the rule. Take as many as you train for (``itertools.islice`` or zip).
        """
        rng = np.random.default_rng(seed)
        while True:
            yield self.sample(batch_size, rng)


def accuracy(logits, labels) -> float:
    """Fraction of rows whose largest logit is the label (logits (n, C) array-like, labels (n,))."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"accuracy: expected logits (n, C) and labels (n,), got {logits.shape} and {labels.shape}")
    return float((logits.argmax(axis=1) == labels).mean())
