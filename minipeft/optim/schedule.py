"""Learning-rate schedules: linear warm-up, then linear decay to zero (BERT's schedule).

The learning rate is a plain attribute, ``optimizer.lr``. A schedule is a multiplier
in [0, 1] of a base rate, a function of the number of updates done so far:

    multiplier
      1 |      /\\
        |     /   \\
        |    /      \\
      0 |___/_________\\___  step
        0  warm-up      total

    for step in range(total_steps):              # step = updates done so far
        optimizer.lr = base_lr * linear_warmup_decay(step, total_steps, warmup_fraction=0.1)
        ...backward...
        optimizer.step()

``LinearWarmupDecay`` does the same bookkeeping: build it after the optimizer (it takes
``optimizer.lr`` as the base rate) and call its ``step()`` after each ``optimizer.step()``.
The values match Hugging Face's ``get_linear_schedule_with_warmup`` (so the very first
update, at step 0, has learning rate 0 when there is a warm-up).

Why warm up: Adam's early steps divide by a second moment estimated from very few
gradients; small steps at first keep a random start from being thrown far off.
"""
from __future__ import annotations


def warmup_steps_of(total_steps: int, warmup_steps: int | None = None, warmup_fraction: float | None = None) -> int:
    """The warm-up length in steps, given either as a count or as a fraction of total_steps."""
    if total_steps < 1:
        raise ValueError(f"total_steps must be at least 1, got {total_steps}")
    if warmup_steps is not None and warmup_fraction is not None:
        raise ValueError("give warmup_steps or warmup_fraction, not both")
    if warmup_fraction is not None:
        if not 0.0 <= warmup_fraction <= 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1], got {warmup_fraction}")
        warmup_steps = round(warmup_fraction * total_steps)
    warmup_steps = warmup_steps or 0
    if not 0 <= warmup_steps <= total_steps:
        raise ValueError(f"warmup_steps must be in [0, total_steps={total_steps}], got {warmup_steps}")
    return warmup_steps


def linear_warmup_decay(step: int, total_steps: int, warmup_steps: int | None = None,
                        warmup_fraction: float | None = None) -> float:
    """Multiplier of the base learning rate after ``step`` updates:
    step / W during the warm-up (W steps), then (total - step) / (total - W), 0 from total on."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    warmup = warmup_steps_of(total_steps, warmup_steps, warmup_fraction)
    if step < warmup:
        return step / warmup
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup))


class LinearWarmupDecay:
    """Sets ``optimizer.lr = base_lr * linear_warmup_decay(steps_done, ...)``; call ``step()``
    after each ``optimizer.step()``. ``base_lr`` is the optimizer's lr when this is built."""

    def __init__(self, optimizer, total_steps: int, warmup_steps: int | None = None,
                 warmup_fraction: float | None = None):
        self.optimizer, self.base_lr = optimizer, optimizer.lr
        self.total_steps = total_steps
        self.warmup_steps = warmup_steps_of(total_steps, warmup_steps, warmup_fraction)
        self.steps_done = 0
        self._set_lr()

    def step(self) -> None:
        self.steps_done += 1
        self._set_lr()

    def _set_lr(self) -> None:
        self.optimizer.lr = self.base_lr * linear_warmup_decay(self.steps_done, self.total_steps, self.warmup_steps)
