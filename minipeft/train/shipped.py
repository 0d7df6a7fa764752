"""The pre-trained tiny BERT that ships with minipeft, and the recipe that made it.

Pre-training the tiny model past its plateau takes 12,000 steps (10-25 minutes on a
two-core CPU), so its result is package data, made by ``python -m lessons 4 --retrain
--save-shipped`` (lessons/04_pretraining.py). Later lessons start from it:

    model, meta, history = load_shipped_pretrained()   # BertForPreTraining, file description, History
    meta["extra"]["recipe"]                              # how it was trained (RECIPE below)
    history.metric("probe_unseen")                       # the probes over training, for plots

    classifier = BertForSequenceClassification(model.bert.config, 2, pooling="mean")
    load_checkpoint(classifier.bert, pretrained_path(), prefix="bert.")

``fill_mask`` shows what the masked-LM head believes: the top words for each [MASK].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..backend import to_numpy
from ..serialization import CheckpointError
from .checkpoint import load_pretrained
from .history import History
from .loop import evaluation_mode, model_device, to_device

#: The recipe of the shipped checkpoint: BertConfig.preset("tiny", vocab_size=81) on
#: PretrainingCorpus(10_000, seed=0) with the default LanguageConfig; pretrain()'s defaults
#: otherwise. With 6,000 or 8,000 steps the model had not yet learned negation; with 12,000
#: it had (lesson 04 plots the run, the README's "The pre-trained checkpoint" gives its probes).
RECIPE = dict(preset="tiny", n_documents=10_000, steps=12_000, batch_size=64, lr=3e-3, mask_prob=0.25,
              warmup_fraction=0.06, weight_decay=0.01, betas=(0.9, 0.98), clip=1.0, eval_every=250)

SHIPPED_NAME = "bert_tiny"  # minipeft/data/pretrained/bert_tiny.npz (+ bert_tiny.json)


def pretrained_dir() -> Path:
    """The package-data folder of shipped checkpoints: minipeft/data/pretrained/."""
    return Path(__file__).resolve().parent.parent / "data" / "pretrained"


def pretrained_path(name: str = SHIPPED_NAME, must_exist: bool = True) -> Path:
    """Path of a shipped checkpoint's .npz (its JSON sidecar is beside it).

    With ``must_exist`` (the default) a missing file raises CheckpointError saying how to make it.
    """
    path = pretrained_dir() / f"{name}.npz"
    if must_exist and not path.is_file():
        raise CheckpointError(
            f"the shipped pre-trained checkpoint is missing: no {path}. It is package data, made by "
            f"`python -m lessons 4 --retrain --save-shipped` (10-25 minutes); reinstall minipeft or run that")
    return path


def load_shipped_pretrained(name: str = SHIPPED_NAME):
    """(model, meta, history) of a shipped checkpoint: the BertForPreTraining, the file's
    description (``meta["extra"]`` holds the recipe, seed, time taken and final probes),
    and the training History stored with it (None if the file holds none).

    The file is read without pickle, checked against its fingerprint, and its weights
    against its stored config before the model is built (``load_pretrained``); a history
    that is not a History's dict raises CheckpointError.
    """
    path = pretrained_path(name)
    model, meta = load_pretrained(path)
    return model, meta, _stored_history(path, meta)


def _stored_history(path, meta: dict) -> History | None:
    """The History saved in ``meta["extra"]["history"]`` (None if there is none)."""
    extra = meta.get("extra") or {}
    stored = extra.get("history") if isinstance(extra, dict) else None
    if not stored:
        return None
    if not isinstance(stored, dict):
        raise CheckpointError(f"{path}: its stored history is a JSON {type(stored).__name__}, expected an object")
    try:
        return History.from_dict(stored)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: its stored history cannot build a History ({err})") from err


def compact_history(history: History, block: int = 25, digits: int = 5) -> History:
    """A smaller copy of ``history`` to store beside weights: per-step numbers averaged over
    blocks of ``block`` steps (a point per block, at its last step), every evaluation kept,
    numbers rounded to ``digits`` significant digits. 12,000 steps become 480 points."""
    if block < 1:
        raise ValueError(f"compact_history: block must be at least 1, got {block}")

    def rounded(values):
        return [float(f"{v:.{digits}g}") for v in values]

    def blocks(values):
        values = np.asarray(values, dtype=np.float64)
        ends = list(range(block, len(values) + 1, block))
        if len(values) and (not ends or ends[-1] != len(values)):
            ends.append(len(values))
        starts = [0] + ends[:-1]
        return rounded([values[a:b].mean() for a, b in zip(starts, ends)]), ends

    steps = list(history.steps)
    _, ends = blocks(steps)
    compact = History(name=history.name, settings=dict(history.settings, compacted_every=block),
                      steps=[int(steps[e - 1]) for e in ends],
                      losses={k: blocks(v)[0] for k, v in history.losses.items()},
                      lr=blocks(history.lr)[0], tokens_per_s=blocks(history.tokens_per_s)[0],
                      time_s=rounded([history.time_s[e - 1] for e in ends]) if history.time_s else [],
                      grad_norm=blocks(history.grad_norm)[0] if history.grad_norm else [],
                      evals=[{k: (v if k == "step" else float(f"{v:.{digits}g}")) for k, v in e.items()}
                             for e in history.evals],
                      total_time_s=round(float(history.total_time_s), 1))
    return compact


def mask_probabilities(model, batch: dict, positions) -> np.ndarray:
    """(B, V) float64: the masked-LM head's softmax over the vocabulary at ``positions[i]`` of row i.

    ``batch`` holds input_ids, segment_ids and attention_mask (as ``polarity_probes`` gives them).
    """
    batch = to_device({key: batch[key] for key in ("input_ids", "segment_ids", "attention_mask")},
                      model_device(model))
    with evaluation_mode(model):
        logits = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])["mlm_logits"]
    positions = np.asarray(positions, dtype=np.int64)
    at_mask = to_numpy(logits.data)[np.arange(len(positions)), positions].astype(np.float64)  # (B, V)
    probs = np.exp(at_mask - at_mask.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


def fill_mask(model, tokenizer, sentences, k: int = 3) -> list[list[tuple[str, float]]]:
    """The ``k`` most likely words (word, probability) at the [MASK] of each sentence.

    ``sentences``: texts or (A, B) pairs of texts, each with exactly one "[MASK]", e.g.
    ``fill_mask(model, tok, [("alice loves the [MASK] cake .", "bob eats the cake .")])``.
    The softmax is over the whole vocabulary.
    """
    from ..data.batching import attention_mask, pad

    rows, segments, positions = [], [], []
    for sentence in sentences:
        a, b = sentence if isinstance(sentence, tuple) else (sentence, None)
        ids, seg = tokenizer.encode_pair(a, b)
        if ids.count(tokenizer.mask_id) != 1:
            raise ValueError(f"fill_mask: each sentence needs exactly one [MASK], got {sentence!r}")
        rows.append(ids)
        segments.append(seg)
        positions.append(ids.index(tokenizer.mask_id))
    batch = {"input_ids": pad(rows, tokenizer.pad_id), "segment_ids": pad(segments, 0),
             "attention_mask": attention_mask(rows)}
    probs = mask_probabilities(model, batch, positions)
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(tokenizer.id_to_token(int(i)), float(p[i])) for i in row] for row, p in zip(top, probs)]


__all__ = ["RECIPE", "SHIPPED_NAME", "pretrained_dir", "pretrained_path", "load_shipped_pretrained",
           "compact_history", "mask_probabilities", "fill_mask"]
