"""What each PEFT method costs once trained: inference latency, a training step, a file, a mixed batch.

    inference = inference_costs({"base": base, "lora": lora_model, ...}, {1: batch_1, 32: batch_32})
    steps = training_costs({"lora": (model, optimizer), ...}, loss_fn, batch)
    nbytes = task_file_bytes(model, "task")
    mixed = mixed_batch_costs(model, ["a", "b", ...], batch)

A batch is a dict with ``input_ids`` and, if the task has them, ``segment_ids`` and
``attention_mask`` (as ``Task.batches`` gives it); a classifier reads those three.

Why latency differs although every method freezes the same base: a serial adapter adds two
small products after every sublayer, one after another; LoRA adds two beside each chosen
Linear until it is merged (then nothing: its change is inside W); (IA)^3 adds an elementwise
scaling (nothing once merged); prompt and prefix tuning add no product of their own but make
attention longer (P more positions for every query, and for a prompt P more rows through
every layer). Timings are medians of runs taken in turns (``time_interleaved_ms``), so a slow
spell on a shared machine hits every method alike; the products are counted (``count_gemms``).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..backend import array_module, to_numpy
from ..kernels.matmul import count_gemms
from ..peft import active_adapter, mixed_batch, save_adapter, set_adapter
from .step_memory import step_memory
from .timing import median, time_interleaved_ms


INPUTS = ("input_ids", "segment_ids", "attention_mask")


def model_inputs(batch: dict, rows=None) -> dict:
    """The classifier's inputs from ``batch`` (all rows, or those at index array ``rows``)."""
    return {key: batch[key] if rows is None else batch[key][rows] for key in INPUTS if batch.get(key) is not None}


def forward_pass(model, batch: dict):
    """A function that runs the model on ``batch`` once, without a graph."""
    inputs = model_inputs(batch)

    def run():
        with no_grad():
            return model(**inputs)
    return run


def inference_costs(models: dict, batches: dict, repeats: int = 20, warmup: int = 2) -> dict:
    """Forward-pass latency of each model at each batch size, timed in turns.

    ``models``: name -> model (one named "base" is the reference); ``batches``: batch size -> batch.
    Returns {name: {batch: {"ms": median, "relative": ms / base's ms, "products": counted
    matrix products, "flops": their FLOPs}}}.
    """
    if "base" not in models:
        raise ValueError(f"inference_costs: models must include the reference 'base'; got {list(models)}")
    for model in models.values():
        model.eval()
    costs = {name: {} for name in models}
    for size, batch in batches.items():
        runs = {name: forward_pass(model, batch) for name, model in models.items()}
        times = time_interleaved_ms(runs, warmup=warmup, repeats=repeats)
        for name, run in runs.items():
            with count_gemms() as count:
                run()
            costs[name][size] = {"ms": median(times[name]), "products": count.calls, "flops": count.flops}
        for name in models:
            costs[name][size]["relative"] = costs[name][size]["ms"] / costs["base"][size]["ms"]
    return costs


def training_costs(steps: dict, loss_fn, batch: dict, repeats: int = 10, warmup: int = 2) -> dict:
    """One training step per method, timed in turns, and its memory by part (``step_memory``).

    ``steps``: name -> (model, optimizer over its trainable parameters). The steps really update
    the models. Returns {name: {"step_ms": median, "parameters", "gradients", "optimizer_state",
    "activations", "total" (bytes)}}.
    """
    def one_step(model, optimizer):
        def step():
            optimizer.zero_grad()
            out = loss_fn(model, batch)
            (out["loss"] if isinstance(out, dict) else out).backward()
            optimizer.step()
        return step

    for model, _ in steps.values():
        model.train()
    times = time_interleaved_ms({name: one_step(*pair) for name, pair in steps.items()}, warmup=warmup,
                                repeats=repeats)
    return {name: {"step_ms": median(times[name]), **step_memory(model, loss_fn, batch, optimizer)}
            for name, (model, optimizer) in steps.items()}


def task_file_bytes(model, name: str) -> int:
    """Bytes on disk of task ``name``'s file (``save_adapter``: the .npz and its .json description)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.npz"
        save_adapter(model, name, path)
        return path.stat().st_size + path.with_suffix(".json").stat().st_size


def mixed_batch_costs(model, tasks: list, batch: dict, repeats: int = 20, warmup: int = 2) -> dict:
    """One batch whose rows belong to different tasks, against switching task per sub-batch.

    Returns {"mixed_ms", "switching_ms" (medians, timed in turns), "max_deviation" (largest
    |mixed - alone| over every logit of every row), "tasks" (how many distinct)}.
    """
    model.eval()
    xp = array_module(batch["input_ids"])
    inputs = model_inputs(batch)
    groups = {task: np.flatnonzero([t == task for t in tasks]) for task in dict.fromkeys(tasks)}  # task -> rows
    previous = active_adapter(model)

    def mixed():
        with mixed_batch(model, tasks), no_grad():
            return model(**inputs)["logits"].data

    def switching():
        logits = {}
        with no_grad():
            for task, rows in groups.items():
                set_adapter(model, task)
                logits[task] = model(**model_inputs(batch, xp.asarray(rows)))["logits"].data
        set_adapter(model, previous)
        return logits

    alone = {task: to_numpy(logits) for task, logits in switching().items()}
    together = to_numpy(mixed())
    expected = np.empty_like(together)
    for task, rows in groups.items():
        expected[rows] = alone[task]
    deviation = float(np.abs(together - expected).max())
    times = time_interleaved_ms({"mixed": mixed, "switching": switching}, warmup=warmup, repeats=repeats)
    return {"mixed_ms": median(times["mixed"]), "switching_ms": median(times["switching"]),
            "max_deviation": deviation, "tasks": len(groups)}
