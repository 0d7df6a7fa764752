"""Parallel speedup, measured: the same forward + backward with one thread and with every core.

The matrix products run in BLAS (OpenBLAS with NumPy's wheels), which splits a large
product over as many threads as it is allowed; NumPy's elementwise work (adds, tanh,
softmax, layer norm) runs on one core whatever the setting. The thread count is fixed
when BLAS starts, so each measurement runs in a child process started with

    OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = n

(minipeft itself never changes thread settings). The children alternate, 1, n, 1, n, ...,
so that a slow spell of a shared machine hits both alike.

Amdahl's law: if a share p of the one-thread time parallelises perfectly over n cores and
the rest not at all, the speedup is at most 1 / ((1 - p) + p / n). Here p is the share of
time spent inside matrix products, measured in the one-thread run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from .cost_model import calibrate_cpu
from .sequential import positive_int, time_layers
from .timing import child_env, median

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def amdahl_speedup(parallel_share: float, cores: int) -> float:
    """The best speedup on ``cores`` cores when only ``parallel_share`` of the work parallelises."""
    return 1.0 / ((1.0 - parallel_share) + parallel_share / cores)


def time_in_child(threads: int, kinds, lengths, d: int, batch: int, repeats: int, calibrate: bool = False,
                  quick: bool = False) -> dict:
    """``time_layers`` in a fresh Python process whose BLAS may use ``threads`` threads; with
    ``calibrate``, also the cost model's constants measured there (key "constants"; ``quick``:
    from smaller measurements)."""
    threads = positive_int("threads", threads)
    env = child_env(MINIPEFT_DEVICE="cpu", **{name: threads for name in THREAD_VARIABLES})  # CPU threads only
    spec = json.dumps({"kinds": list(kinds), "lengths": list(lengths), "d": d, "batch": batch,
                       "repeats": repeats, "calibrate": calibrate, "quick": quick})
    proc = subprocess.run([sys.executable, "-m", "minipeft.bench.threads", spec], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the timing child with {threads} thread(s) failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def thread_speedup(kinds=("rnn", "transformer"), lengths=(16, 64, 256, 512), d: int = 128, batch: int = 8,
                   repeats: int = 3, rounds: int = 2, cores: int | None = None, quick: bool = False) -> dict:
    """Time each layer with 1 thread and with ``cores`` threads (default: every core), in turns.

    Returns {"cores", "lengths", "<kind>_ms_1", "<kind>_ms_n", "<kind>_speedup",
    "<kind>_product_share", "<kind>_amdahl", "constants_1"} (medians over the rounds;
    "constants_1": the cost model's constants measured in the one-thread children), or
    {"skipped": why} on a machine with one core.
    """
    cores = positive_int("cores", cores if cores is not None else (os.cpu_count() or 1))
    rounds = positive_int("rounds", rounds)
    if cores < 2:
        return {"skipped": f"this machine has {cores} core: there is nothing to spread the work over"}
    runs = {1: [], cores: []}
    for _ in range(rounds):
        for threads in (1, cores):
            runs[threads].append(time_in_child(threads, kinds, lengths, d, batch, repeats, calibrate=threads == 1,
                                               quick=quick))
    measured = [r["constants"] for r in runs[1]]
    result = {"cores": cores, "lengths": list(lengths), "d": d, "batch": batch, "rounds": rounds,
              "constants_1": {**measured[0], **{field: median(c[field] for c in measured) for field in
                                                ("tau_s", "product_flops_per_s", "elements_per_s")}}}
    for kind in kinds:
        one = [median(r[f"{kind}_ms"][i] for r in runs[1]) for i in range(len(lengths))]
        many = [median(r[f"{kind}_ms"][i] for r in runs[cores]) for i in range(len(lengths))]
        share = [median(r[f"{kind}_product_share"][i] for r in runs[1]) for i in range(len(lengths))]
        result.update({f"{kind}_ms_1": one, f"{kind}_ms_n": many,
                       f"{kind}_speedup": [a / b for a, b in zip(one, many)],
                       f"{kind}_product_share": share,
                       f"{kind}_amdahl": [amdahl_speedup(p, cores) for p in share]})
    return result


def _child(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m minipeft.bench.threads",
                                     description="time layers in this process (run by thread_speedup)")
    parser.add_argument("spec", help='JSON: {"kinds", "lengths", "d", "batch", "repeats"}')
    spec = json.loads(parser.parse_args(argv).spec)
    result = time_layers(spec["kinds"], spec["lengths"], spec["d"], spec["batch"], repeats=spec["repeats"])
    if spec.get("calibrate"):
        result["constants"] = calibrate_cpu(spec["quick"]).as_dict()
    print(json.dumps(result))


if __name__ == "__main__":
    _child()
