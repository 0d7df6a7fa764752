"""Turning lists of token ids into padded numpy batches.

A batch is a dict of numpy arrays, one row per example. Sequences in a batch have
different lengths, so each row is padded (with [PAD] = 0) to the longest sequence *of
that batch*, and ``attention_mask`` says which positions are real (True) and which are
padding (False). Targets that must be ignored at padded positions use -100, the value
the loss functions skip.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

IGNORE_INDEX = -100


def pad(rows: Sequence[Sequence[int]], value: int = 0, length: int | None = None) -> np.ndarray:
    """Stack int lists into a (B, T) int64 array, right-padded with ``value``."""
    length = max((len(r) for r in rows), default=0) if length is None else length
    out = np.full((len(rows), length), value, dtype=np.int64)
    for i, r in enumerate(rows):
        if len(r) > length:
            raise ValueError(f"row {i} has {len(r)} tokens, more than the length {length}")
        out[i, :len(r)] = r
    return out


def attention_mask(rows: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """(B, T) bool: True on each row's real tokens, False on its padding."""
    length = max((len(r) for r in rows), default=0) if length is None else length
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    return np.arange(length)[None, :] < lengths[:, None]


def index_batches(n: int, batch_size: int, shuffle: bool = False,
                  rng: np.random.Generator | None = None,
                  drop_last: bool = False) -> Iterator[np.ndarray]:
    """Yield arrays of example indices, ``batch_size`` at a time (one pass over n)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if shuffle:
        order = (rng if rng is not None else np.random.default_rng(0)).permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]
