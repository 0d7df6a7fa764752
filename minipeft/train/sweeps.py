"""Fine-tuning *methods* side by side: build a task model on the pre-trained encoder, choose what
trains, train it, score it. Lessons 07 (adapters vs full) and 09 (performance vs cost) use it.

    pretrained = fresh_pretrained()                      # the shipped BertForPreTraining, new copy
    model = shared_task_model(pretrained, task, seed=0)  # classifier / QA model sharing pretrained.bert
    choose_trainable(model, "adapter", adapter=AdapterConfig(bottleneck=4))
    run = fit(model, task, steps=400, lr=1e-2, seed=0)   # {"score", "metrics", "trainable", ...}

The methods (``METHODS``), each leaving a different part of the model trainable:

    full         every weight (the pooler too, although a mean-pooled head never uses it)
    adapter      Houlsby adapters (``minipeft.peft.add_adapter``): adapter modules, the layer
                 norms inside the Transformer layers and the head; the rest frozen
    top_layers   the top ``k`` encoder layers and the head (Houlsby et al.'s "top layers" baseline)
    layer_norm   only the layer norms inside the Transformer layers, and the head
    head         only the task head (a linear probe of the frozen features)

Every method but "full" is a PEFT method (``minipeft.peft.get_peft_model``), so its task
holds its own copies of what it trains: the shared encoder changes only under "full".

Sharing, on purpose: for classification and QA the task model's encoder *is*
``pretrained.bert`` (the same module), so the BertForPreTraining beside it, with its original
masked-LM head, measures what fine-tuning did to the pre-trained knowledge (forgetting). Take
a fresh copy (``fresh_pretrained``) for every run. An encoder-decoder (summarization) gets a
copy of the encoder's weights instead: its decoder shares the encoder's token table, and
``BertModel`` without a pooler is a different module.
"""
from __future__ import annotations

import functools
import os
import statistics

import numpy as np

from .. import backend
from ..nn import BertForPreTraining
from ..peft import (AdapterConfig, HeadConfig, LayerNormConfig, TopLayersConfig, add_adapter, get_peft_model,
                    parameter_summary)
from . import transfer
from .evaluate import evaluate
from .finetune import finetune
from .loop import model_device
from .transfer import pretrained_model

METHODS = ("full", "adapter", "top_layers", "layer_norm", "head")

#: The number that stands for "how good" on each kind of task (all in [0, 1]).
SCORE_METRIC = {"classification": "accuracy", "qa": "f1", "seq2seq": "rougeL"}


def fresh_pretrained(path=None) -> BertForPreTraining:
    """A new BertForPreTraining holding the pre-trained weights: the shipped checkpoint
    (``load_shipped_pretrained``), or the checkpoint file at ``path``. The file is read once
    per process (again if it changes); every call builds a new copy, so runs never share
    weights unless they mean to."""
    source = None if path is None else os.fspath(path)
    config, weights = _pretrained_weights(source, os.stat(source).st_mtime_ns if source is not None else None)
    model = BertForPreTraining(config)
    model.load_state_dict(weights)  # copies
    return model


@functools.lru_cache(maxsize=4)
def _pretrained_weights(path: str | None, modified: int | None) -> tuple:
    """(config, weights) of a checkpoint, by path and modification time."""
    model = pretrained_model(path)[0]
    return model.bert.config, model.state_dict()


def score(task, metrics: dict) -> float:
    """The task's headline number from ``evaluate``'s metrics (``SCORE_METRIC``)."""
    return float(metrics[SCORE_METRIC[task.kind]])


def shared_task_model(pretrained: BertForPreTraining, task, pooling: str = "mean", seed: int | None = None):
    """A model for ``task`` on the pre-trained encoder (``transfer.task_model``; see the module docstring).

    classification  BertForSequenceClassification(config, task.num_labels, pooling), encoder shared
    qa              BertForQuestionAnswering(config), encoder shared
    seq2seq         EncoderDecoder(config): the encoder's weights copied in, the decoder new

    ``seed`` (if given) seeds the new weights (the head, the decoder) first.
    """
    if not isinstance(pretrained, BertForPreTraining):
        raise TypeError(f"shared_task_model: expected the pre-trained BertForPreTraining, "
                        f"got {type(pretrained).__name__}")
    if seed is not None:
        backend.manual_seed(seed)
    model = transfer.task_model(task, pretrained, pooling=pooling)
    if task.kind != "seq2seq":
        model.bert = pretrained.bert  # the same module: training the task model changes `pretrained` too
    return model.to(model_device(pretrained))


def _encoder_layers(model, method: str) -> list:
    head = getattr(model, "head", None)
    encoder = getattr(model, "bert", None)
    if head is None or encoder is None:
        raise ValueError(f"choose_trainable: method {method!r} needs a model with a `bert` encoder and a "
                         f"`head` (a classifier or QA model), got a {type(model).__name__}")
    return list(encoder.layers)


def choose_trainable(model, method: str, adapter: AdapterConfig | None = None, k: int | None = None,
                     name: str = "task") -> dict:
    """Make ``method``'s part of ``model`` trainable and freeze the rest; return parameter_summary(model).

    ``adapter``: the AdapterConfig for method "adapter" (default AdapterConfig(bottleneck=4));
    ``k``: how many top encoder layers train for "top_layers"; ``name``: the adapter's name.
    """
    if method not in METHODS:
        raise ValueError(f"choose_trainable: method must be one of {METHODS}, got {method!r}")
    if method == "full":
        model.unfreeze()
    elif method == "adapter":
        add_adapter(model, name, adapter or AdapterConfig(bottleneck=4))
    else:
        layers = _encoder_layers(model, method)
        if method == "top_layers" and (k is None or not 1 <= k <= len(layers)):
            raise ValueError(f"choose_trainable: top_layers needs k in 1..{len(layers)}, got {k!r}")
        config = {"top_layers": lambda: TopLayersConfig(k=k), "layer_norm": LayerNormConfig, "head": HeadConfig}
        get_peft_model(model, config[method](), name=name)
    return parameter_summary(model)


def step_times_ms(history) -> list[float]:
    """Milliseconds of each training step of a History (from its running total of training time)."""
    totals = np.asarray(history.time_s, dtype=np.float64)
    return list(np.diff(np.concatenate([[0.0], totals])) * 1e3)


def fit(model, task, steps: int, lr: float, seed: int = 0, batch_size: int = 32, eval_every: int | None = None,
        eval_split: str = "dev", test_split: str = "test", quiet: bool = True, **finetune_args) -> dict:
    """``finetune`` the model's trainable part, then score it on ``test_split``.

    Returns {"score", "metrics" (test), "trainable", "total", "trainable_fraction",
    "step_ms" (median training step), "train_time_s", "history"}.
    """
    summary = parameter_summary(model)
    history = finetune(model, task, steps=steps, batch_size=batch_size, lr=lr, seed=seed, eval_every=eval_every,
                       eval_split=eval_split, quiet=quiet, **finetune_args)
    metrics = evaluate(model, task, test_split)
    return {"score": score(task, metrics), "metrics": metrics, "trainable": summary["trainable"],
            "total": summary["total"], "trainable_fraction": summary["trainable_fraction"],
            "step_ms": statistics.median(step_times_ms(history)), "train_time_s": history.time_s[-1],
            "history": history}


__all__ = ["METHODS", "SCORE_METRIC", "fresh_pretrained", "score", "shared_task_model", "choose_trainable", "fit",
           "step_times_ms"]
