"""The GPU part of ``python -m minipeft.bench --device cuda``: each CUDA kernel against the
naive CuPy composition of the same math, and the training step with and without the kernels
(the adapter step and the PyTorch comparison are in every report).

"Naive composition" means the kernel family's own reference run on CuPy arrays (inside
``kernels.cuda.kernels_disabled()``): the same formulas as a chain of CuPy array
operations, each a kernel launch that reads and writes whole arrays. The fused kernel
does the chain in one launch and one pass over memory, so the speedup is mostly memory
traffic saved. (For ``tiled_matmul`` the "naive" side is CuPy's matmul, i.e. cuBLAS: the
tiled kernel is there to learn from, not to win.)

``CASES`` lists the kernels with inputs of the bench-base shapes ("bench") and of small
shapes ("small", for the CPU and ``--quick``); the kernel tests reuse them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import backend
from ..kernels import adam, attention, cross_entropy, cuda, gelu, layernorm, matmul, softmax
from .steps import TrainingStep
from .timing import median, time_ms
from .torch_reference import torch_row


# ---- the kernels and their inputs ---------------------------------------------------------
@dataclass
class KernelCase:
    """One kernel family's forward (and backward), run through its public functions.

    ``inputs(rng, spec, dtype)`` makes NumPy inputs (and options) for one shape ``spec``;
    ``forward(inputs)`` returns a tuple of outputs; ``backward(inputs, forward_outputs)`` too.
    The public functions dispatch, so the same case runs the kernel (CuPy arrays), the naive
    composition (CuPy arrays, kernels disabled) or the reference (NumPy arrays).
    """

    name: str
    inputs: Callable
    forward: Callable
    backward: Callable | None
    sizes: dict  # "bench" and "small": a spec for inputs()
    what: str    # where such shapes occur


def _normal(rng, shape, dtype, scale=1.0, loc=0.0):
    return (loc + scale * rng.standard_normal(shape)).astype(dtype)


def _rows_inputs(rng, shape, dtype):
    return {"x": _normal(rng, shape, dtype, 3.0), "dy": _normal(rng, shape, dtype)}


def _layer_norm_inputs(rng, shape, dtype):
    d = shape[-1]
    return {"x": _normal(rng, shape, dtype, 3.0, 1.0), "gamma": _normal(rng, d, dtype, 0.1, 1.0),
            "beta": _normal(rng, d, dtype, 0.1), "dy": _normal(rng, shape, dtype), "eps": 1e-5}


def _cross_entropy_inputs(rng, shape, dtype):
    rows, classes = shape
    targets = rng.integers(0, classes, rows)
    targets[rng.random(rows) < 0.2] = -100  # some rows ignored, as padding in masked LM
    return {"logits": _normal(rng, shape, dtype, 3.0), "targets": targets.astype(np.int64),
            "dloss": np.asarray(0.7, dtype=dtype)}


def attention_mask(rng, shape, kind: str):
    """A boolean mask for q of ``shape`` (..., T, dh): "padding" (B, 1, 1, T) with a fully
    padded last sequence when B > 1, "causal" (T, T), "random" (..., T, T): a different
    mask for every batch entry and head, or None."""
    batch, length = shape[0], shape[-2]
    if kind == "causal":
        return np.tril(np.ones((length, length), dtype=bool))
    if kind == "random":
        return rng.random(tuple(shape[:-1]) + (length,)) < 0.7
    if kind == "padding":
        lengths = rng.integers(1, length + 1, batch)
        if batch > 1:
            lengths[-1] = 0  # a sequence of padding only: its queries attend uniformly
        return (np.arange(length)[None, :] < lengths[:, None])[:, None, None, :]
    return None


def _attention_inputs(rng, spec, dtype):
    shape, kind = spec
    return {"q": _normal(rng, shape, dtype), "k": _normal(rng, shape, dtype), "v": _normal(rng, shape, dtype),
            "dout": _normal(rng, shape, dtype), "mask": attention_mask(rng, shape, kind)}


def _adam_inputs(rng, spec, dtype):
    n, variant = spec
    return {"p": _normal(rng, n, dtype), "g": _normal(rng, n, dtype), "m": _normal(rng, n, dtype, 0.1),
            "v": np.abs(_normal(rng, n, dtype, 0.01)),
            "options": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, step=3,
                            weight_decay=0.0 if variant == "adam" else 0.01, decoupled=variant == "adamw")}


def _adam_forward(a):
    adam.adam_step(a["p"], a["g"], a["m"], a["v"], **a["options"])
    return a["p"], a["m"], a["v"]


def _matmul_inputs(rng, spec, dtype):
    *batch, m, k, n = spec
    return {"a": _normal(rng, (*batch, m, k), dtype), "b": _normal(rng, (*batch, k, n), dtype)}


CASES = [
    KernelCase("softmax", _rows_inputs,
               lambda a: (softmax.softmax_forward(a["x"]),),
               lambda a, out: (softmax.softmax_backward(out[0], a["dy"]),),
               {"bench": (32 * 12 * 128, 128), "small": (2048, 64)}, "attention rows, B*H*T x T"),
    KernelCase("log_softmax", _rows_inputs,
               lambda a: (softmax.log_softmax_forward(a["x"]),),
               lambda a, out: (softmax.log_softmax_backward(out[0], a["dy"]),),
               {"bench": (4096, 1024), "small": (512, 256)}, "classifier rows"),
    KernelCase("layer_norm", _layer_norm_inputs,
               lambda a: layernorm.layer_norm_forward(a["x"], a["gamma"], a["beta"], a["eps"]),
               lambda a, out: layernorm.layer_norm_backward(a["dy"], out[1], out[2], a["gamma"]),
               {"bench": (32 * 128, 768), "small": (2048, 128)}, "B*T tokens x d"),
    KernelCase("gelu", _rows_inputs,
               lambda a: gelu.gelu_forward(a["x"]),
               lambda a, out: (gelu.gelu_backward(a["x"], out[1], a["dy"]),),
               {"bench": (32 * 128, 3072), "small": (2048, 512)}, "B*T tokens x ff"),
    KernelCase("cross_entropy", _cross_entropy_inputs,
               lambda a: cross_entropy.cross_entropy_forward(a["logits"], a["targets"]),
               lambda a, out: (cross_entropy.cross_entropy_backward(*out[1:], a["dloss"]),),
               {"bench": (1024, 30522), "small": (512, 1000)}, "masked-LM logits, tokens x vocabulary"),
    KernelCase("attention", _attention_inputs,
               lambda a: attention.attention_forward(a["q"], a["k"], a["v"], a["mask"]),
               lambda a, out: attention.attention_backward(a["dout"], out[1], a["q"], a["k"], a["v"], a["mask"]),
               {"bench": ((32, 12, 128, 64), "padding"), "small": ((32, 4, 64, 32), "padding")},
               "B, H, T, d/H with a padding mask"),
    KernelCase("adam", _adam_inputs, _adam_forward, None,
               {"bench": (30522 * 768, "adamw"), "small": (1_000_000, "adamw")}, "the BERT-Base token table"),
    KernelCase("tiled_matmul", _matmul_inputs,
               lambda a: (matmul.tiled_matmul(a["a"], a["b"]),), None,
               {"bench": (4096, 768, 3072), "small": (512, 128, 512)}, "B*T x d times d x ff (vs cuBLAS)"),
]
CASES_BY_NAME = {case.name: case for case in CASES}


def to_device(inputs: dict, device: str) -> dict:
    """A copy of ``inputs`` with every array on ``device`` (options stay as they are)."""
    return {k: (backend.to_device(v, device) if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


def describe(spec) -> str:
    shape = spec[0] if isinstance(spec[0], tuple) else spec
    text = " x ".join(str(n) for n in (shape if isinstance(shape, tuple) else (shape,)) if not isinstance(n, str))
    return text + (f" ({spec[1]})" if isinstance(spec, tuple) and isinstance(spec[-1], str) else "")


def _time(fn, device: str, repeats: int, inner: int) -> float:
    """Median milliseconds of one call of fn: each timed run makes ``inner`` calls, then syncs."""
    return median(time_ms(lambda: [fn() for _ in range(inner)], warmup=2, repeats=repeats, device=device)) / inner


def time_kernels(device: str, size: str = "bench", repeats: int = 7, names=None) -> list[dict]:
    """For each case: on "cuda" the fused kernel and the naive composition, forward and
    backward (median ms, and speedup = naive / fused); on "cpu" the NumPy reference alone."""
    inner = 10 if device == "cuda" else 1
    results = []
    for case in CASES:
        if names is not None and case.name not in names:
            continue
        spec = case.sizes[size]
        inputs = to_device(case.inputs(np.random.default_rng(0), spec, np.float32), device)
        outputs = case.forward(inputs)
        runs = {"forward": lambda: case.forward(inputs)}
        if case.backward is not None:
            runs["backward"] = lambda: case.backward(inputs, outputs)
        row = {"kernel": case.name, "shape": describe(spec), "what": case.what}
        for direction, fn in runs.items():
            if device == "cuda":
                fused = _time(fn, device, repeats, inner)
                with cuda.kernels_disabled():
                    naive = _time(fn, device, repeats, inner)
                row.update({f"{direction}_fused_ms": fused, f"{direction}_naive_ms": naive,
                            f"{direction}_speedup": naive / fused})
            else:
                row[f"{direction}_reference_ms"] = _time(fn, device, repeats, inner)
        results.append(row)
    return results


# ---- the GPU sections of the benchmark report ------------------------------------------
def gpu_sections(step: TrainingStep, repeats: int, quick: bool) -> dict:
    """Everything ``run_benchmarks`` adds on a GPU, given the full-step benchmark it ran."""
    with cuda.kernels_disabled():
        kernels_off = median(step.time(repeats=repeats))
    return {
        "kernels": time_kernels("cuda", "small" if quick else "bench", repeats=max(3, repeats)),
        "full_step_kernels_off_ms": kernels_off,
    }


def format_gpu_sections(r: dict) -> list[str]:
    """The GPU sections as text lines for ``format_report``."""
    lines = ["", f"  full step, fused kernels off   {r['full_step_kernels_off_ms']:9.1f} ms "
                 f"(every op its naive CuPy composition; fused: {r['full_step_ms']:.1f} ms)"]
    lines += ["", "  each kernel against the naive CuPy composition of the same math (median ms per call):",
              f"  {'kernel':<14} {'shape':<28} {'fwd fused':>9} {'naive':>8} {'speedup':>7}"
              f" {'bwd fused':>9} {'naive':>8} {'speedup':>7}"]
    for k in r["kernels"]:
        cells = []
        for direction in ("forward", "backward"):
            if f"{direction}_fused_ms" in k:
                cells.append(f"{k[f'{direction}_fused_ms']:9.3f} {k[f'{direction}_naive_ms']:8.3f} "
                             f"{k[f'{direction}_speedup']:6.2f}x")
            else:
                cells.append(f"{'-':>9} {'-':>8} {'-':>7}")
        lines.append(f"  {k['kernel']:<14} {k['shape']:<28} {cells[0]} {cells[1]}")
    lines.append("  (tiled_matmul's naive side is cuBLAS: the tiled kernel is for reading, not speed)")
    return lines


def markdown_summary(reports: list[dict], date: str = "") -> str:
    """Markdown tables of one or more ``--json`` reports (for the README)."""
    lines = []
    for r in reports:
        c = r["config"]
        lines += [f"### {c['name']} on {r['device_name']}" + (f" ({date})" if date else ""), "",
                  f"Batch {c['batch']}, sequence {c['seq']}, d {c['model']['hidden_size']}, "
                  f"{c['model']['num_layers']} layers; median of {r['repeats']} runs.", "",
                  "| measurement | value |", "|---|---|",
                  f"| full training step | {r['full_step_ms']:.1f} ms |",
                  f"| achieved / GEMM peak | {r['achieved_gflops']:.0f} / {r['gemm_peak_gflops']:.0f} GFLOP/s "
                  f"({100 * r['efficiency']:.1f}%) |",
                  f"| adapter step (m = {r['adapter_bottleneck']}) | {r['adapter_step_ms']:.1f} ms "
                  f"({r['adapter_vs_full']:.2f} x the full step) |"]
        lines.append(torch_row(r["torch_separate_process"]))
        if "full_step_kernels_off_ms" in r:
            lines.append(f"| full step, fused kernels off | {r['full_step_kernels_off_ms']:.1f} ms |")
            lines += ["", "| kernel | shape | forward fused / naive ms | speedup "
                          "| backward fused / naive ms | speedup |", "|---|---|---|---|---|---|"]
            for k in r["kernels"]:
                cells = []
                for direction in ("forward", "backward"):
                    if f"{direction}_fused_ms" in k:
                        cells += [f"{k[f'{direction}_fused_ms']:.3f} / {k[f'{direction}_naive_ms']:.3f}",
                                  f"{k[f'{direction}_speedup']:.2f}x"]
                    else:
                        cells += ["-", "-"]
                lines.append(f"| {k['kernel']} | {k['shape']} | " + " | ".join(cells) + " |")
        s = r["rnn_vs_transformer"]
        lines += ["", "| T | RNN layer ms | Transformer layer ms |", "|---|---|---|"]
        lines += [f"| {t} | {a:.2f} | {b:.2f} |" for t, a, b in zip(s["lengths"], s["rnn_ms"], s["transformer_ms"])]
        lines.append("")
    return "\n".join(lines)
