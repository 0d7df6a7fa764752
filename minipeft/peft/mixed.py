"""Many tasks, one batch: each row of a batch computed with its own task, on one shared base.

    with mixed_batch(model, ["sentiment", "pair", "sentiment", None]):   # None: the base model
        logits = model(ids)["logits"]        # row i = what task i alone would give for row i

Hugging Face peft calls this mixed adapter batches: a server holding one base model and many
tasks answers requests for different tasks in one forward pass instead of one pass per task.

How: every place where tasks differ runs once per task, on that task's rows only, and the
pieces are put back in the batch's order:

* each TaskWrapper (adapter, LoRA, (IA)^3) gets ``rows`` (a ``Routes``), and applies task t
  to the rows of task t (``TaskWrapper.forward``);
* each module holding per-task slot weights (the layer norms and head a task carries, BitFit's
  biases) runs once per task with that task's weights in its slots.

Everything else (the frozen products, attention, the embeddings) runs once on the whole
batch: that is the saving over switching tasks per sub-batch, which runs the whole model once
per task. Each piece is the same computation on fewer rows, so each row equals its task run
alone up to the rounding of a product over fewer rows.

Prompt and prefix tuning are not supported: their hooks are called with the batch size, not
with rows (a prompt also changes the length of the sequence).
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict

from .. import functional as F
from ..autograd import Tensor
from ..backend import array_module
from ..nn.module import Module
from .model import activate
from .state import PeftState, put, require_state

UNSUPPORTED = ("prompt", "prefix")


class Routes:
    """Which rows of a batch belong to which task, and how to put per-task pieces back in order."""

    def __init__(self, tasks: list, xp):
        self.batch = len(tasks)
        groups = OrderedDict()
        for row, task in enumerate(tasks):
            groups.setdefault(task, []).append(row)
        self.groups = [(task, xp.asarray(rows)) for task, rows in groups.items()]  # task -> its row indices
        order = xp.concatenate([rows for _, rows in self.groups])
        self.inverse = xp.argsort(order)  # piece row -> batch row

    def split(self, value, rows):
        """``value``'s rows for one task, if it is a batch of rows (a Tensor or array with B rows), else itself."""
        if isinstance(value, Tensor) or hasattr(value, "shape"):
            if value.ndim and value.shape[0] == self.batch:
                return value[rows]
        return value

    def route(self, fn, x, *args, **kwargs):
        """fn(task, x_rows, *args_rows, **kwargs_rows) for each task, put back in the batch's order."""
        parts = []
        for task, rows in self.groups:
            parts.append(fn(task, self.split(x, rows), *(self.split(a, rows) for a in args),
                            **{k: self.split(v, rows) for k, v in kwargs.items()}))
        if len(parts) == 1:
            return parts[0]
        return F.concatenate(parts, axis=0)[self.inverse]  # (B, ...)


def _slot_modules(state: PeftState) -> "OrderedDict[int, tuple]":
    """id(module) -> (module, [(attribute, slot name)]) for every module that holds slot weights."""
    found = OrderedDict()
    for slot, (module, attribute) in state.places.items():
        found.setdefault(id(module), (module, []))[1].append((attribute, slot))
    return found


def _route_slots(state: PeftState, module: Module, attributes: list, routes: Routes) -> None:
    """Make ``module`` run once per task, with that task's weights (or the base ones) in its slots."""
    plain_forward = type(module).forward

    def per_task(task, *args, **kwargs):
        own = state.tasks[task].slots if task is not None else {}
        for attribute, slot in attributes:
            put(module, attribute, own.get(slot, state.base[slot]))
        return plain_forward(module, *args, **kwargs)

    object.__setattr__(module, "forward", lambda x, *args, **kwargs: routes.route(per_task, x, *args, **kwargs))


def _set_trainable(state: PeftState, task: str) -> None:
    for _, module in state.task_modules(task):
        for param in module.parameters():
            param.requires_grad = True
    for param in state.tasks[task].slots.values():
        param.requires_grad = True


@contextlib.contextmanager
def mixed_batch(model: Module, tasks: list):
    """Inside, row i of every batch is computed with task ``tasks[i]`` (a name, or None for the base
    model); the batch must have len(tasks) rows. The tasks in it are trainable, each from its own rows
    (so one backward trains several tasks). The active task comes back afterwards."""
    state = require_state(model, "mixed_batch")
    if state.method in UNSUPPORTED:
        raise ValueError(f"mixed_batch: {state.method!r} tasks cannot share a batch (their hooks change every row "
                         f"the same way); methods that can: adapter, lora, ia3, bitfit and the freezing baselines")
    unknown = sorted({t for t in tasks if t is not None and t not in state.tasks})
    if not tasks or unknown:
        raise ValueError(f"mixed_batch: every row needs a task the model has ({list(state.tasks)}) or None; "
                         f"got {'no rows' if not tasks else f'unknown tasks {unknown}'}")
    previous = state.active
    activate(state, None)  # no merged weights; the wrappers and slots are driven by the routes instead
    like = next(iter(model.parameters()))
    routes = Routes(list(tasks), array_module(like.data))
    routed = list(_slot_modules(state).values())
    for _, _, wrapper in state.wrappers.values():
        object.__setattr__(wrapper, "rows", routes)
    for task in {t for t in tasks if t is not None}:  # the batch's tasks train, each on its own rows
        _set_trainable(state, task)
    for module, attributes in routed:
        _route_slots(state, module, attributes, routes)
    try:
        yield model
    finally:
        for _, _, wrapper in state.wrappers.values():
            object.__setattr__(wrapper, "rows", None)
        for module, _ in routed:
            object.__delattr__(module, "forward")
        activate(state, previous if previous in state.tasks else None)
