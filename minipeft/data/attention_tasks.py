"""Lesson 02's recall task, dressed for a Transformer classifier: a [CLS] token in front.

``RecallTask`` (``minipeft.data.sequences``) hides one key token among distractors and
asks which key it was. An RNN answers from its last hidden state, so it must carry the
key across every later step. An encoder classifier answers from position 0, the
[CLS] token (as BERT does): there, attention can read the key directly, however far
away it is. ``ClsRecallTask`` wraps a RecallTask and puts one extra token, [CLS], in
front of every sequence:

    RecallTask(length=8, distance=8)          K2  d7  d0  d9  d4  d1  d1  d5      label 2
    ClsRecallTask(RecallTask(8, 8))    [CLS]  K2  d7  d0  d9  d4  d1  d1  d5      label 2
                                       pos 0  pos 1 = key_position

Token ids are the RecallTask's (keys ``0..C-1``, distractors ``C..V-1``) plus ``cls_id = V``,
so ``vocab_size`` is one larger. The labels, and every sequence after the [CLS], are
exactly those of the wrapped task for the same seed.

    task = ClsRecallTask(RecallTask(length=40))
    ids, labels = task.sample(512, seed=1)                  # (512, 41), (512,)
    for batch in task.batches(32, seed=0): ...              # {"input_ids", "labels"}, endless
    task.token_names(ids[0])                                # ["[CLS]", "K2", "d7", ...]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .sequences import RecallTask

CLS_NAME = "[CLS]"


@dataclass(frozen=True)
class ClsRecallTask:
    """A ``RecallTask`` with a [CLS] token (id ``recall.vocab_size``) before every sequence."""

    recall: RecallTask

    def __post_init__(self):
        if not isinstance(self.recall, RecallTask):
            raise TypeError(f"ClsRecallTask: expected a RecallTask, got {type(self.recall).__name__}")

    @property
    def cls_id(self) -> int:
        """The id of the [CLS] token: one past the recall task's ids."""
        return self.recall.vocab_size

    @property
    def vocab_size(self) -> int:
        return self.recall.vocab_size + 1

    @property
    def length(self) -> int:
        """Tokens per sequence, the [CLS] included."""
        return self.recall.length + 1

    @property
    def key_position(self) -> int:
        """Where the key sits (0-based, counting the [CLS] at 0)."""
        return self.recall.key_position + 1

    @property
    def num_classes(self) -> int:
        return self.recall.num_classes

    @property
    def chance(self) -> float:
        return self.recall.chance

    def add_cls(self, ids) -> np.ndarray:
        """Recall-task ids (n, T) -> (n, T + 1) with the [CLS] id in column 0."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[1] != self.recall.length:
            raise ValueError(f"ClsRecallTask.add_cls: expected ids of shape (n, {self.recall.length}), "
                             f"got {ids.shape}")
        return np.concatenate([np.full((ids.shape[0], 1), self.cls_id, dtype=ids.dtype), ids], axis=1)

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` sequences: ids (n, length) with [CLS] first, labels (n,); the same for the same seed."""
        ids, labels = self.recall.sample(n, seed)
        return self.add_cls(ids), labels

    def batches(self, batch_size: int, seed: int = 0) -> Iterator[dict]:
        """Endless fresh batches {"input_ids": (B, length), "labels": (B,)}, reproducible for a seed."""
        for ids, labels in self.recall.batches(batch_size, seed):
            yield {"input_ids": self.add_cls(ids), "labels": labels}

    def token_names(self, ids) -> list[str]:
        """Readable names of one sequence's ids: "[CLS]", keys "K0".."K{C-1}", distractors "d0", "d1", ..."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"ClsRecallTask.token_names: expected one sequence (1-D ids), got shape {ids.shape}")
        names = []
        for i in ids.tolist():
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"ClsRecallTask.token_names: id {i} is outside the vocabulary "
                                 f"0..{self.vocab_size - 1}")
            if i == self.cls_id:
                names.append(CLS_NAME)
            elif i < self.num_classes:
                names.append(f"K{i}")
            else:
                names.append(f"d{i - self.num_classes}")
        return names
