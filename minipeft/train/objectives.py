"""What "the loss" and "the prediction" mean for each kind of task.

    classification   logits (B, C)         loss = CE(logits, labels)
    qa               start, end (B, T)     loss = (CE(start, start_positions) + CE(end, end_positions)) / 2
    seq2seq          next-token logits     loss = CE(logits, decoder_labels), teacher forcing

``finetune`` trains with ``TASK_LOSSES[task.kind]``; ``evaluate`` predicts with the
logit functions here. A classifier may be a BertForSequenceClassification (dict output)
or an RNNClassifier baseline (called with ids and mask).
"""
from __future__ import annotations

from .. import functional as F
from ..nn import BertForPreTraining, BertForQuestionAnswering, EncoderDecoder, RNNClassifier


def classification_logits(model, batch: dict):
    """Class logits (B, C) of a BERT classifier (dict output) or of an RNNClassifier (ids, mask)."""
    if isinstance(model, RNNClassifier):
        return model(batch["input_ids"], batch["attention_mask"])
    out = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])
    return out["logits"] if isinstance(out, dict) else out


def span_logits(model, batch: dict):
    """(start logits, end logits), each (B, T), of a span-QA model."""
    out = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])
    return out["start_logits"], out["end_logits"]


def classification_loss(model, batch: dict):
    """Mean cross-entropy of the class logits against ``labels``."""
    return F.cross_entropy(classification_logits(model, batch), batch["labels"])


def qa_loss(model, batch: dict):
    """(CE(start) + CE(end)) / 2: both ends of the answer span are classes over the T positions."""
    start, end = span_logits(model, batch)
    return (F.cross_entropy(start, batch["start_positions"]) + F.cross_entropy(end, batch["end_positions"])) * 0.5


def seq2seq_loss(model, batch: dict):
    """Mean cross-entropy of each next summary token given the source and the summary so far."""
    return model.loss(batch["input_ids"], batch["attention_mask"], batch["decoder_input_ids"],
                      batch["decoder_labels"], batch["decoder_attention_mask"])


TASK_LOSSES = {"classification": classification_loss, "qa": qa_loss, "seq2seq": seq2seq_loss}


def check_model_for_task(model, task) -> None:
    """A clear TypeError when the model cannot do this kind of task (a QA model on sentiment, ...)."""
    kind, name = task.kind, type(model).__name__
    if kind not in TASK_LOSSES:
        raise ValueError(f"unknown task kind {kind!r}; expected one of {list(TASK_LOSSES)}")
    wrong = ((kind == "seq2seq" and not isinstance(model, EncoderDecoder))
             or (kind == "qa" and not isinstance(model, BertForQuestionAnswering))
             or (kind == "classification"
                 and isinstance(model, (EncoderDecoder, BertForQuestionAnswering, BertForPreTraining))))
    if wrong:
        wanted = {"seq2seq": "an EncoderDecoder", "qa": "a BertForQuestionAnswering",
                  "classification": "a BertForSequenceClassification (or an RNNClassifier)"}[kind]
        raise TypeError(f"task {task.name!r} ({kind}) needs {wanted}, got a {name}")
    head_labels = getattr(getattr(model, "head", None), "num_labels", None)
    if kind == "classification" and head_labels is not None and head_labels != task.num_labels:
        raise ValueError(f"task {task.name!r} has {task.num_labels} classes but the model's head has "
                         f"{head_labels} outputs")
