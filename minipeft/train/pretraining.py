"""Pre-training: BERT learns from unlabelled text by masked-LM + next-sentence prediction.

    history = pretrain(model, corpus, steps=6000, eval_every=250, probe_fn=polarity_probe_fn(tok))

Each step draws a fresh batch from the corpus (new sentence pairs, new masks), and the
loss is the sum of the two exercises: loss = mlm_loss + nsp_loss. The defaults are the
recipe that pre-trained the shipped tiny model past its plateau on this language (lesson 04
and the README's "The pre-trained checkpoint" show the run): AdamW (betas 0.9, 0.98,
weight decay 0.01), lr 3e-3 with 6% warm-up then linear decay, 25% masking, batch 64,
gradients clipped at norm 1.

Masked-LM accuracy is a poor gauge of what a small model learned: it rises early, from
predicting the right *kind* of word, while the meaning of words is learned much later
(the plateau). So evaluation reports held-out MLM and NSP accuracy and, through
``probe_fn``, the polarity probes (``polarity_probe_fn``): do the unseen adjectives get
the right polarity from context alone?
"""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from ..data import (DEFAULT_LEXICON, IGNORE_INDEX, PretrainingCorpus, Tokenizer, polarity_probe_score,
                    polarity_probes)
from ..nn import BertForPreTraining
from .loop import evaluation_mode, model_device, to_device, train


def pretraining_loss(model, batch: dict) -> dict:
    """{"loss": mlm_loss + nsp_loss, "mlm_loss": ..., "nsp_loss": ...} of one pre-training batch."""
    out = _forward(model, batch)
    return {"loss": out["loss"], "mlm_loss": out["mlm_loss"], "nsp_loss": out["nsp_loss"]}


def pretraining_metrics(model, batches) -> dict:
    """Held-out scores on fixed batches: mlm_accuracy (over masked positions), nsp_accuracy,
    and the mean mlm_loss (per masked token) and nsp_loss (per pair)."""
    device = model_device(model)
    counts = dict(mlm_right=0, mlm_total=0, nsp_right=0, nsp_total=0, mlm_loss=0.0, nsp_loss=0.0)
    with evaluation_mode(model):
        for batch in batches:
            out = _forward(model, to_device(batch, device))
            labels, nsp = np.asarray(batch["mlm_labels"]), np.asarray(batch["nsp_labels"])
            masked = labels != IGNORE_INDEX  # (B, T)
            predicted = to_numpy(out["mlm_logits"].data.argmax(axis=-1))  # (B, T)
            counts["mlm_right"] += int((predicted[masked] == labels[masked]).sum())
            counts["mlm_total"] += int(masked.sum())
            counts["nsp_right"] += int((to_numpy(out["nsp_logits"].data.argmax(axis=-1)) == nsp).sum())
            counts["nsp_total"] += len(nsp)
            counts["mlm_loss"] += out["mlm_loss"].item() * int(masked.sum())
            counts["nsp_loss"] += out["nsp_loss"].item() * len(nsp)
    if counts["mlm_total"] == 0 or counts["nsp_total"] == 0:
        raise ValueError("pretraining_metrics: the evaluation batches hold no masked token or no pair")
    return {"mlm_accuracy": counts["mlm_right"] / counts["mlm_total"],
            "nsp_accuracy": counts["nsp_right"] / counts["nsp_total"],
            "mlm_loss": counts["mlm_loss"] / counts["mlm_total"],
            "nsp_loss": counts["nsp_loss"] / counts["nsp_total"]}


def _forward(model, batch: dict) -> dict:
    return model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"],
                 mlm_labels=batch["mlm_labels"], nsp_labels=batch["nsp_labels"])


def polarity_probe_fn(tokenizer=None, n: int = 256, seed: int = 0, lexicon=DEFAULT_LEXICON):
    """A ``probe_fn`` for ``pretrain``: model -> {probe_seen, probe_unseen, probe_negated_seen,
    probe_negated_unseen}, each the mean probability the MLM head gives to adjectives of the
    right polarity at a [MASK] in a telling context (0.5 = chance, 1.0 = learned).

    "unseen" adjectives never occur in a labelled training set: a high probe_unseen is what
    lets a pre-trained model classify them. "negated" contexts put the [MASK] after "not".
    The ``n`` probe sentences (per context kind) are built once, here.
    """
    tokenizer = tokenizer or Tokenizer.from_lexicon(lexicon)
    probes = {negated: polarity_probes(n, seed, negated=negated, lexicon=lexicon, tokenizer=tokenizer)
              for negated in (False, True)}

    def probe(model) -> dict:
        scores = {}
        device = model_device(model)
        with evaluation_mode(model):
            for negated, batch in probes.items():
                moved = to_device(batch, device)
                logits = model(moved["input_ids"], moved["segment_ids"], moved["attention_mask"])["mlm_logits"]
                rows = np.arange(len(batch["polarity"]))
                at_mask = to_numpy(logits.data)[rows, batch["mask_positions"]]  # (B, V)
                for seen in (True, False):
                    key = f"probe_{'negated_' if negated else ''}{'seen' if seen else 'unseen'}"
                    scores[key] = polarity_probe_score(at_mask, batch["polarity"], tokenizer, seen, lexicon)
        return scores

    return probe


def heldout_batches(corpus: PretrainingCorpus, num_batches: int = 4, batch_size: int = 64,
                    mask_prob: float = 0.25, n_documents: int = 300) -> list[dict]:
    """Fixed evaluation batches from documents the training corpus never shows (split "heldout")."""
    heldout = PretrainingCorpus(n_documents, seed=corpus.seed, split="heldout", lexicon=corpus.lexicon,
                                config=getattr(corpus, "config", None), tokenizer=corpus.tokenizer)
    return heldout.fixed_batches(num_batches, batch_size, mask_prob)


def pretrain(model, corpus: PretrainingCorpus, steps: int, batch_size: int = 64, lr: float = 3e-3,
             mask_prob: float = 0.25, warmup_fraction: float = 0.06, weight_decay: float = 0.01,
             betas=(0.9, 0.98), clip: float | None = 1.0, eval_every: int | None = None,
             eval_batches: list | None = None, probe_fn=None, log_every: int | None = None, seed: int = 0,
             quiet: bool = False, optimizer=None, params=None):
    """Pre-train a BertForPreTraining on ``corpus`` for ``steps`` batches of ``batch_size`` pairs.

    Evaluates (held-out mlm_accuracy, nsp_accuracy, mlm_loss, nsp_loss, plus whatever
    ``probe_fn(model)`` returns) before training, every ``eval_every`` steps and at the end
    (only at the end when eval_every is None). ``eval_batches``: the held-out batches to use
    (default: 4 fixed batches of held-out documents). ``seed`` fixes the order of batches
    and masks; seed the model's initialisation yourself (``mp.manual_seed``) before building it.
    Returns the History (losses "loss", "mlm_loss", "nsp_loss" per step; metrics in ``evals``).
    """
    if not isinstance(model, BertForPreTraining):
        raise TypeError(f"pretrain: expected a BertForPreTraining (MLM + NSP heads), got {type(model).__name__}")
    rng = np.random.default_rng(seed)
    batches = corpus.batches(batch_size, rng, mask_prob)
    if eval_batches is None:
        eval_batches = heldout_batches(corpus, 4, batch_size, mask_prob)

    def eval_fn(m):
        metrics = pretraining_metrics(m, eval_batches)
        if probe_fn is not None:
            metrics.update(probe_fn(m))
        return metrics

    settings = dict(batch_size=batch_size, mask_prob=mask_prob, weight_decay=weight_decay, betas=betas,
                    seed=seed, documents=len(corpus), trainable_parameters=model.num_parameters(True))
    return train(model, batches, steps, optimizer, pretraining_loss, lr=lr, weight_decay=weight_decay, betas=betas,
                 warmup_fraction=warmup_fraction, clip=clip, params=params, eval_fn=eval_fn,
                 eval_every=eval_every, log_every=log_every, quiet=quiet, name="pretrain", settings=settings)
