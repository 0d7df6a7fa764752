"""Matrix products: every GEMM in minipeft goes through ``gemm`` so that it can be counted.

Counting shows what ``ctx.needs_input_grad`` buys: a linear layer whose weight is frozen
does two matrix products per step (forward, and the gradient for its input) instead of three.

    with count_gemms() as count:
        loss.backward()
    print(count.calls)
"""
from __future__ import annotations

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
    out = a @ b
    for counter in _counters:
        counter.add(a, b, out)
    return out
