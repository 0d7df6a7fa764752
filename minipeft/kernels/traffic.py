"""What every op costs besides its matrix products: one dispatch, and the elements it moves.

``count_gemms`` (``matmul.py``) adds up the FLOPs of the matrix products. The rest of a
step's time goes to two other things, counted here:

* **dispatches** (``ops``): every op's forward and every op's backward is one call from
  Python (on a GPU: one or a few kernel launches). Each pays a fixed cost, however small
  its arrays, so a graph of many tiny ops is slow even when it does little arithmetic.
  Counted by ``Function.apply`` and ``backward()`` whenever ``count_traffic()`` is active.
* **elements** read and written by NumPy's passes over memory: the elementwise work (adds,
  tanh, GELU's several passes, softmax, layer norm, the row sums inside them), which does
  one or two operations per element, so memory, not arithmetic, sets its time; and the
  operands and results of the matrix products too, since a product whose result is large
  for its work (attention's T x T scores: only dh multiply-adds per element written) is
  held back by memory as well. They are counted by *watching* NumPy: arrays viewed as
  ``WatchedArray`` report every NumPy pass made over them (each ufunc call, reduction,
  ``matmul``, ``where``, ``stack``, ...): the elements of its array inputs and of its
  output. Views (reshape, transpose, slicing) move nothing and are not counted. Only
  watched arrays are counted: ``bench.sequential.layer_work`` watches a layer's input and
  weights, so everything computed from them is watched too.

    with count_traffic() as traffic, count_gemms() as products:
        loss = model(watch(x)).sum(); loss.backward()
    traffic.ops, traffic.elements, products.flops

These counts are the S and E of the cost model ``time = S tau + W / R + E / B``
(``minipeft.bench.cost_model``).
"""
from __future__ import annotations

import numpy as np

_counters: list["TrafficCount"] = []


class TrafficCount:
    """Dispatches (forward and backward calls of ops) and elements read + written by NumPy passes."""

    def __init__(self):
        self.ops = 0
        self.elements = 0


class count_traffic:
    """Context manager: count the dispatches and elements moved inside it (module docstring)."""

    def __enter__(self) -> TrafficCount:
        self.count = TrafficCount()
        _counters.append(self.count)
        return self.count

    def __exit__(self, *exc):
        _counters.remove(self.count)


def counting() -> bool:
    """True inside ``count_traffic()``: callers skip the bookkeeping otherwise."""
    return bool(_counters)


def add(ops: int = 0, elements: int = 0) -> None:
    for counter in _counters:
        counter.ops += ops
        counter.elements += int(elements)


def _arrays(values):
    """Every ndarray among ``values``, looking one level into lists and tuples (stack, concatenate)."""
    for value in values:
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, np.ndarray))


def _plain(value):
    """A WatchedArray as a plain ndarray view (lists and tuples element by element)."""
    if isinstance(value, WatchedArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _watched(value):
    """Results back as WatchedArray views, so that the next pass over them is counted too."""
    if isinstance(value, np.ndarray) and not isinstance(value, WatchedArray):
        return value.view(WatchedArray)
    if isinstance(value, tuple):
        return tuple(_watched(v) for v in value)
    return value


def _moved(inputs, result) -> int:
    outputs = result if isinstance(result, tuple) else (result,)
    return sum(a.size for a in _arrays(inputs)) + sum(a.size for a in _arrays(outputs))


class WatchedArray(np.ndarray):
    """An ndarray that adds to ``count_traffic`` the elements each NumPy pass over it reads and writes."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None:
            kwargs["out"] = _plain(out)
        result = getattr(ufunc, method)(*_plain(inputs), **kwargs)
        add(elements=_moved(inputs, result))
        if out is not None:  # written in place: hand back the caller's (watched) arrays
            return out[0] if len(out) == 1 else out
        return _watched(result)

    def __array_function__(self, func, types, args, kwargs):
        result = func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
        if isinstance(result, np.ndarray):  # np.shape, np.ndim, ... move nothing
            add(elements=_moved(args, result))
        return _watched(result)


def watch(array):
    """``array`` as a WatchedArray view (CuPy arrays are returned as they are: nothing to watch)."""
    return array.view(WatchedArray) if isinstance(array, np.ndarray) else array
