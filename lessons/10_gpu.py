"""GPUs finally happy: the same engine on a GPU, and what hand-written CUDA kernels add.

Nothing in minipeft's models knows which device it runs on. Every op asks its input for
its array module (``xp``: numpy on the CPU, cupy on a GPU) and calls ``xp.exp``,
``xp.matmul``, ... ; the matrix products then run in cuBLAS, and the fused ops (softmax,
layer norm, GELU, cross-entropy, attention's softmax, the Adam update) run as CUDA
kernels written in ``minipeft/kernels/*.py``, each beside the NumPy reference it must
match. Read one: one block of threads per row, a reduction in shared memory, a
grid-stride loop; the comment above each kernel says how the threads are laid out.

Cells, and what to look at:

1. One training step of the bench-small BERT classifier (4 layers, d 128, batch 32,
   sequence 64), on the CPU and on the GPU: same code, same weights, same loss.
   With the full sizes on a GPU, also BERT-Base shapes (12 layers, d 768, sequence 128).
2. ``10_sequence_length.png``: forward + backward of one RNN layer and one Transformer
   layer as the sequence grows, on each device. On the GPU the Transformer's time hardly
   moves while T grows 32-fold: all positions go through a few large products, and the
   GPU has room for them. The RNN's T dependent steps each launch small kernels that
   leave the GPU idle, so its time grows with T: the seed's point about RNNs, measured.
3. ``10_kernels.png``: each fused CUDA kernel against the *naive* CuPy composition of
   the same math (the reference, a chain of array operations, each a kernel of its own
   that reads and writes a whole array). The fused kernel reads its inputs once and
   writes its outputs once, so the speedup is mostly memory traffic saved.
   (tiled_matmul is compared with cuBLAS: written to be read, it loses, as expected.)

Without a GPU the lesson says so, times the CPU part (the training step, the sequence
lengths, and each kernel's NumPy reference), and draws that. ``--device`` does not
matter here: the lesson times every device it finds.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import numpy as np

import minipeft as mp
from minipeft.bench import TrainingStep, median, rnn_vs_transformer
from minipeft.bench.kernels import time_kernels
from minipeft.bench.report import device_name
from minipeft.lesson import Lesson
from minipeft.viz import bar_chart, grouped_bars
from minipeft.viz.style import PALETTE, finish, new_figure, style_axes


def gpu_or_reason():
    """(True, "") when CuPy can use a GPU, else (False, why not)."""
    try:
        mp.backend.xp_for("cuda")
        return True, ""
    except RuntimeError as err:
        return False, str(err)


def on(device: str, lesson: Lesson, fn, *args, **kwargs):
    """Run fn with ``device`` as the current device, then go back to the lesson's."""
    mp.set_device(device)
    try:
        return fn(*args, **kwargs)
    finally:
        mp.set_device(lesson.device)


def step_ms(config: str, repeats: int) -> tuple[float, float]:
    step = TrainingStep(config)
    loss = step()  # also the warm-up that compiles the GPU kernels
    return median(step.time(warmup=1, repeats=repeats)), loss


lesson = Lesson("10_gpu", __doc__).begin()

quick = lesson.quick
repeats = 2 if quick else 5
has_gpu, why_not = gpu_or_reason()
devices = ["cpu"] + (["cuda"] if has_gpu else [])
names = {device: device_name(device) for device in devices}
if not has_gpu:
    print(f"No GPU here ({why_not}).\nThis run times the CPU part only; on a machine with an NVIDIA GPU "
          f"and CuPy, run it again: python -m lessons 10\n")

# %% 1. One training step on each device (same weights: they are drawn on the CPU).
steps, losses = {}, {}
for device in devices:
    steps[device], losses[device] = on(device, lesson, step_ms, "bench-small", repeats)
rows = [(f"{device} ({names[device]})", "bench-small", steps[device], steps["cpu"] / steps[device],
         losses[device]) for device in devices]
if has_gpu and not quick:
    base_ms, base_loss = on("cuda", lesson, step_ms, "bench-base", repeats)
    rows.append((f"cuda ({names['cuda']})", "bench-base", base_ms, float("nan"), base_loss))
    lesson.record(bench_base_gpu_step_ms=base_ms)
lesson.table("one training step (Adam, every weight trained); speedup = CPU ms / this ms", rows,
             headers=["device", "model", "ms per step", "speedup", "first loss"])
labels = [f"{d.upper()}\n{names[d]}" for d in devices]
title = "Lesson 10: one bench-small training step" + ("" if has_gpu else " (no GPU here: CPU only)")
lesson.save_figure(bar_chart(labels, [steps[d] for d in devices], ylabel="ms per training step",
                             title=title, colors=PALETTE[:len(devices)]), "10_step_time.png")

# %% 2. RNN vs Transformer layer against the sequence length, on each device.
lengths = (16, 64, 128) if quick else (16, 32, 64, 128, 256, 512)
width = 64 if quick else 128
timing = {device: on(device, lesson, rnn_vs_transformer, lengths, d=width, batch=8, heads=4,
                     repeats=2 if quick else 3) for device in devices}
rows = [(t, *(timing[d][f"{kind}_ms"][i] for d in devices for kind in ("rnn", "transformer")))
        for i, t in enumerate(lengths)]
lesson.table(f"forward + backward of one layer (d {width}, batch 8), ms", rows,
             headers=["T"] + [f"{kind} {d}" for d in devices for kind in ("RNN", "Transformer")])
fig, ax = new_figure(7.0, 4.2)
for device, style in zip(devices, ("-", "--")):
    for kind, colour in (("rnn", PALETTE[3]), ("transformer", PALETTE[0])):
        ax.plot(lengths, timing[device][f"{kind}_ms"], style, marker="o", color=colour,
                label=f"{'RNN' if kind == 'rnn' else 'Transformer'} layer, {device}")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.legend(frameon=False, fontsize=9)
style_axes(ax, "Lesson 10: time against sequence length" + ("" if has_gpu else " (CPU only: no GPU here)"),
           "sequence length T", "ms per forward + backward (log scale)", grid="both")
lesson.save_figure(finish(fig), "10_sequence_length.png")

# %% 3. Each fused kernel against the naive composition of the same math.
if has_gpu:
    kernels = on("cuda", lesson, time_kernels, "cuda", "small" if quick else "bench", repeats=repeats + 1)
    rows = [(k["kernel"], k["shape"], k["forward_fused_ms"], k["forward_naive_ms"], k["forward_speedup"],
             k.get("backward_fused_ms", float("nan")), k.get("backward_naive_ms", float("nan")),
             k.get("backward_speedup", float("nan"))) for k in kernels]
    lesson.table("CUDA kernel vs naive CuPy composition (ms per call; speedup = naive / fused)", rows,
                 headers=["kernel", "shape", "fwd fused", "fwd naive", "fwd speedup",
                          "bwd fused", "bwd naive", "bwd speedup"])
    fig = grouped_bars([k["kernel"] for k in kernels],
                       {"forward": [k["forward_speedup"] for k in kernels],
                        "backward": [k.get("backward_speedup", np.nan) for k in kernels]},
                       ylabel="speedup over the naive CuPy composition (x)", annotate=True,
                       title=f"Lesson 10: fused CUDA kernels on {names['cuda']}", log=True)
    fig.axes[0].axhline(1.0, color="#555555", linewidth=0.8, linestyle=":")
else:
    kernels = time_kernels("cpu", "small", repeats=repeats)
    rows = [(k["kernel"], k["shape"], k["forward_reference_ms"], k.get("backward_reference_ms", float("nan")))
            for k in kernels]
    lesson.table("no GPU: each kernel's NumPy reference on the CPU (ms per call)", rows,
                 headers=["kernel", "shape", "forward ms", "backward ms"])
    fig = grouped_bars([k["kernel"] for k in kernels],
                       {"forward": [k["forward_reference_ms"] for k in kernels],
                        "backward": [k.get("backward_reference_ms", np.nan) for k in kernels]},
                       ylabel="ms per call (NumPy reference)", annotate=True, log=True,
                       title="Lesson 10: the kernels' CPU references (no GPU here for the speedups)")
lesson.save_figure(fig, "10_kernels.png")

lesson.record(gpu_available=has_gpu, gpu_missing_reason=why_not, device_names=names,
              step_ms=steps, first_loss=losses,
              gpu_speedup_per_step=(steps["cpu"] / steps["cuda"]) if has_gpu else None,
              sequence_lengths=list(lengths), layer_timing=timing, kernels=kernels)

# %%
lesson.end()
