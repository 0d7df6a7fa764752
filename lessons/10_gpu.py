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
   sequence 64), on the CPU and on the GPU: same code, same weights, same loss
   (``10_step_time.png``, drawn when there is a GPU to compare with). With the full sizes
   on a GPU, also BERT-Base shapes (12 layers, d 768, sequence 128).
2. ``10_sequence_length.png``: lesson 03's cost model, time = S tau + W / R + E / B, for
   one RNN layer and one Transformer layer (d 128, batch 8) as the sequence grows from 16
   to 1024 positions, carried to a GPU. S and W are counted on the CPU (they do not
   depend on the device); so is E, from NumPy's passes, which the fused CUDA kernels
   shorten (each reads and writes its arrays once), so on a GPU E / B is an upper bound;
   R and B come from the card's published fp32 rate and memory
   bandwidth times an assumed efficiency; tau is the Python cost of one op (measured here)
   plus a cited kernel launch, or, with a GPU present, one dispatch measured on it. On a
   GPU the arithmetic of both layers takes a fraction of a millisecond, so what is left
   is the fixed cost of each dispatch, and the RNN has T times as many: 2 per op, a few
   ops per step, T steps, one after another. The model says the Transformer layer wins by
   a growing factor (printed per length). With a GPU the lesson also times both layers
   there and draws the measurements through the model, printing measured / model per
   length; without one the figure shows the projection for an H100 and an H200, with
   every constant and its source.
3. ``10_kernels.png``: each fused CUDA kernel against the *naive* CuPy composition of
   the same math (the reference, a chain of array operations, each a kernel of its own
   that reads and writes a whole array). The fused kernel reads its inputs once and
   writes its outputs once, so the speedup is mostly memory traffic saved.
   (tiled_matmul is compared with cuBLAS: written to be read, it loses, as expected.)

Without a GPU the lesson says so and how to run it on one, times the CPU's training step
and each kernel's NumPy reference, and draws the GPU projection of cell 2. ``--device``
does not matter here: the lesson times every device it finds.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import numpy as np

import minipeft as mp
from minipeft.bench import TrainingStep, median
from minipeft.bench.cost_model import GPU_SOURCES, GPU_SPECS, gpu_constants, measure_dispatch_s, model_curves
from minipeft.bench.kernel_timing import time_kernels
from minipeft.bench.report import device_name
from minipeft.bench.sequential import count_layers, time_layers
from minipeft.lesson import Lesson
from minipeft.viz import bar_chart, grouped_bars
from minipeft.viz.costs import cost_model_chart
from minipeft.viz.style import PALETTE


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


def spec_name(gpu_name: str) -> str:
    """The GPU_SPECS entry for a GPU's name ("NVIDIA H200" -> "H200"); the H100's for any other card."""
    return "H200" if "H200" in gpu_name else "H100 SXM"


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
if has_gpu:
    labels = [f"{d.upper()}\n{names[d]}" for d in devices]
    lesson.save_figure(bar_chart(labels, [steps[d] for d in devices], ylabel="ms per training step",
                                 title="Lesson 10: one bench-small training step on each device",
                                 colors=PALETTE[:len(devices)]), "10_step_time.png")

# %% 2. RNN vs Transformer layer against the sequence length: lesson 03's cost model, on a GPU.
lengths = (16, 64, 256) if quick else (16, 32, 64, 128, 256, 512, 1024)
width, batch = (32, 4) if quick else (128, 8)
works = on("cpu", lesson, count_layers, ("rnn", "transformer"), lengths, d=width, batch=batch)  # S, W, E
host_tau = on("cpu", lesson, measure_dispatch_s)  # the Python cost of one op, on this machine's CPU
panels, measured_over_model = [], {}
if has_gpu:
    gpu = gpu_constants(spec_name(names["cuda"]), host_tau_s=host_tau,
                        measured_tau_s=on("cuda", lesson, measure_dispatch_s))  # Python + CuPy + launch
    gpu_timing = on("cuda", lesson, time_layers, ("rnn", "transformer"), lengths, width, batch, repeats=repeats)
    measured = {kind: gpu_timing[f"{kind}_ms"] for kind in ("rnn", "transformer")}
    model = model_curves(gpu, works)
    measured_over_model = {kind: [m / p["total_ms"] for m, p in zip(measured[kind], model[kind])]
                           for kind in measured}
    panels.append(dict(title=f"{names['cuda']}: measured (points) and model (lines)", device=names["cuda"],
                       model=model, measured=measured, constants=gpu.describe()))
    lesson.table(f"{names['cuda']}: ms per forward + backward of one layer (d {width}, batch {batch}), "
                 f"measured and the model", [(t, measured["rnn"][i], model["rnn"][i]["total_ms"],
                                             measured_over_model["rnn"][i], measured["transformer"][i],
                                             model["transformer"][i]["total_ms"], measured_over_model["transformer"][i])
                                            for i, t in enumerate(lengths)],
                 headers=["T", "RNN ms", "RNN model", "measured/model", "Transf. ms", "Transf. model", "measured/model"])
    lesson.record(gpu_layer_timing=gpu_timing, gpu_measured_over_model=measured_over_model)
projections = {name: gpu_constants(name, host_tau_s=host_tau) for name in GPU_SPECS}
for name, constants in projections.items():
    model = model_curves(constants, works)
    panels.append(dict(title=f"an {name}: the model (cited constants)", device=name, model=model,
                       constants=constants.describe()))
    lesson.table(f"{name}, projected: ms per forward + backward (d {width}, batch {batch}); RNN / Transformer",
                 [(t, model["rnn"][i]["total_ms"], model["transformer"][i]["total_ms"],
                   model["rnn"][i]["total_ms"] / model["transformer"][i]["total_ms"]) for i, t in enumerate(lengths)],
                 headers=["T", "RNN model ms", "Transformer model ms", "RNN / Transformer"])
print(GPU_SOURCES)
if not has_gpu:
    print("These are projections: run this lesson on a machine with an NVIDIA GPU and CuPy "
          "(pip install -e \".[cuda12]\" or \".[cuda13]\", then python -m lessons 10) to measure the same layers "
          "there, with the model drawn through the measurements.")
lesson.save_figure(cost_model_chart(
    lengths, panels, f"Lesson 10: one layer (d {width}, batch {batch}) on a GPU: time = S tau + W / R + E / B"
    + ("" if has_gpu else " (no GPU here: the model with published constants)")), "10_sequence_length.png")
lesson.record(sequence_lengths=list(lengths), layer_work=works, host_tau_s=host_tau,
              projections={name: dict(constants=c.as_dict(), model=model_curves(c, works))
                           for name, c in projections.items()})

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
              gpu_speedup_per_step=(steps["cpu"] / steps["cuda"]) if has_gpu else None, kernels=kernels)

# %%
lesson.end()
