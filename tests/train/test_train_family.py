"""minipeft.train.family: each PEFT method as a run described by plain data, trained anywhere.

A run built from a small checkpoint (d 32, one layer) and a small task trains, scores, saves its
weights, and loads back into the same predictions; two runs give the same answer here and in
worker processes.
"""
import numpy as np
import pytest

from minipeft.nn import BertForPreTraining
from minipeft.peft import list_adapters, parameter_summary
from minipeft.train import save_checkpoint
from minipeft.train.family import (CONFIGS, METHODS, build_model, cached_task, load_trained, size_letter,
                                   train_run)
from minipeft.train.processes import run_jobs

SIZES = {"n_train": 48, "n_dev": 16, "n_test": 32}


@pytest.fixture
def checkpoint(config, tmp_path):
    path = tmp_path / "bert.npz"
    save_checkpoint(BertForPreTraining(config), path)
    return str(path)


def run(checkpoint, tmp_path, method="lora", size=2, seed=0, save=True):
    return {"method": method, "size": size, "task": "sentiment", "seed": seed, "steps": 3, "lr": 1e-2,
            "batch_size": 8, "checkpoint": checkpoint, "task_sizes": SIZES,
            "save": str(tmp_path / f"{method}_{seed}.npz") if save else None}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_builds_its_task_and_trains_only_its_part(method, checkpoint):
    task = cached_task("sentiment", tuple(sorted(SIZES.items())))
    size = 2 if size_letter(method) else None
    model = build_model(method, size, task, seed=0, checkpoint=checkpoint)
    summary = parameter_summary(model)
    if method == "full":
        assert summary["trainable"] == summary["total"] and list_adapters(model) == []
    else:
        assert 0 < summary["trainable"] < summary["total"] and list_adapters(model) == ["task"]


def test_size_letters_and_unknown_methods():
    assert [size_letter(m) for m in ("full", "lora", "adapter", "prompt", "bitfit")] == ["", "r", "m", "P", ""]
    assert set(CONFIGS) == set(METHODS) - {"full"}
    with pytest.raises(ValueError, match="unknown method 'loar'; choose one of"):
        size_letter("loar")


def test_a_run_trains_scores_and_saves_weights_that_load_back(checkpoint, tmp_path):
    job = run(checkpoint, tmp_path)
    result = train_run(job)
    assert set(result) == {"score", "trainable", "step_ms", "train_time_s", "saved"}
    assert 0.0 <= result["score"] <= 1.0 and result["saved"] == job["save"]
    loaded = load_trained(job)
    fresh = build_model("lora", 2, cached_task("sentiment", tuple(sorted(SIZES.items()))), 0, checkpoint)
    changed = [name for name, value in loaded.state_dict().items()
               if not np.array_equal(value, fresh.state_dict()[name])]
    assert changed and all(("lora" in name) or ("head" in name) or ("norm" in name) for name in changed)
    again = train_run(run(checkpoint, tmp_path, save=False))
    assert again["score"] == result["score"] and again["saved"] is None  # the same seed, the same run


def test_runs_in_worker_processes_match_runs_here(checkpoint, tmp_path):
    jobs = [run(checkpoint, tmp_path, method, size, save=False) for method, size in (("lora", 2), ("bitfit", None))]
    here = run_jobs("minipeft.train.family:train_run", jobs, workers=1)
    there = run_jobs("minipeft.train.family:train_run", jobs, workers=2)
    for a, b in zip(here, there):
        assert a["trainable"] == b["trainable"]
        assert abs(a["score"] - b["score"]) <= 1 / SIZES["n_test"]  # one BLAS thread may round differently
