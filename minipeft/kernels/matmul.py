"""Matrix products: every GEMM in minipeft goes through ``gemm`` so that it can be counted.

Counting shows what ``ctx.needs_input_grad`` buys: a linear layer whose weight is frozen
does two matrix products per step (forward, and the gradient for its input) instead of three.

    with count_gemms() as count:
        loss.backward()
    print(count.calls)
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_counters: list["GemmCount"] = []


class GemmCount:
    """How many matrix products ran, and how many floating-point operations they did."""

    def __init__(self):
        self.calls = 0
        self.flops = 0

    def add(self, a, b, out) -> None:
        self.calls += 1
        self.flops += 2 * out.size * a.shape[-1]


class count_gemms:
    """Context manager: count the matrix products run inside it (see the module docstring)."""

    def __enter__(self) -> GemmCount:
        self.count = GemmCount()
        _counters.append(self.count)
        return self.count

    def __exit__(self, *exc):
        _counters.remove(self.count)


def gemm(a, b):
    """a @ b (batched and broadcasting like numpy.matmul), counted."""
    out = _batched_on_threads(a, b) if _worth_threading(a, b) else a @ b
    for counter in _counters:
        counter.add(a, b, out)
    return out


# ---- batched products on the CPU ------------------------------------------------------
# numpy.matmul runs a stack of small matrices (attention: batch x heads of T x T) one after
# another on one core, and slowly when an operand is a transposed view. Splitting the
# batch across a thread per core (NumPy releases the GIL inside matmul) is 2-6x faster
# on a two-core machine; a single large matrix product is left to BLAS, which threads itself.
_CORES = os.cpu_count() or 1
_pool = ThreadPoolExecutor(max_workers=_CORES) if _CORES > 1 else None


def _worth_threading(a, b) -> bool:
    return (_pool is not None and isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
            and a.ndim >= 3 and a.shape[:-2] == b.shape[:-2] and a.shape[0] >= _CORES)


def _batched_on_threads(a, b):
    out = np.empty(a.shape[:-1] + b.shape[-1:], dtype=np.result_type(a, b))
    bounds = np.linspace(0, a.shape[0], _CORES + 1).astype(int)
    chunks = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    list(_pool.map(lambda rows: np.matmul(a[rows], b[rows], out=out[rows]), chunks))
    return out
