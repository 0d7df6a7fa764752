"""The training loop every run shares: ``train(model, batches, steps, optimizer, loss_fn)``.

One step, in order:

    batch = to_device(next(batches))          numpy arrays -> the model's device, once
    losses = loss_fn(model, batch)            {"loss": total Tensor, other named losses ...}
    check that every loss is finite           else NonFiniteLossError naming the step
    optimizer.zero_grad(); loss.backward()
    clip_grad_norm(trainable parameters)      if clip is given
    optimizer.step(); schedule.step()         warm-up, then linear decay of optimizer.lr

``pretrain`` and ``finetune`` are this loop with a ready ``loss_fn`` and batches.

Only trainable parameters are trained. Without an ``optimizer``, the loop builds AdamW
from ``params`` or, by default, ``model.parameters(trainable_only=True)``, so a model
whose base is frozen (adapters, a head-only run) trains just the rest, and the frozen
weights stay bit-identical: they get no optimizer state and no weight decay.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Callable, Iterable

from .. import backend
from ..autograd import Tensor, no_grad
from ..optim import AdamW, LinearWarmupDecay, clip_grad_norm
from .history import History, Progress

SCHEDULES = ("linear", "constant")


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss (or gradient norm). ``step`` and ``losses`` say where."""

    def __init__(self, step: int, losses: dict, lr: float, what: str = "loss"):
        self.step, self.losses, self.lr = step, dict(losses), lr
        values = ", ".join(f"{name}={value:.6g}" for name, value in losses.items())
        super().__init__(f"step {step}: the {what} is not finite ({values}); training stopped. "
                         f"The learning rate was {lr:.3g}: lower it, or clip the gradients (clip=1.0)")


def model_device(model) -> str:
    """The device of the model's weights ('cpu' or 'cuda')."""
    params = model.parameters()
    return params[0].device if params else backend.get_device()


def to_device(batch: dict, device: str) -> dict:
    """A copy of ``batch`` with every array moved to ``device`` (arrays already there are not copied)."""
    return {key: backend.to_device(value, device) if hasattr(value, "shape") else value
            for key, value in batch.items()}


def count_tokens(batch: dict) -> int:
    """Real (non-padding) tokens of a batch: the sum of every ``*attention_mask`` entry, or the size of
    ``input_ids`` when there is no mask."""
    masks = [value for key, value in batch.items() if key.endswith("attention_mask")]
    if masks:
        return int(sum(int(backend.to_numpy(m).sum()) for m in masks))
    return int(batch["input_ids"].size) if "input_ids" in batch else 0


@contextlib.contextmanager
def evaluation_mode(model):
    """Inside: ``model.eval()`` (no dropout) and ``no_grad()`` (no graph); after: the previous mode."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        model.train(was_training)


def _as_loss_dict(out) -> dict:
    """loss_fn may return a Tensor (the loss) or a dict holding "loss" and other named losses."""
    if isinstance(out, Tensor):
        return {"loss": out}
    if isinstance(out, dict) and isinstance(out.get("loss"), Tensor):
        return out
    raise TypeError(f"loss_fn must return a Tensor or a dict with a 'loss' Tensor, got {type(out).__name__}"
                    + (f" with keys {sorted(out)}" if isinstance(out, dict) else ""))


def build_optimizer(model, lr: float, weight_decay: float = 0.01, betas=(0.9, 0.999), params=None):
    """AdamW over ``params``, or over the model's trainable parameters only."""
    params = model.parameters(trainable_only=True) if params is None else list(params)
    if not params:
        raise ValueError("train: the model has no trainable parameters (everything is frozen); "
                         "unfreeze something, or pass params=")
    return AdamW(params, lr=lr, betas=tuple(betas), weight_decay=weight_decay)


def train(model, batches: Iterable[dict], steps: int, optimizer=None, loss_fn: Callable | None = None, *,
          lr: float = 1e-3, weight_decay: float = 0.01, betas=(0.9, 0.999), warmup_fraction: float = 0.0,
          schedule: str | None = "linear", clip: float | None = None, params=None,
          eval_fn: Callable | None = None, eval_every: int | None = None, log_every: int | None = None,
          quiet: bool = False, name: str = "train", settings: dict | None = None) -> History:
    """Run ``steps`` updates of ``model`` and return their History.

    batches        an iterable of batches (dicts of numpy arrays), at least ``steps`` long
    optimizer      a prebuilt optimizer; None builds AdamW(lr, betas, weight_decay) over ``params``
                   or, by default, the model's trainable parameters
    loss_fn        loss_fn(model, batch) -> Tensor, or dict with "loss" (the total, which is
                   differentiated) and other named losses to record (e.g. "mlm_loss"); entries
                   that are not one-number Tensors (logits) are ignored
    schedule       "linear": warm-up over warmup_fraction of the steps, then linear decay to 0
                   from the optimizer's lr; "constant" or None: leave optimizer.lr alone
                   (no warm-up)
    clip           clip the global gradient norm to this value (None: no clipping)
    eval_fn        eval_fn(model) -> {metric: number}, run in eval mode under no_grad before
                   training, every ``eval_every`` steps and after the last step (with
                   eval_every=None: only after the last step)
    log_every      progress line every this many steps (None: about 10 lines); quiet=True: none

    Raises NonFiniteLossError (a FloatingPointError) on a NaN or infinite loss, before the
    bad step is applied. The model's train/eval mode is restored at the end.
    """
    if loss_fn is None:
        raise TypeError("train: loss_fn is required: loss_fn(model, batch) -> loss Tensor or dict")
    if steps < 1:
        raise ValueError(f"train: steps must be at least 1, got {steps}")
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"train: eval_every must be at least 1, got {eval_every}")
    if schedule not in (*SCHEDULES, None):
        raise ValueError(f"train: schedule must be one of {SCHEDULES} or None, got {schedule!r}")
    if optimizer is None:
        optimizer = build_optimizer(model, lr, weight_decay, betas, params)
    elif params is not None:
        raise ValueError("train: give either optimizer= or params=, not both")
    scheduler = (LinearWarmupDecay(optimizer, steps, warmup_fraction=warmup_fraction)
                 if schedule == "linear" else None)
    trainable = optimizer.params

    device = model_device(model)
    history = History(name=name, settings={"steps": steps, "lr": optimizer.lr if scheduler is None
                                           else scheduler.base_lr, "optimizer": repr(optimizer),
                                           "schedule": schedule, "warmup_fraction": warmup_fraction,
                                           "clip": clip, "device": device, **(settings or {})})
    progress = Progress(steps, name, log_every, quiet)
    started, train_time = time.perf_counter(), 0.0
    was_training = model.training

    def evaluate(step):
        with evaluation_mode(model):
            metrics = dict(eval_fn(model))
        history.record_eval(step, metrics)
        progress.evaluation(step, metrics)

    if eval_fn is not None and eval_every is not None:
        evaluate(0)
    model.train()
    iterator = iter(batches)
    try:
        for step in range(1, steps + 1):
            try:
                batch = next(iterator)
            except StopIteration:
                raise ValueError(f"train: the batches ran out after {step - 1} of {steps} steps; pass an "
                                 f"endless iterator (e.g. minipeft.train.endless(task, ...))") from None
            tick = time.perf_counter()
            tokens = count_tokens(batch)
            batch = to_device(batch, device)
            step_lr = optimizer.lr
            losses = _as_loss_dict(loss_fn(model, batch))
            values = {key: float(value.item()) for key, value in losses.items()
                      if isinstance(value, Tensor) and value.size == 1}  # scalars only (not logits)
            if not all(math.isfinite(v) for v in values.values()):
                raise NonFiniteLossError(step, values, step_lr)
            optimizer.zero_grad()
            losses["loss"].backward()
            grad_norm = None
            if clip is not None:
                try:
                    grad_norm = clip_grad_norm(trainable, clip)
                except FloatingPointError:
                    raise NonFiniteLossError(step, values, step_lr, what="gradient norm") from None
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            backend.synchronize(device)
            seconds = time.perf_counter() - tick
            train_time += seconds
            history.record_step(step, values, step_lr, tokens / max(seconds, 1e-9), train_time, grad_norm)
            progress.step(step, values, step_lr, tokens, seconds)
            if eval_fn is not None and (step == steps or (eval_every is not None and step % eval_every == 0)):
                evaluate(step)
    finally:
        optimizer.zero_grad()  # drop the last gradients: they hold memory
        if scheduler is not None:
            optimizer.lr = scheduler.base_lr  # the schedule belonged to this run: a reused optimizer starts fresh
        model.train(was_training)
        history.total_time_s = time.perf_counter() - started
    return history
