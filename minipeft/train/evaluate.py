"""Scoring a model on a task split: ``evaluate(model, task, "test") -> {metric: value}``.

    classification   accuracy; accuracy_seen and accuracy_unseen when the split mixes both
                     kinds of adjective (the test sets do: the test of transfer)
    qa               exact_match and f1 of the predicted answer span (SQuAD-style, on tokens)
    seq2seq          rouge1 and rougeL (F-measures) and exact_match of greedy-decoded summaries

Every result also holds ``loss``: the task's mean loss on the split (not in [0, 1]).
The model runs in evaluation mode (no dropout) under ``no_grad`` and gets its previous
mode back afterwards. ``predict`` returns the predictions themselves, to print a few.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..backend import to_numpy
from ..data import IGNORE_INDEX
from . import metrics
from .loop import evaluation_mode, model_device, to_device
from .objectives import check_model_for_task, classification_logits, span_logits


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, allowed: np.ndarray,
               max_answer_len: int = 8) -> np.ndarray:
    """The answer span of each row: argmax over (i, j) of start[i] + end[j] with i <= j < i + max_answer_len
    and both ends at ``allowed`` positions (the passage). Returns (B, 2) int64 (start, end).

    Taking argmax(start) and argmax(end) separately could give an end before the start;
    scoring every valid pair, as BERT did on SQuAD, cannot.
    """
    start, end = np.asarray(start_logits, np.float64), np.asarray(end_logits, np.float64)
    length = start.shape[1]
    i, j = np.arange(length)[:, None], np.arange(length)[None, :]
    valid = (j >= i) & (j < i + max_answer_len)  # (T, T)
    valid = valid[None] & allowed[:, :, None] & allowed[:, None, :]  # (B, T, T)
    scores = np.where(valid, start[:, :, None] + end[:, None, :], -np.inf)  # (B, T, T)
    flat = scores.reshape(len(start), -1).argmax(axis=1)
    return np.stack([flat // length, flat % length], axis=1).astype(np.int64)


def passage_positions(batch: dict, sep_id: int) -> np.ndarray:
    """(B, T) bool: where an answer may start or end, the passage tokens (segment 1, not padding, not [SEP])."""
    return ((np.asarray(batch["segment_ids"]) == 1) & np.asarray(batch["attention_mask"], dtype=bool)
            & (np.asarray(batch["input_ids"]) != sep_id))


def _classification(model, task, split, batch_size):
    predictions, labels, seen, loss = [], [], [], 0.0
    device = model_device(model)
    for batch in task.batches(split, batch_size):
        moved = to_device(batch, device)
        logits = classification_logits(model, moved)
        loss += F.cross_entropy(logits, moved["labels"]).item() * len(batch["labels"])
        predictions.append(to_numpy(logits.data).argmax(axis=-1))
        labels.append(batch["labels"])
        seen.append(batch["seen"])
    predictions, labels, seen = (np.concatenate(a) for a in (predictions, labels, seen))
    result = {"accuracy": metrics.accuracy(predictions, labels), "loss": loss / len(labels)}
    if seen.any() and not seen.all():
        result["accuracy_seen"] = metrics.accuracy(predictions[seen], labels[seen])
        result["accuracy_unseen"] = metrics.accuracy(predictions[~seen], labels[~seen])
    return result, predictions


def _qa(model, task, split, batch_size, max_answer_len):
    spans, em, f1, loss, count = [], [], [], 0.0, 0
    device = model_device(model)
    for batch in task.batches(split, batch_size):
        moved = to_device(batch, device)
        start, end = span_logits(model, moved)
        loss += ((F.cross_entropy(start, moved["start_positions"]) + F.cross_entropy(end, moved["end_positions"]))
                 * 0.5).item() * len(batch["input_ids"])
        count += len(batch["input_ids"])
        found = best_spans(to_numpy(start.data), to_numpy(end.data),
                           passage_positions(batch, task.tokenizer.sep_id), max_answer_len)
        for row, (s, e) in enumerate(found):
            ids = batch["input_ids"][row]
            gold = ids[batch["start_positions"][row]:batch["end_positions"][row] + 1]
            predicted = ids[s:e + 1]
            em.append(metrics.span_exact_match(predicted, gold))
            f1.append(metrics.span_f1(predicted, gold))
        spans.append(found)
    return {"exact_match": metrics.mean(em), "f1": metrics.mean(f1), "loss": loss / count}, np.concatenate(spans)


def _seq2seq(model, task, split, batch_size, max_summary_len):
    tok = task.tokenizer
    summaries, rouge1, rouge_l, em, loss, tokens = [], [], [], [], 0.0, 0
    device = model_device(model)
    max_len = min(max_summary_len, model.config.max_position)
    for batch in task.batches(split, batch_size):
        moved = to_device(batch, device)
        n_targets = int((batch["decoder_labels"] != IGNORE_INDEX).sum())
        loss += model.loss(moved["input_ids"], moved["attention_mask"], moved["decoder_input_ids"],
                           moved["decoder_labels"], moved["decoder_attention_mask"]).item() * n_targets
        tokens += n_targets
        generated = model.greedy_decode(moved["input_ids"], moved["attention_mask"], bos_id=tok.cls_id,
                                        eos_id=tok.sep_id, max_len=max_len, pad_id=tok.pad_id)
        for row, ids in enumerate(generated):
            predicted = metrics.strip_special(ids, stop=tok.sep_id, drop={tok.pad_id})
            reference = metrics.strip_special(batch["decoder_labels"][row], stop=tok.sep_id, drop={IGNORE_INDEX})
            rouge1.append(metrics.rouge1_f(predicted, reference))
            rouge_l.append(metrics.rouge_l_f(predicted, reference))
            em.append(metrics.exact_match(predicted, reference))
            summaries.append(predicted)
    return {"rouge1": metrics.mean(rouge1), "rougeL": metrics.mean(rouge_l), "exact_match": metrics.mean(em),
            "loss": loss / max(tokens, 1)}, summaries


def _run(model, task, split, batch_size, max_answer_len, max_summary_len):
    check_model_for_task(model, task)
    if len(task.split(split)) == 0:
        raise ValueError(f"evaluate: split {split!r} of task {task.name!r} is empty")
    with evaluation_mode(model):
        if task.kind == "classification":
            return _classification(model, task, split, batch_size)
        if task.kind == "qa":
            return _qa(model, task, split, batch_size, max_answer_len)
        return _seq2seq(model, task, split, batch_size, max_summary_len)


def evaluate(model, task, split: str = "test", batch_size: int = 256, max_answer_len: int = 8,
             max_summary_len: int = 16) -> dict:
    """The task's metrics on ``split`` (see the module docstring), as {name: float}.

    max_answer_len: longest answer span (tokens) qa may predict; max_summary_len: most tokens
    greedy decoding may generate (the end token included).
    """
    return _run(model, task, split, batch_size, max_answer_len, max_summary_len)[0]


def predict(model, task, split: str = "test", batch_size: int = 256, max_answer_len: int = 8,
            max_summary_len: int = 16):
    """What the model answers on ``split``, in the split's order: class ids (N,) for classification,
    (start, end) token positions (N, 2) for qa, lists of generated token ids for seq2seq
    (decode them with ``task.tokenizer.decode``)."""
    return _run(model, task, split, batch_size, max_answer_len, max_summary_len)[1]
