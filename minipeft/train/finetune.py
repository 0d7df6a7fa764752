"""Fine-tuning: train a model (pre-trained or not) on one labelled task.

    model = BertForSequenceClassification(config, task.num_labels, pooling="mean")
    history = finetune(model, load_task("sentiment"), steps=400, eval_every=100)
    print(evaluate(model, task, "test"))      # {"accuracy": ..., "accuracy_seen": ..., ...}

The loss depends on the kind of task (``task.kind``):

    classification   cross-entropy of the class logits               BertForSequenceClassification
                                                                     (or an RNNClassifier baseline)
    qa               (CE(start logits) + CE(end logits)) / 2         BertForQuestionAnswering
    seq2seq          CE of the next summary token, teacher forcing   EncoderDecoder

Whatever is frozen stays frozen: the optimizer holds only ``model.parameters(trainable_only=True)``
(or the ``params`` / ``optimizer`` you pass), so the same call trains a whole model, a head
alone, or adapters. Evaluation is in ``evaluate.py``.
"""
from __future__ import annotations

import numpy as np

from .evaluate import evaluate
from .loop import train
from .objectives import TASK_LOSSES, check_model_for_task


def endless(task, split: str = "train", batch_size: int = 32, rng: np.random.Generator | None = None):
    """Batches of a split forever: one shuffled pass (an epoch) after another.

    A final short batch is dropped when the split holds at least one full batch, so every
    step sees ``batch_size`` examples.
    """
    rng = rng if rng is not None else np.random.default_rng(task.seed)
    n = len(task.split(split))
    if n == 0:
        raise ValueError(f"task {task.name!r}: split {split!r} is empty")
    while True:
        yield from task.batches(split, batch_size, shuffle=True, rng=rng, drop_last=n >= batch_size)


def finetune(model, task, steps: int, batch_size: int = 32, lr: float = 1e-3, warmup_fraction: float = 0.1,
             weight_decay: float = 0.01, betas=(0.9, 0.999), clip: float | None = 1.0,
             eval_every: int | None = None, eval_split: str = "dev", log_every: int | None = None,
             seed: int = 0, quiet: bool = False, optimizer=None, params=None, loss_fn=None,
             eval_batch_size: int = 256, max_answer_len: int = 8, max_summary_len: int = 16):
    """Train ``model`` on ``task``'s train split for ``steps`` batches; return the History.

    AdamW(lr, betas, weight_decay) over the trainable parameters (or ``params``, or your
    ``optimizer``), ``warmup_fraction`` warm-up then linear decay, gradient norm clipped at
    ``clip``. With ``eval_every``, ``evaluate(model, task, eval_split)`` runs before training,
    every ``eval_every`` steps and after the last; without it, only after the last step.
    ``seed`` fixes the order of the examples. ``loss_fn`` replaces the task's loss; the last
    three arguments go to ``evaluate``.
    """
    check_model_for_task(model, task)
    task.split(eval_split)  # a wrong split name fails now, not after training
    rng = np.random.default_rng(seed)
    batches = endless(task, "train", batch_size, rng)

    def eval_fn(m):
        return evaluate(m, task, eval_split, eval_batch_size, max_answer_len, max_summary_len)

    settings = dict(task=task.name, kind=task.kind, batch_size=batch_size, weight_decay=weight_decay,
                    betas=betas, seed=seed, train_examples=len(task.train), eval_split=eval_split,
                    trainable_parameters=model.num_parameters(True), parameters=model.num_parameters())
    return train(model, batches, steps, optimizer, loss_fn or TASK_LOSSES[task.kind], lr=lr,
                 weight_decay=weight_decay, betas=betas, warmup_fraction=warmup_fraction, clip=clip,
                 params=params, eval_fn=eval_fn, eval_every=eval_every, log_every=log_every, quiet=quiet,
                 name=f"finetune {task.name}", settings=settings)
