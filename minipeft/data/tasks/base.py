"""What every task shares: examples, splits, a Task object, and batching.

A task is three splits of examples (``train``, ``dev``, ``test``) plus the rule that
turns a list of examples into a padded numpy batch (``collate``). The examples are
generated from the synthetic language with a seed, so ``load_task("sentiment", seed=0)``
gives the same data on every machine.

Splits never share an example: dev and test are drawn after train and any exact
duplicate of an earlier example is drawn again. The labelled training sets are small
on purpose (a few hundred examples): small enough that pre-training visibly helps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from ..batching import IGNORE_INDEX, attention_mask, index_batches, pad
from ..language import Dice
from ..tokenizer import Tokenizer

SPLIT_NAMES = ("train", "dev", "test")


# --------------------------------------------------------------------------- examples

@dataclass(frozen=True)
class ClassificationExample:
    """One sentence (``text_b`` None) or a sentence pair, and its class.

    ``seen`` is True when every adjective in the example is a *seen* adjective (one
    that labelled training sets may use); test sets mix seen and unseen examples.
    """

    text_a: tuple[str, ...]
    text_b: tuple[str, ...] | None
    label: int
    seen: bool = True

    @property
    def key(self):
        return (self.text_a, self.text_b)


@dataclass(frozen=True)
class QAExample:
    """A question, a passage, and the answer as a span of passage words.

    ``answer_start`` / ``answer_end`` index words of ``passage`` (end included).
    """

    question: tuple[str, ...]
    passage: tuple[str, ...]
    answer_start: int
    answer_end: int
    question_type: str = "who"

    @property
    def answer(self) -> tuple[str, ...]:
        return self.passage[self.answer_start:self.answer_end + 1]

    @property
    def key(self):
        return (self.question, self.passage)

    def token_span(self) -> tuple[int, int]:
        """The answer's (start, end) in the packed ``[CLS] question [SEP] passage [SEP]``."""
        offset = len(self.question) + 2          # [CLS] + question + [SEP]
        return self.answer_start + offset, self.answer_end + offset


@dataclass(frozen=True)
class SummaryExample:
    """A passage and its one-sentence summary (``polarity`` is the passage's sentiment)."""

    source: tuple[str, ...]
    summary: tuple[str, ...]
    polarity: int

    @property
    def key(self):
        return self.source


# --------------------------------------------------------------------------- splits

class Split:
    """The examples of one split, with their labels and seen flags as arrays."""

    def __init__(self, name: str, examples: Sequence):
        self.name = name
        self.examples = tuple(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self):
        return iter(self.examples)

    def __getitem__(self, index):
        return self.examples[index]

    @property
    def labels(self) -> np.ndarray:
        """(N,) int64 class labels (classification tasks)."""
        return np.array([e.label for e in self.examples], dtype=np.int64)

    @property
    def seen(self) -> np.ndarray:
        """(N,) bool: True where every adjective of the example is a seen one."""
        return np.array([getattr(e, "seen", True) for e in self.examples], dtype=bool)

    def __repr__(self) -> str:
        return f"Split({self.name!r}, {len(self)} examples)"


class Task:
    """A labelled task: ``train`` / ``dev`` / ``test`` splits and a batcher.

    >>> task = load_task("sentiment", seed=0)                  # doctest: +SKIP
    >>> for batch in task.batches("train", 32, shuffle=True, rng=rng):
    ...     logits = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])
    """

    def __init__(self, name: str, kind: str, splits: dict[str, Split], tokenizer: Tokenizer,
                 collate: Callable[[Sequence, Tokenizer], dict], seed: int,
                 num_labels: int | None = None, label_names: tuple[str, ...] = (),
                 description: str = ""):
        self.name, self.kind, self.seed = name, kind, seed
        self.train, self.dev, self.test = splits["train"], splits["dev"], splits["test"]
        self.tokenizer = tokenizer
        self._collate = collate
        self.num_labels = num_labels
        self.label_names = label_names
        self.description = description

    def split(self, which: str | Split) -> Split:
        if isinstance(which, Split):
            return which
        if which not in SPLIT_NAMES:
            raise ValueError(f"split must be one of {SPLIT_NAMES}, got {which!r}")
        return getattr(self, which)

    def collate(self, examples: Sequence) -> dict[str, np.ndarray]:
        """A list of examples -> one padded batch (dict of numpy arrays)."""
        return self._collate(list(examples), self.tokenizer)

    def batches(self, split: str | Split = "train", batch_size: int = 32, shuffle: bool = False,
                rng: np.random.Generator | None = None,
                drop_last: bool = False) -> Iterator[dict[str, np.ndarray]]:
        """One pass over a split in batches. Pass ``rng`` for a new order each epoch."""
        examples = self.split(split).examples
        if shuffle and rng is None:
            rng = np.random.default_rng(self.seed)
        for idx in index_batches(len(examples), batch_size, shuffle, rng, drop_last):
            yield self.collate([examples[i] for i in idx])

    def full_batch(self, split: str | Split) -> dict[str, np.ndarray]:
        """A whole split as one batch (for evaluation)."""
        return self.collate(self.split(split).examples)

    def __repr__(self) -> str:
        return (f"Task({self.name!r}, train={len(self.train)}, dev={len(self.dev)}, "
                f"test={len(self.test)})")


# --------------------------------------------------------------------------- building

def balanced_targets(n: int, rng: np.random.Generator, num_labels: int = 2,
                     mix_seen: bool = False) -> list[tuple[int, bool]]:
    """(label, seen) targets: labels as equal as n allows; with ``mix_seen``, half of
    the targets (and half of each label) ask for unseen adjectives."""
    index = np.arange(n)
    labels = index % num_labels
    seen = (index // num_labels) % 2 == 0 if mix_seen else np.ones(n, dtype=bool)
    order = rng.permutation(n)
    return [(int(labels[i]), bool(seen[i])) for i in order]


def generate_splits(make: Callable[[Dice, tuple], object], targets: dict[str, list],
                    dice: Dice, max_tries: int = 200) -> dict[str, Split]:
    """Build each split by calling ``make(dice, target)`` once per target, redrawing
    any example already present in an earlier split (or earlier in the same one)."""
    used: set = set()
    splits = {}
    for name, split_targets in targets.items():
        examples = []
        for target in split_targets:
            for _ in range(max_tries):
                example = make(dice, target)
                if example.key not in used:
                    break
            else:
                raise RuntimeError(f"could not draw a new distinct example for {name} "
                                   f"(target {target}); ask for fewer examples")
            used.add(example.key)
            examples.append(example)
        splits[name] = Split(name, examples)
    return splits


# --------------------------------------------------------------------------- collating

def collate_classification(examples: Sequence[ClassificationExample],
                           tokenizer: Tokenizer) -> dict[str, np.ndarray]:
    """``[CLS] A [SEP] (B [SEP])``, padded. Keys: input_ids, segment_ids,
    attention_mask, labels, seen."""
    packed = [tokenizer.encode_pair(e.text_a, e.text_b) for e in examples]
    rows = [ids for ids, _ in packed]
    return {
        "input_ids": pad(rows, tokenizer.pad_id),
        "segment_ids": pad([seg for _, seg in packed], 0),
        "attention_mask": attention_mask(rows),
        "labels": np.array([e.label for e in examples], dtype=np.int64),
        "seen": np.array([e.seen for e in examples], dtype=bool),
    }


QUESTION_TYPES = ("who", "what")


def collate_qa(examples: Sequence[QAExample], tokenizer: Tokenizer) -> dict[str, np.ndarray]:
    """``[CLS] question [SEP] passage [SEP]``, padded, with the answer span's token
    positions. Keys: input_ids, segment_ids, attention_mask, start_positions,
    end_positions, question_type (0 who, 1 what)."""
    packed = [tokenizer.encode_pair(e.question, e.passage) for e in examples]
    rows = [ids for ids, _ in packed]
    spans = np.array([e.token_span() for e in examples], dtype=np.int64).reshape(-1, 2)
    return {
        "input_ids": pad(rows, tokenizer.pad_id),
        "segment_ids": pad([seg for _, seg in packed], 0),
        "attention_mask": attention_mask(rows),
        "start_positions": spans[:, 0].copy(),
        "end_positions": spans[:, 1].copy(),
        "question_type": np.array([QUESTION_TYPES.index(e.question_type) for e in examples],
                                  dtype=np.int64),
    }


def collate_seq2seq(examples: Sequence[SummaryExample], tokenizer: Tokenizer) -> dict[str, np.ndarray]:
    """Encoder reads ``[CLS] source [SEP]``; the decoder reads ``[CLS] summary`` ([CLS]
    is the begin-of-sequence token) and must predict ``summary [SEP]`` ([SEP] ends it),
    one position ahead (teacher forcing). Keys: input_ids, segment_ids,
    attention_mask, decoder_input_ids, decoder_attention_mask, decoder_labels."""
    sources = [tokenizer.encode(e.source, add_special_tokens=True) for e in examples]
    targets = [tokenizer.encode(e.summary) for e in examples]
    decoder_in = [[tokenizer.cls_id] + t for t in targets]
    decoder_out = [t + [tokenizer.sep_id] for t in targets]
    input_ids = pad(sources, tokenizer.pad_id)
    return {
        "input_ids": input_ids,
        "segment_ids": np.zeros_like(input_ids),
        "attention_mask": attention_mask(sources),
        "decoder_input_ids": pad(decoder_in, tokenizer.pad_id),
        "decoder_attention_mask": attention_mask(decoder_in),
        "decoder_labels": pad(decoder_out, IGNORE_INDEX),
        "polarity": np.array([e.polarity for e in examples], dtype=np.int64),
    }
