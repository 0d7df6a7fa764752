"""Run the benchmarks and turn the numbers into one dictionary (``--json``) or tables."""
from __future__ import annotations

import dataclasses
import platform

from .. import backend
from .sequential import rnn_vs_transformer
from .steps import CONFIGS, TrainingStep, with_adapters
from .timing import gemm_peak_gflops, median, time_interleaved_ms
from .torch_reference import separate_process_comparison, torch_line


def device_name(device: str) -> str:
    if device == "cuda":
        cupy = backend.xp_for("cuda")
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        return props["name"].decode()
    return f"{platform.processor() or platform.machine()} CPU"


def run_benchmarks(config: str = "bench-small", repeats: int = 7, quick: bool = False) -> dict:
    if config not in CONFIGS:
        raise ValueError(f"unknown benchmark config {config!r}; choose one of {list(CONFIGS)}")
    device = backend.get_device()
    bottleneck = CONFIGS[config]["adapter_bottleneck"]
    step, adapter = TrainingStep(config), TrainingStep(config, prepare=with_adapters(bottleneck))
    flops, adapter_flops = step.flops(), adapter.flops()
    times = time_interleaved_ms({"full": step, "adapter": adapter}, repeats=repeats)  # same run, in turns
    full_ms, adapter_ms = median(times["full"]), median(times["adapter"])
    peak = gemm_peak_gflops(device, size=1024 if quick else 2048)
    achieved = flops / (full_ms * 1e-3) / 1e9
    lengths = (16, 64) if quick else (16, 32, 64, 128, 256, 512)
    results = {
        "config": {"name": config, "batch": step.batch_size, "seq": step.seq,
                   "model": dataclasses.asdict(step.config)},
        "device": device, "device_name": device_name(device), "repeats": repeats,
        "full_step_ms": full_ms, "flops_per_step": flops,
        "achieved_gflops": achieved, "gemm_peak_gflops": peak, "efficiency": achieved / peak,
        "adapter_step_ms": adapter_ms, "adapter_vs_full": adapter_ms / full_ms,
        "adapter_flops_per_step": adapter_flops, "adapter_bottleneck": bottleneck,
        "adapter_trainable_parameters": adapter.model.num_parameters(trainable_only=True),
        "parameters": step.model.num_parameters(),
        "rnn_vs_transformer": rnn_vs_transformer(lengths, repeats=max(2, repeats // 2)),
        "torch_separate_process": separate_process_comparison(config, repeats, rounds=1 if quick else 2,
                                                              device=device),
    }
    if device == "cuda":  # kernels vs naive CuPy, the step with kernels off: bench/kernel_timing.py
        from .kernel_timing import gpu_sections

        results.update(gpu_sections(step, repeats=repeats, quick=quick))
    return results


def format_report(r: dict) -> str:
    c, s = r["config"], r["rnn_vs_transformer"]
    lines = [f"minipeft benchmark on {r['device_name']} ({r['device']}), {c['name']}: batch {c['batch']}, "
             f"seq {c['seq']}, d {c['model']['hidden_size']}, {c['model']['num_layers']} layers "
             f"(median of {r['repeats']} runs)",
             f"  full training step     {r['full_step_ms']:9.1f} ms",
             f"  FLOPs per step         {r['flops_per_step'] / 1e9:9.2f} GFLOP (counted matrix products)",
             f"  achieved               {r['achieved_gflops']:9.1f} GFLOP/s",
             f"  GEMM peak (this run)   {r['gemm_peak_gflops']:9.1f} GFLOP/s",
             f"  efficiency             {100 * r['efficiency']:9.1f} % of peak",
             f"  adapter training step  {r['adapter_step_ms']:9.1f} ms = {r['adapter_vs_full']:.2f} x the full step "
             f"(m = {r['adapter_bottleneck']}, {r['adapter_trainable_parameters']:,} of {r['parameters']:,} "
             f"parameters trained, {r['adapter_flops_per_step'] / 1e9:.2f} GFLOP)",
             torch_line(r["torch_separate_process"]),
             "", f"  forward + backward of one layer, d {s['d']}, batch {s['batch']} "
             f"(sequential steps: T for the RNN, 1 for the Transformer layer):",
             f"  {'T':>6} {'RNN ms':>9} {'RNN GFLOP/s':>12} {'Transformer ms':>15} {'Transformer GFLOP/s':>20}"]
    for t, a, fa, b, fb in zip(s["lengths"], s["rnn_ms"], s["rnn_gflops"], s["transformer_ms"],
                               s["transformer_gflops"]):
        lines.append(f"  {t:>6} {a:9.2f} {fa:12.1f} {b:15.2f} {fb:20.1f}")
    if "kernels" in r:  # the GPU sections (bench/kernel_timing.py)
        from .kernel_timing import format_gpu_sections

        lines += format_gpu_sections(r)
    return "\n".join(lines)
