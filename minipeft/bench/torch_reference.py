"""minipeft's training step against the same step in PyTorch, each timed in its own process.

Optional: it runs when torch is installed (and, for ``cuda``, torch sees a GPU), and is
reported as skipped otherwise. torch is never a dependency of minipeft.

The PyTorch side (``torch_model.py``) is written as a PyTorch user writes it (``nn.Embedding``,
``nn.Linear``, ``nn.LayerNorm``, ``F.gelu``, fp32 eager, no TF32, no compilation), starts from
minipeft's weights, and trains with Adam at the same learning rate, so both sides do the same
arithmetic and the ratio measures the engines. Both the full step and the adapter step (base
frozen, Houlsby adapters) are timed.

Why separate processes: on a two-core machine two thread pools in one process (NumPy's
OpenBLAS and PyTorch's) spin against each other, and each side runs slower than it does
alone (measured: a PyTorch step of 110 ms alone took 180 ms timed in turns with minipeft in
one process). So each side runs in a child process of its own, and the children alternate,
minipeft, PyTorch, minipeft, PyTorch, ..., so that a slow spell of a shared machine hits both.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys

from .. import backend
from .steps import CONFIGS, TrainingStep, with_adapters
from .timing import child_env, median, time_interleaved_ms

SIDES = ("minipeft", "torch")


def torch_steps(step: TrainingStep, torch) -> dict:
    """A PyTorch copy of ``step`` (same weights, batch, frozen parameters and Adam): {"step", "loss"}."""
    from .torch_model import from_minipeft

    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 products, as CuPy's matmul does by default
    torch.backends.cudnn.allow_tf32 = False
    device = backend.device_of(step.batch["input_ids"])
    model = from_minipeft(step.model, step.config, device)
    ids = torch.as_tensor(backend.to_numpy(step.batch["input_ids"]), device=device)
    labels = torch.as_tensor(backend.to_numpy(step.batch["labels"]), device=device)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=step.optimizer.lr)
    with torch.no_grad():
        loss = model(ids, labels).item()

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        model(ids, labels).backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    return {"step": train_step, "loss": loss}


def time_side(side: str, config: str, repeats: int, warmup: int = 2) -> dict:
    """In this process: the full and the adapter step of one side, timed in turns; their losses."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    steps = {"full": TrainingStep(config), "adapter": TrainingStep(config, prepare=with_adapters(
        CONFIGS[config]["adapter_bottleneck"]))}
    result = {"side": side}
    if side == "torch":
        import torch

        copies = {kind: torch_steps(step, torch) for kind, step in steps.items()}
        runs = {kind: copy["step"] for kind, copy in copies.items()}
        result.update(loss=copies["full"]["loss"], version=torch.__version__, threads=torch.get_num_threads())
    else:
        runs = steps
        result.update(loss=steps["full"].model(steps["full"].batch["input_ids"],
                                               labels=steps["full"].batch["labels"])["loss"].item())
    times = time_interleaved_ms(runs, warmup=warmup, repeats=repeats)
    return {**result, "full_ms": median(times["full"]), "adapter_ms": median(times["adapter"])}


def _run_side(side: str, config: str, repeats: int, device: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "minipeft.bench.torch_reference", side, "--config", config,
                           "--repeats", str(repeats), "--device", device],
                          capture_output=True, text=True, env=child_env())
    if proc.returncode != 0:
        raise RuntimeError(f"the {side} timing process failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def separate_process_comparison(config: str = "bench-small", repeats: int = 7, rounds: int = 2,
                                device: str | None = None) -> dict:
    """minipeft / PyTorch for the full and the adapter step, each side in its own process, in turns.

    Returns {"full_ratio", "adapter_ratio" (minipeft ms / PyTorch ms), "minipeft_full_ms", ...,
    "minipeft_adapter_vs_full", "torch_adapter_vs_full", "loss_rel_diff", "version", "threads",
    "rounds"}, or {"skipped": reason} without torch.
    """
    if importlib.util.find_spec("torch") is None:
        return {"skipped": "torch is not installed (optional; never a dependency)"}
    device = device or backend.get_device()
    runs = {side: [] for side in SIDES}
    for _ in range(rounds):
        for side in SIDES:
            runs[side].append(_run_side(side, config, repeats, device))
    ms = {f"{side}_{kind}_ms": median(r[f"{kind}_ms"] for r in runs[side]) for side in SIDES
          for kind in ("full", "adapter")}
    ours, theirs = runs["minipeft"][0]["loss"], runs["torch"][0]["loss"]
    return {**ms, "full_ratio": ms["minipeft_full_ms"] / ms["torch_full_ms"],
            "adapter_ratio": ms["minipeft_adapter_ms"] / ms["torch_adapter_ms"],
            "minipeft_adapter_vs_full": ms["minipeft_adapter_ms"] / ms["minipeft_full_ms"],
            "torch_adapter_vs_full": ms["torch_adapter_ms"] / ms["torch_full_ms"],
            "loss_rel_diff": abs(ours - theirs) / max(abs(theirs), 1e-12),
            "version": runs["torch"][0]["version"], "threads": runs["torch"][0]["threads"], "rounds": rounds,
            "config": config, "device": device}


def torch_line(t: dict) -> str:
    """The comparison as lines of ``format_report``."""
    if "skipped" in t:
        return f"  PyTorch comparison     skipped: {t['skipped']}"
    return (f"  PyTorch {t['version']} fp32 eager, each side in its own process ({t['rounds']} rounds, "
            f"{t['threads']} torch threads):\n"
            f"    full step     minipeft {t['minipeft_full_ms']:.1f} ms, PyTorch {t['torch_full_ms']:.1f} ms: "
            f"minipeft / PyTorch = {t['full_ratio']:.2f}\n"
            f"    adapter step  minipeft {t['minipeft_adapter_ms']:.1f} ms, PyTorch {t['torch_adapter_ms']:.1f} ms: "
            f"minipeft / PyTorch = {t['adapter_ratio']:.2f}\n"
            f"    adapter / full: minipeft {t['minipeft_adapter_vs_full']:.2f}, PyTorch {t['torch_adapter_vs_full']:.2f}"
            f" (losses equal to {t['loss_rel_diff']:.1e})")


def torch_row(t: dict) -> str:
    """The comparison as a row of ``markdown_summary``'s table."""
    if "skipped" in t:
        return f"| PyTorch fp32 eager step | skipped: {t['skipped']} |"
    return (f"| PyTorch {t['version']} fp32 eager step, own process | full {t['torch_full_ms']:.1f} ms "
            f"(minipeft / PyTorch = {t['full_ratio']:.2f}), adapter {t['torch_adapter_ms']:.1f} ms "
            f"(= {t['adapter_ratio']:.2f}) |")


def _child(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m minipeft.bench.torch_reference",
                                     description="time one side's full and adapter step (run by "
                                                 "separate_process_comparison)")
    parser.add_argument("side", choices=SIDES)
    parser.add_argument("--config", default="bench-small")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args(argv)
    backend.set_device(args.device)
    print(json.dumps(time_side(args.side, args.config, args.repeats)))


if __name__ == "__main__":
    _child()
