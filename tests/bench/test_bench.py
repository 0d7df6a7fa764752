"""The benchmark's bookkeeping (not its timings: speed is measured by `python -m minipeft.bench`,
never asserted in a test)."""
import json
import subprocess
import sys

import numpy as np

from minipeft.bench import TrainingStep, median, time_ms
from minipeft.bench.flops import full_training_step_flops


def test_counted_flops_of_a_full_step_match_the_shapes():
    step = TrainingStep("bench-small")
    assert step.flops() == full_training_step_flops(step.config, step.batch_size, step.seq)


def test_a_training_step_changes_every_weight_and_lowers_the_loss():
    step = TrainingStep("bench-small", lr=1e-5)
    before = {name: p.numpy().copy() for name, p in step.model.named_parameters()}
    losses = [step() for _ in range(4)]
    assert losses[-1] < losses[0]
    unchanged = [name for name, p in step.model.named_parameters() if np.array_equal(before[name], p.numpy())]
    # only the embedding rows of ids never drawn and the unused segment row could stay put
    assert all("embeddings" in name for name in unchanged), unchanged


def test_time_ms_discards_warmup_and_returns_one_time_per_repeat():
    calls = []
    times = time_ms(lambda: calls.append(1), warmup=3, repeats=4)
    assert len(calls) == 7 and len(times) == 4 and all(t >= 0 for t in times)
    assert median([3.0, 1.0, 2.0]) == 2.0


def test_time_ms_pauses_the_garbage_collector_only_while_timing():
    import gc

    seen = []
    time_ms(lambda: seen.append(gc.isenabled()), warmup=1, repeats=2)
    assert seen == [True, False, False] and gc.isenabled()


def test_json_report_has_the_documented_keys():
    out = subprocess.run([sys.executable, "-m", "minipeft.bench", "--quick", "--json"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    report = json.loads(out)
    for key in ("config", "full_step_ms", "flops_per_step", "gemm_peak_gflops", "efficiency", "device",
                "adapter_step_ms", "adapter_vs_full", "rnn_vs_transformer", "torch_separate_process"):
        assert key in report, key
    series = report["rnn_vs_transformer"]
    assert len(series["rnn_ms"]) == len(series["transformer_ms"]) == len(series["lengths"])
    assert series["rnn_sequential_steps"] == series["lengths"]
    assert 0 < report["efficiency"] and report["flops_per_step"] > 1e9
    # an adapter step skips the weight gradients of every frozen matrix: fewer FLOPs
    assert report["adapter_flops_per_step"] < 0.75 * report["flops_per_step"]
    assert report["adapter_trainable_parameters"] < 0.05 * report["parameters"]
