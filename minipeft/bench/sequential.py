"""Sequential vs parallel: one RNN, LSTM or Transformer encoder layer, counted and timed.

Vaswani et al. (2017), Table 1, compares a recurrent layer with a self-attention layer
over a sequence of n = T positions of width d:

    layer            work per layer   sequential operations   maximum path length
    self-attention   O(n^2 d)         O(1)                    O(1)
    recurrent        O(n d^2)         O(n)                    O(n)

Here each column is *measured* on minipeft's own graph, for forward + backward of one
layer on a batch of B sequences (``layer_work``):

* work: the FLOPs of the counted matrix products (``count_gemms``). Exactly, with every
  input wanting a gradient (backward = 2 products per forward product):

      RNN      12 B T d^2 - 2 B d^2       x W_x, then h W_h at each of the T steps
      LSTM     48 B T d^2 - 8 B d^2       the same with four gates (widths 4d)
      encoder  3 B (24 T d^2 + 4 T^2 d)   q, k, v, output and the d -> 4d -> d feed-forward;
                                          scores Q K^T and the weighted sum P V

  (the recurrent layers start from a constant zero state h_0, so the product h_0 W_h needs
  no gradient for h_0: one (B, d) x (d, d) product fewer; the encoder's 4 T^2 d is the
  attention that grows with the square of the length);
* sequential steps: the depth of the recorded graph (``autograd.graph_depth``), the longest
  chain of ops from the input to the loss;
* path length: the position-mixing ops on the longest chain from the input to the output
  at the last position T: the products h_{t-1} W_h for a recurrent layer (T - 1 of them
  between position 1 and position T), the attention op for the encoder (1).

``time_layers`` times the same forward + backward (median of several runs) and measures
how much of it is spent inside the matrix products; ``cost_model`` explains the times.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import Tensor, graph_depth
from ..autograd.ops.attention import ScaledDotProductAttention
from ..autograd.ops.linalg import MatMul
from ..kernels.matmul import count_gemms
from ..kernels.traffic import count_traffic, watch
from ..nn import LSTM, RNN, EncoderLayer
from .timing import median, time_ms

LAYERS = ("rnn", "lstm", "transformer")
#: the op that carries information from one position to another in each kind of layer
POSITION_MIXING_OPS = {"rnn": (MatMul,), "lstm": (MatMul,), "transformer": (ScaledDotProductAttention,)}


def positive_int(name: str, value) -> int:
    """``value`` if it is a positive int, else a ValueError naming ``name`` and what came."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def make_layer(kind: str, d: int, heads: int = 4):
    """One layer of width d: an Elman RNN, an LSTM, or a BERT encoder layer (FF 4d, ``heads`` heads)."""
    if kind == "rnn":
        return RNN(d, d)
    if kind == "lstm":
        return LSTM(d, d)
    if kind == "transformer":
        return EncoderLayer(d, heads, 4 * d)
    raise ValueError(f"layer kind must be one of {LAYERS}, got {kind!r}")


def closed_form_flops(kind: str, batch: int, length: int, d: int) -> int:
    """Forward + backward matrix-product FLOPs of one layer (module docstring), from the formula."""
    B, T = batch, length
    if kind == "rnn":
        return 12 * B * T * d * d - 2 * B * d * d
    if kind == "lstm":
        return 48 * B * T * d * d - 8 * B * d * d
    if kind == "transformer":
        return 3 * B * (24 * T * d * d + 4 * T * T * d)
    raise ValueError(f"layer kind must be one of {LAYERS}, got {kind!r}")


def random_input(batch: int, length: int, d: int, requires_grad: bool = True) -> Tensor:
    """A (B, T, d) float32 input on the current device, the same for a given length."""
    xp = backend.xp_for(backend.get_device())
    data = np.random.default_rng(length).standard_normal((batch, length, d), dtype=np.float32)
    return Tensor(xp.asarray(data), requires_grad=requires_grad)


def _output(layer, x: Tensor) -> Tensor:
    out = layer(x)
    return out[0] if isinstance(out, tuple) else out  # RNN and LSTM return (outputs, last state)


def forward_backward(layer, x: Tensor) -> None:
    """The unit that is counted and timed: loss = sum of the layer's outputs, then backward."""
    F.sum(_output(layer, x)).backward()


def layer_work(kind: str, length: int, d: int = 128, batch: int = 8, heads: int = 4) -> dict:
    """Counted work of one forward + backward: FLOPs, dispatches, elements moved, depth, path length."""
    length, d, batch = positive_int("length", length), positive_int("d", d), positive_int("batch", batch)
    layer, x = make_layer(kind, d, heads), random_input(batch, length, d)
    for parameter in layer.parameters():  # watched: every NumPy pass over them (and what follows) is counted
        parameter.data = watch(parameter.data)
    x.data = watch(x.data)
    output = _output(layer, x)  # (B, T, d)
    loss = F.sum(output)
    last_position = F.sum(output[:, length - 1])  # what position T's output depends on
    work = {"sequential_steps": graph_depth(loss),
            "path_length": graph_depth(last_position, source=x, counts=POSITION_MIXING_OPS[kind])}
    with count_gemms() as counted, count_traffic() as traffic:
        forward_backward(layer, x)
    work.update(flops=counted.flops, dispatches=traffic.ops, elements=traffic.elements,
                closed_form_flops=closed_form_flops(kind, batch, length, d))
    return work


def time_layers(kinds=("rnn", "transformer"), lengths=(16, 32, 64, 128, 256, 512), d: int = 128,
                batch: int = 8, heads: int = 4, repeats: int = 3) -> dict:
    """Median ms of forward + backward per kind and length, with the share spent in matrix products.

    Returns {"lengths", "d", "batch", "<kind>_ms": [...], "<kind>_gflops": [...],
    "<kind>_product_share": [...]} (GFLOP/s = counted product FLOPs / time; the product share
    is read on the host clock, so it is meaningful on the CPU only).
    """
    repeats = positive_int("repeats", repeats)
    lengths = [positive_int("length", t) for t in lengths]
    series = {"lengths": lengths, "d": d, "batch": batch}
    for kind in kinds:
        layer = make_layer(kind, d, heads)
        for name in ("ms", "gflops", "product_share"):
            series[f"{kind}_{name}"] = []
        for length in lengths:
            x = random_input(batch, length, d)
            with count_gemms() as counted:
                forward_backward(layer, x)  # also the warm-up
            runs, shares = [], []
            for _ in range(repeats):
                with count_gemms() as in_products:  # also the seconds spent inside the products
                    ms = time_ms(lambda: forward_backward(layer, x), warmup=0, repeats=1)[0]
                runs.append(ms)
                shares.append(in_products.seconds * 1e3 / ms)
            ms = median(runs)
            series[f"{kind}_ms"].append(ms)
            series[f"{kind}_gflops"].append(counted.flops / (ms * 1e-3) / 1e9)
            series[f"{kind}_product_share"].append(median(shares))
    return series


def rnn_vs_transformer(lengths=(16, 32, 64, 128, 256, 512), d: int = 128, batch: int = 8,
                       heads: int = 4, repeats: int = 3) -> dict:
    """``time_layers`` for one RNN layer against one encoder layer (what the benchmark reports),
    with the sequential steps of each: T for the RNN, 1 for the Transformer layer."""
    series = time_layers(("rnn", "transformer"), lengths, d, batch, heads, repeats)
    series.update(rnn_sequential_steps=list(series["lengths"]),
                  transformer_sequential_steps=[1] * len(series["lengths"]))
    return series


def count_layers(kinds=LAYERS, lengths=(16, 64, 256, 1024), d: int = 128, batch: int = 8, heads: int = 4) -> dict:
    """``layer_work`` of each kind at each length: {kind: [work per length]}."""
    return {kind: [layer_work(kind, length, d, batch, heads) for length in lengths] for kind in kinds}
