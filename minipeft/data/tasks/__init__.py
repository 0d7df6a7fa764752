"""Labelled tasks built from the synthetic language: ``load_task(name, seed=0)``.

==============  ===============  ====================================================
name            kind             input -> target
==============  ===============  ====================================================
sentiment       classification   one sentence -> polarity (negation flips it)
pair            classification   two sentences -> do they agree in sentiment?
contrast        classification   passage with "X but Y" -> sentiment of Y (harder)
qa              qa (span)        question + passage -> answer span in the passage
summarization   seq2seq          passage -> "NAME likes|dislikes the NOUN ."
==============  ===============  ====================================================

Every task has ``train``, ``dev`` and ``test`` splits (``Split``), a ``batches(split,
batch_size, shuffle, rng)`` iterator of padded numpy dicts, and ``num_labels`` for the
classifiers. Batch keys:

classification  input_ids, segment_ids, attention_mask, labels, seen
qa              input_ids, segment_ids, attention_mask, start_positions, end_positions,
                question_type
summarization   input_ids, segment_ids, attention_mask, decoder_input_ids,
                decoder_attention_mask, decoder_labels, polarity

The seen / unseen rule (classification tasks): train and dev use only seen adjectives;
the test set is half seen, half unseen, and ``test.seen`` says which is which.
"""

from __future__ import annotations

import numpy as np

from ..language import DEFAULT_LEXICON, Dice, Lexicon
from ..tokenizer import Tokenizer
from . import classification, qa, summarization
from .base import (ClassificationExample, QAExample, Split, SummaryExample, Task,
                   balanced_targets, collate_classification, collate_qa, collate_seq2seq,
                   generate_splits)
from .classification import contrast_rule, pair_rule, sentiment_rule

# name: (kind, example-maker factory, default sizes (train, dev, test), number of classes)
TASKS = {
    "sentiment": ("classification", classification.make_sentiment, (500, 200, 1000), 2),
    "pair": ("classification", classification.make_pair, (500, 200, 1000), 2),
    "contrast": ("classification", classification.make_contrast, (1000, 200, 1000), 2),
    "qa": ("qa", qa.make_qa, (1000, 200, 500), 2),
    "summarization": ("seq2seq", summarization.make_summarization, (1000, 200, 500), 2),
}
_COLLATE = {"classification": collate_classification, "qa": collate_qa,
            "seq2seq": collate_seq2seq}
_STREAM = 202  # keeps task seeds apart from pre-training seeds


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def load_task(name: str, seed: int = 0, n_train: int | None = None, n_dev: int | None = None,
              n_test: int | None = None, lexicon: Lexicon = DEFAULT_LEXICON,
              tokenizer: Tokenizer | None = None, **options) -> Task:
    """Generate a task's three splits, deterministically for ``seed``.

    ``options`` go to the task's example maker, e.g. ``negation_rate=0.0`` for a
    negation-free sentiment task, or ``min_context=0, max_context=0`` for a one-sentence
    contrast task.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {list(TASKS)}")
    kind, factory, defaults, num_classes = TASKS[name]
    sizes = [d if n is None else n for n, d in zip((n_train, n_dev, n_test), defaults)]
    if any(n < 0 for n in sizes):
        raise ValueError(f"split sizes must be >= 0, got {sizes}")
    make = factory(lexicon, **options)

    rng = np.random.default_rng([seed, _STREAM, list(TASKS).index(name)])
    mix = kind == "classification"   # only classifiers follow the seen / unseen rule
    targets = {
        "train": balanced_targets(sizes[0], rng, num_classes),
        "dev": balanced_targets(sizes[1], rng, num_classes),
        "test": balanced_targets(sizes[2], rng, num_classes, mix_seen=mix),
    }
    splits = generate_splits(make, targets, Dice(rng))
    descriptions = {**classification.DESCRIPTIONS, "qa": qa.DESCRIPTION,
                    "summarization": summarization.DESCRIPTION}
    return Task(name, kind, splits, tokenizer or Tokenizer.from_lexicon(lexicon),
                _COLLATE[kind], seed,
                num_labels=num_classes if kind == "classification" else None,
                label_names=classification.LABEL_NAMES if kind == "classification" else (),
                description=descriptions[name])


__all__ = ["load_task", "task_names", "Task", "Split", "ClassificationExample", "QAExample",
           "SummaryExample", "sentiment_rule", "pair_rule", "contrast_rule", "TASKS"]
