"""Honest timing: warm up first, wait for the device, repeat, report the median.

The first call of anything is slow (caches fill, a GPU kernel compiles), and a shared
machine is noisy, so a benchmark discards warm-up runs and reports the median of
several timed runs. On a GPU the clock is read only after ``synchronize()``: kernel
launches return before the work is done.
"""
from __future__ import annotations

import gc
import os
import statistics
import time
from pathlib import Path

import numpy as np

from .. import backend

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds minipeft/


def time_ms(fn, warmup: int = 2, repeats: int = 5, device: str | None = None) -> list[float]:
    """Run ``fn`` warmup times untimed, then ``repeats`` times; return each run's milliseconds.

    As ``timeit`` does, Python's garbage collector is paused while the runs are timed: a
    collection that happens to fall inside one run (a graph of thousands of nodes makes
    them likely) would add its own time to that run alone.
    """
    for _ in range(warmup):
        fn()
    backend.synchronize(device)
    times = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            backend.synchronize(device)
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        if collecting:
            gc.enable()
    return times


def time_interleaved_ms(fns: dict, warmup: int = 2, repeats: int = 5, device: str | None = None) -> dict:
    """Time several functions in turns (a, b, a, b, ...) so that a slow spell on a shared
    machine hits them all alike; returns {name: [ms per run]}. Use it for ratios."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name] += time_ms(fn, warmup=0, repeats=1, device=device)
    return times


def median(values) -> float:
    return float(statistics.median(values))


def gemm_peak_gflops(device: str = "cpu", size: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply speed, measured now: 2 n^3 FLOPs / median time.

    A big square product is the fastest thing BLAS (or cuBLAS) does, so it is the fair
    ceiling against which a training step's FLOP rate is compared.
    """
    xp = backend.xp_for(device)
    rng = np.random.default_rng(0)
    a = xp.asarray(rng.standard_normal((size, size), dtype=np.float32))
    b = xp.asarray(rng.standard_normal((size, size), dtype=np.float32))
    ms = median(time_ms(lambda: a @ b, warmup=1, repeats=repeats, device=device))
    return 2 * size ** 3 / (ms * 1e-3) / 1e9


def child_env(**variables) -> dict:
    """The environment for a timing child process: this one, plus ``variables``, with minipeft on
    the path (installed or not). A child process gives a measurement its own thread pools."""
    env = dict(os.environ, **{name: str(value) for name, value in variables.items()})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    return env
