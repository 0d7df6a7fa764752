"""The PEFT family as training runs: one method at one size, on one task, with one seed.

A run is described by plain data, so that ``processes.run_jobs`` can hand it to another
process (lesson 11 trains every method over its sizes this way, two runs at a time):

    {"method": "lora", "size": 16, "task": "contrast", "seed": 0, "steps": 400, "lr": 0.01,
     "batch_size": 32, "checkpoint": None, "task_sizes": {}, "save": "/tmp/.../lora_16.npz"}

    method      a key of CONFIGS (the config each method gets at a size), or "full"
    size        r for LoRA, m for adapters, P for prompt and prefix tuning; None for the rest
    checkpoint  the pre-trained checkpoint's path; None: the shipped one
    task_sizes  load_task's n_train, n_dev, n_test (empty: the task's defaults); the task's seed is 0
    save        where to write the trained model's weights (every parameter, an .npz of
                ``serialization.save_arrays``), or None

and ``train_run(run)`` returns {"score", "trainable", "step_ms", "train_time_s", "saved"}.
Every run starts from a fresh copy of the pre-trained weights; its head is drawn from
``seed``, which also orders the batches (``sweeps.fit``).
"""
from __future__ import annotations

import functools

from ..data import load_task
from ..peft import (AdapterConfig, BitFitConfig, IA3Config, LayerNormConfig, LoraConfig, PrefixTuningConfig,
                    PromptTuningConfig, get_peft_model)
from ..serialization import load_arrays, save_arrays
from .sweeps import fit, fresh_pretrained, shared_task_model

#: method: (the letter its size goes by, the config for a size). "full" trains every weight (no config).
CONFIGS = {
    "lora": ("r", lambda r: LoraConfig(r=r, alpha=8)),
    "adapter": ("m", lambda m: AdapterConfig(bottleneck=m)),
    "pfeiffer": ("m", lambda m: AdapterConfig(bottleneck=m, placement="pfeiffer")),
    "parallel": ("m", lambda m: AdapterConfig(bottleneck=m, placement="parallel")),
    "prompt": ("P", lambda p: PromptTuningConfig(num_virtual_tokens=p)),  # the input moves P positions on
    "prompt_keep": ("P", lambda p: PromptTuningConfig(num_virtual_tokens=p, positions="keep")),
    "prefix": ("P", lambda p: PrefixTuningConfig(num_virtual_tokens=p)),
    "bitfit": ("", lambda _: BitFitConfig()),
    "ia3": ("", lambda _: IA3Config()),
    "layer_norm": ("", lambda _: LayerNormConfig()),
}
METHODS = ("full", *CONFIGS)


def size_letter(method: str) -> str:
    """"r", "m" or "P": what ``method``'s size counts; "" for a method without a size."""
    return "" if method == "full" else CONFIGS[_known(method)][0]


def _known(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    return method


@functools.lru_cache(maxsize=8)
def cached_task(name: str, sizes: tuple = ()):
    """``load_task(name, seed=0, **dict(sizes))``, made once per process."""
    return load_task(name, seed=0, **dict(sizes))


def fresh_classifier(task, seed: int, checkpoint: str | None = None):
    """A task model on a new copy of the pre-trained weights, its head drawn from ``seed``."""
    return shared_task_model(fresh_pretrained(checkpoint), task, seed=seed)


def build_model(method: str, size, task, seed: int, checkpoint: str | None = None):
    """A model for ``task`` with ``method`` at ``size`` (its task named "task"), not trained."""
    model = fresh_classifier(task, seed, checkpoint)
    if _known(method) == "full":
        model.unfreeze()
    else:
        get_peft_model(model, CONFIGS[method][1](size), name="task")
    return model


def task_of(run: dict):
    return cached_task(run["task"], tuple(sorted(run.get("task_sizes", {}).items())))


def train_run(run: dict) -> dict:
    """Build, train and score the run's model (see the module docstring); save its weights if asked."""
    task = task_of(run)
    model = build_model(run["method"], run["size"], task, run["seed"], run.get("checkpoint"))
    result = fit(model, task, steps=run["steps"], lr=run["lr"], seed=run["seed"], batch_size=run["batch_size"])
    if run.get("save"):
        save_arrays(run["save"], model.state_dict(), {"method": run["method"], "size": run["size"]})
    return {"score": result["score"], "trainable": result["trainable"], "step_ms": result["step_ms"],
            "train_time_s": result["train_time_s"], "saved": run.get("save")}


def load_trained(run: dict):
    """The model a ``train_run`` saved at ``run["save"]``, rebuilt and loaded."""
    model = build_model(run["method"], run["size"], task_of(run), run["seed"], run.get("checkpoint"))
    weights, _ = load_arrays(run["save"])
    model.load_state_dict(weights)
    return model
