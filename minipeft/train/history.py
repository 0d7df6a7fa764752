"""What a training run leaves behind (``History``) and what it prints while it runs (``Progress``).

``History`` keeps one entry per step (the losses by name, the learning rate, the speed)
and one entry per evaluation (the metrics, with the step they were measured at). Lessons
plot from it and save it with ``history.to_dict()``, which is plain JSON:

    history = pretrain(model, corpus, steps=2000, ...)
    plt.plot(history.steps, history.losses["mlm_loss"])
    steps, accuracy = history.metric("mlm_accuracy")
    json.dump(history.to_dict(), file)

``Progress`` prints a line every few steps, so a run of minutes never looks frozen:

    pretrain  step 300/2000 ( 15%)  loss 3.2140 (mlm_loss 2.521, nsp_loss 0.693)  lr 2.95e-03  9,870 tok/s
              0:12 elapsed, 1:08 left                              (one line on the screen)
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field


@dataclass
class History:
    """The record of one run. Lists under "per step" have one entry per training step.

    name          what was run ("pretrain", "finetune sentiment", ...)
    settings      the run's arguments (steps, batch size, learning rate, ...), JSON-able
    steps         per step: the step number, 1..total (step k = after k updates)
    losses        per step: {"loss": [...], "mlm_loss": [...], ...}, every named loss as a float
    lr            per step: the learning rate used by that step's update
    tokens_per_s  per step: real (non-padding) input tokens of the batch / seconds the step took
    time_s        per step: training seconds so far (evaluations not counted)
    grad_norm     per step, when gradients are clipped: the global gradient norm before clipping
    evals         per evaluation: {"step": s, metric: value, ...} (step 0 = before training)
    total_time_s  wall-clock seconds of the whole run, evaluations included
    """

    name: str = "train"
    settings: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)
    losses: dict = field(default_factory=dict)
    lr: list = field(default_factory=list)
    tokens_per_s: list = field(default_factory=list)
    time_s: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    evals: list = field(default_factory=list)
    total_time_s: float = 0.0

    def record_step(self, step: int, losses: dict, lr: float, tokens_per_s: float, time_s: float,
                    grad_norm: float | None = None) -> None:
        """Append one training step."""
        self.steps.append(int(step))
        for name, value in losses.items():
            self.losses.setdefault(name, []).append(float(value))
        self.lr.append(float(lr))
        self.tokens_per_s.append(float(tokens_per_s))
        self.time_s.append(float(time_s))
        if grad_norm is not None:
            self.grad_norm.append(float(grad_norm))

    def record_eval(self, step: int, metrics: dict) -> None:
        """Append one evaluation: ``metrics`` (name -> number) measured after ``step`` updates."""
        self.evals.append({"step": int(step), **{name: float(value) for name, value in metrics.items()}})

    def metric(self, name: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one evaluation metric, ready to plot."""
        points = [(e["step"], e[name]) for e in self.evals if name in e]
        if not points:
            known = sorted({key for e in self.evals for key in e} - {"step"})
            raise KeyError(f"History.metric: no evaluation recorded {name!r}; recorded: {known}")
        steps, values = zip(*points)
        return list(steps), list(values)

    @property
    def last_eval(self) -> dict:
        """The metrics of the latest evaluation (an empty dict if there was none)."""
        return dict(self.evals[-1]) if self.evals else {}

    def mean_loss(self, name: str = "loss", first: int | None = None, last: int | None = None) -> float:
        """Mean of a loss over the ``first`` n steps, or the ``last`` n steps, or all of them."""
        values = self.losses[name]
        if first is not None:
            values = values[:first]
        if last is not None:
            values = values[-last:]
        return float(sum(values) / len(values))

    def to_dict(self) -> dict:
        """Everything as plain JSON types (lists, floats, ints, strings)."""
        return {"name": self.name, "settings": _jsonable(self.settings), "steps": list(self.steps),
                "losses": {k: list(v) for k, v in self.losses.items()}, "lr": list(self.lr),
                "tokens_per_s": list(self.tokens_per_s), "time_s": list(self.time_s),
                "grad_norm": list(self.grad_norm), "evals": [dict(e) for e in self.evals],
                "total_time_s": self.total_time_s}

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        """The inverse of ``to_dict``."""
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


def _jsonable(value):
    """Settings as JSON: tuples become lists, anything unusual its repr."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and getattr(value, "size", None) == 1:  # NumPy scalars
        return _jsonable(value.item())
    return repr(value)


def format_seconds(seconds: float) -> str:
    """1:05 for 65 s, 1:02:03 for 3723 s."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Prints ``step/total, loss, tokens/s, elapsed, time left`` every ``every`` steps (and at the last).

    ``every=None`` picks about 10 lines per run. ``quiet=True`` prints nothing. Speed (training
    time only) and time left (evaluations included) are measured over the steps since the
    previous line, so they follow the run.
    """

    def __init__(self, total: int, name: str = "train", every: int | None = None, quiet: bool = False,
                 stream=None):
        self.total, self.name, self.quiet = total, name, quiet
        self.every = max(1, every if every is not None else total // 10)
        self.stream = stream if stream is not None else sys.stdout
        self.start = time.perf_counter()
        self._mark_time, self._mark_step, self._tokens, self._train_seconds = self.start, 0, 0, 0.0

    def step(self, step: int, losses: dict, lr: float, tokens: int, seconds: float) -> None:
        """Called after every step with its losses (floats), real tokens and training seconds;
        prints on every ``every``-th step and the last."""
        self._tokens += tokens
        self._train_seconds += seconds
        if self.quiet or (step % self.every and step != self.total):
            return
        now = time.perf_counter()
        speed = self._tokens / max(self._train_seconds, 1e-9)  # training only
        per_step = (now - self._mark_time) / max(step - self._mark_step, 1)  # evaluations included
        self._mark_time, self._mark_step, self._tokens, self._train_seconds = now, step, 0, 0.0
        width = len(str(self.total))
        total_loss = losses.get("loss", next(iter(losses.values()), float("nan")))
        parts = [f"{name} {value:.3f}" for name, value in losses.items() if name != "loss"]
        detail = f" ({', '.join(parts)})" if parts else ""
        line = (f"{self.name}  step {step:>{width}}/{self.total} ({100 * step / self.total:3.0f}%)  "
                f"loss {total_loss:.4f}{detail}  lr {lr:.2e}  {speed:,.0f} tok/s  "
                f"{format_seconds(now - self.start)} elapsed, {format_seconds(per_step * (self.total - step))} left")
        print(line, file=self.stream, flush=True)

    def evaluation(self, step: int, metrics: dict) -> None:
        """Print an evaluation's metrics on one line."""
        if self.quiet:
            return
        values = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        print(f"{self.name}  eval at step {step}:  {values}", file=self.stream, flush=True)
