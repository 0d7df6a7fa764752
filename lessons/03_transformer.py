"""Attention reads in parallel: every position looks at every other one in a single step.

Lesson 02's RNN read a sequence one token at a time. To say which key token opened the
sequence, it had to carry the key in its hidden state through every later step, and the
gradient that teaches it to do so shrinks at each of those steps on the way back.

Self-attention lets every position read every other position directly. With the T
vectors of a sequence stacked in X (T, d), each head of each layer computes

    Q = X Wq,  K = X Wk,  V = X Wv             (T, dh) each: what I look for / what I offer / what I carry
    A = softmax(Q K^T / sqrt(dh))              (T, T): row t says how much position t reads from each position s
    out = A V                                  (T, dh): each position gets a weighted mix of all the others

Row t of A is a probability distribution over the positions. The key can be 1 or 500
positions away: either way it is one entry of A, reached in one step. And nothing in
those three lines waits for another position: the whole sequence goes through a few
large matrix products at once. So the steps that must run one after another are the
*layers* (2 in this lesson's model, 12 in BERT-Base), not the T tokens, and a parallel
machine (a GPU has thousands of cores) is kept busy. The price is A itself: T^2 entries
per head, so attention's work and memory grow with the square of the length.

Cells, and what to look at:

1. A two-layer Transformer classifier (BertModel, read at its [CLS] token, as BERT does)
   trained on lesson 02's recall task: 40 tokens, the first is the key (K0..K3, the
   label), the other 39 are distractors. Next to it, lesson 02's RNN, with the same
   seed, sizes, optimizer and batches, for the same number of steps. The table gives
   the test accuracy every few steps (chance is 1/4). The Transformer is right on every
   test sequence within a few dozen steps; the RNN is on the plateau lesson 02 shows
   (about half the keys). The Transformer is also much larger (see the parameters), and
   an RNN can be coaxed through 40 steps (lesson 02's LSTM is; so is a wider RNN). The
   difference that matters is the path: the RNN must pass the key along 39 steps,
   forward and (as a gradient) backward; [CLS] reads it in one, at any distance
   (try ``--length 100``).
2. ``03_attention.png``: the attention weights of every head of both layers on one test
   sequence. In each map, row = the position that reads (query), column = the position
   read (key), colour = weight; each row sums to 1. The strip at the bottom repeats the
   first row of every map: [CLS], the one position whose vector the classifier reads.
   In one or more heads most of [CLS]'s weight lands in the key's column (marked in
   red), past all the distractors; often a head sends *every* position to the key (a
   bright column); other heads spread out or do other things. The printed table gives,
   for every head, the weight [CLS] puts on the key averaged over the test set, against
   1/T for a head that looks everywhere evenly.
3. ``03_timing.png``: one RNN layer against one Transformer encoder layer of the same
   width (d = 128, batch 8), forward + backward, for sequence lengths 16 to 512 (median
   of 3 runs). Left: milliseconds per batch (log-log). Middle: achieved GFLOP/s, the
   counted matrix-multiply work divided by the time, against this machine's
   matrix-multiply peak measured in the same run (dotted): how much of the hardware
   each one keeps busy. Right: steps that must run one after another: T for the RNN,
   one per layer for the Transformer (12 for BERT-Base, whatever T is).

Be honest about the CPU. Per token, the Transformer layer does about 24 d^2 + 4 T d
floating-point operations forward (the four attention projections, the feed-forward
block, then the T^2 attention itself) against the RNN's 4 d^2: 6 to 10 times the work
at these lengths (the table counts it). A two-core CPU reaches at most about a hundred
GFLOP/s, even on one large matrix product, so there the RNN is faster per batch. What
the Transformer wins is the shape of its work: a few large products instead of T small
dependent ones, so it runs at a higher FLOP rate. A GPU has a peak hundreds of times
higher but reaches it only on big parallel work; there the RNN's T sequential steps,
each too small to fill the chip, are what bound it. When CuPy finds a GPU (or with
``--device cuda``) the lesson times on the GPU too; without one it says so.

Timings on a shared machine are noisy: a BLAS thread that waits for a busy core stalls
every matrix product. The lesson says when the CPU is busy (and the figure's title
records it); ``OPENBLAS_NUM_THREADS=1 python -m lessons 3`` gives steadier numbers there.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import json
import os

import numpy as np

import minipeft as mp
from minipeft import functional as F
from minipeft.bench.steps import rnn_vs_transformer
from minipeft.bench.timing import gemm_peak_gflops
from minipeft.data.attention_tasks import ClsRecallTask
from minipeft.data.sequences import RecallTask
from minipeft.lesson import Lesson
from minipeft.nn import BertConfig, BertForSequenceClassification, RNNClassifier
from minipeft.train import evaluation_mode, train
from minipeft.viz import attention_heatmaps, line_panels


def add_arguments(parser):
    parser.add_argument("--length", type=int, default=None,
                        help="tokens per sequence of the recall task (default 40; quick 16)")
    parser.add_argument("--steps", type=int, default=None, help="training steps of each model (default 80; quick 20)")


def gpu_or_reason(device: str):
    """(True, "") when CUDA can be used, else (False, why not); leaves ``device`` selected."""
    try:
        mp.set_device("cuda")
        return True, ""
    except RuntimeError as err:
        return False, str(err)
    finally:
        mp.set_device(device)


lesson = Lesson("03_transformer", __doc__, add_arguments=add_arguments).begin()

quick = lesson.quick
# %% 1. Lesson 02's task: which key token (K0..K3) opened the sequence? A [CLS] token goes in front.
length = lesson.args.length or (16 if quick else 40)
steps = lesson.args.steps or (20 if quick else 80)
batch_size = 32
recall = RecallTask(length=length, distance=length)  # the key is the first token
task = ClsRecallTask(recall)  # [CLS] K2 d7 d0 ... : the key sits at position 1
test_ids, test_labels = task.sample(128 if quick else 512, seed=lesson.seed + 1)

config = BertConfig.preset("tiny", vocab_size=task.vocab_size, num_layers=2, max_position=task.length)
transformer = BertForSequenceClassification(config, task.num_classes, pooling="cls")
mp.manual_seed(lesson.seed)  # lesson 02's RNN exactly: same seed, sizes, optimizer and batches
rnn = RNNClassifier(recall.vocab_size, 16, 64, task.num_classes)  # embedding 16, hidden 64

def test_accuracy(logits):
    return {"accuracy": float((logits.numpy().argmax(axis=1) == test_labels).mean())}

def rnn_batches(seed):  # the same batches without the [CLS]: lesson 02's batches
    for batch in task.batches(batch_size, seed):
        yield {"input_ids": batch["input_ids"][:, 1:], "labels": batch["labels"]}

every = max(1, steps // 5)
runs = {
    "Transformer (2 layers)": train(
        transformer, task.batches(batch_size, lesson.seed), steps,
        optimizer=mp.optim.Adam(transformer.parameters(), lr=1e-3),
        loss_fn=lambda m, b: m(b["input_ids"], labels=b["labels"]), schedule="constant", clip=1.0,
        eval_fn=lambda m: test_accuracy(m(test_ids)["logits"]), eval_every=every, log_every=every,
        name="transformer"),
    "RNN (lesson 02)": train(
        rnn, rnn_batches(lesson.seed), steps, optimizer=mp.optim.Adam(rnn.parameters(), lr=3e-3),
        loss_fn=lambda m, b: F.cross_entropy(m(b["input_ids"]), b["labels"]), schedule="constant",
        clip=1.0, eval_fn=lambda m: test_accuracy(m(test_ids[:, 1:])), eval_every=every,
        log_every=every, name="rnn"),
}
accuracy = {name: run.last_eval["accuracy"] for name, run in runs.items()}
evaluated_at = runs["RNN (lesson 02)"].metric("accuracy")[0]  # steps 0, every, 2 every, ...
lesson.table(f"recall the first of {length} tokens: test accuracy after each number of training steps "
             f"(batch {batch_size}; chance {task.chance:.2f})",
             [(name, model.num_parameters(), *run.metric("accuracy")[1], run.total_time_s)
              for (name, run), model in zip(runs.items(), (transformer, rnn))],
             headers=["model", "parameters", *(f"step {s}" for s in evaluated_at), "train time (s)"])
earlier = lesson.out / "02_results.json"  # lesson 02's longer run on the same task, if it was run
lesson02 = json.loads(earlier.read_text()) if earlier.exists() else {}
if lesson02.get("sequence_length") == length and "first_token_test_accuracy" in lesson02:
    found = ", ".join(f"{name} {value:.3f}" for name, value in lesson02["first_token_test_accuracy"].items())
    print(f"lesson 02 on the same task, after {lesson02.get('first_token_steps')} steps: {found}")
    lesson.record(lesson02_accuracy=lesson02["first_token_test_accuracy"])

# %% 2. Where does [CLS] look? The attention weights of every head on one test sequence.
with evaluation_mode(transformer):
    _, weights = transformer.bert(test_ids, return_weights=True)  # one (B, H, T, T) per layer
weights = [w.numpy() for w in weights]
key = task.key_position
on_key = np.array([w[:, :, 0, key].mean(axis=0) for w in weights])  # (layers, heads), test-set mean
lesson.table(f"weight [CLS] puts on the key (position {key}), test-set mean; "
             f"an even spread would give 1/T = {1 / task.length:.3f}",
             [(f"layer {layer + 1}", *on_key[layer]) for layer in range(len(weights))],
             headers=["", *(f"head {h + 1}" for h in range(on_key.shape[1]))])
best_layer, best_head = np.unravel_index(on_key.argmax(), on_key.shape)
print(f"the most key-bound head is layer {best_layer + 1}, head {best_head + 1}: "
      f"{on_key.max():.2f} of [CLS]'s attention lands on the key")

example = 0
maps = {f"layer {layer + 1}, head {h + 1}": w[example, h]
        for layer, w in enumerate(weights) for h in range(w.shape[1])}
lesson.save_figure(attention_heatmaps(
    maps, task.token_names(test_ids[example]), highlight=[key], focus=0, vmax=1.0,
    title=f"Lesson 03: attention weights of the trained 2-layer Transformer on one test sequence "
          f"(label K{test_labels[example]}: the key, in red, at position {key})",
    note="Each map: row = the position reading (query), column = the position read (key); each row "
         "sums to 1. Bottom: the [CLS] row of every map: what the one position the classifier reads "
         "takes in, head by head."), "03_attention.png")

# %% 3. Time per batch: one RNN layer against one Transformer layer, as the sequence grows.
lengths = (8, 32) if quick else (16, 32, 64, 128, 256, 512)
width, batch = (32, 4) if quick else (128, 8)
devices = ["cpu"]
has_gpu, why_not = gpu_or_reason(lesson.device)
if has_gpu:
    devices.append("cuda")
else:
    print(f"no GPU timing: {why_not}")
load, cores = os.getloadavg()[0], os.cpu_count() or 1  # programs waiting for a core, last minute
if load > cores:
    print(f"note: this machine is busy (load {load:.1f} on {cores} cores): other programs share the CPU, "
          f"so the CPU timings below are noisy and may not show the pattern. Rerun on a quiet machine, "
          f"or with OPENBLAS_NUM_THREADS=1 (a BLAS thread waiting for a busy core stalls every product)")
conditions = "; ".join([f"timed on {' and '.join(devices)}"]
                       + ([f"the CPU was shared: load {load:.1f} on {cores} cores"] if load > cores else [])
                       + [f"{name}={os.environ[name]}" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                          if os.environ.get(name)])
timing, peaks = {}, {}
for device in devices:
    mp.set_device(device)
    try:
        peaks[device] = gemm_peak_gflops(device, size=256 if quick else 2048, repeats=3)
        timing[device] = rnn_vs_transformer(lengths, d=width, batch=batch, heads=4,
                                            repeats=1 if quick else 3)
    finally:
        mp.set_device(lesson.device)
    t = timing[device]
    rows = []
    for i, length_i in enumerate(t["lengths"]):
        rnn_gflop = t["rnn_gflops"][i] * t["rnn_ms"][i] * 1e-3
        transformer_gflop = t["transformer_gflops"][i] * t["transformer_ms"][i] * 1e-3
        rows.append((length_i, t["rnn_ms"][i], t["transformer_ms"][i], rnn_gflop, transformer_gflop,
                     t["rnn_gflops"][i], t["transformer_gflops"][i], length_i, 1))
    lesson.table(f"{device}: forward + backward of one layer, d {width}, batch {batch} "
                 f"(matrix-multiply peak measured now: {peaks[device]:.1f} GFLOP/s)", rows,
                 headers=["T", "RNN ms", "Transformer ms", "RNN GFLOP", "Transformer GFLOP",
                          "RNN GFLOP/s", "Transformer GFLOP/s", "RNN seq. steps", "Transformer seq. steps"])

dashes = {"cpu": "solid", "cuda": "dashed"}
colours = {"RNN": "#D55E00", "Transformer": "#0072B2"}
ms_series, rate_series, styles, colors = {}, {}, {}, {}
for device, t in timing.items():
    for name, label in (("rnn", "RNN"), ("transformer", "Transformer")):
        series = f"{label} ({device})"
        ms_series[series], rate_series[series] = t[f"{name}_ms"], t[f"{name}_gflops"]
        styles[series], colors[series] = dashes[device], colours[label]
steps_series = {"RNN layer: T steps": list(lengths), "Transformer layer: 1 step": [1] * len(lengths),
                "BERT-Base, 12 layers: 12 steps": [12] * len(lengths)}
lesson.save_figure(line_panels([
    dict(x=lengths, series=ms_series, title="time per batch (forward + backward)", log=True, logx=True,
         xlabel="sequence length T", ylabel="ms per batch", styles=styles, colors=colors,
         xticklabels=lengths),
    dict(x=lengths, series=rate_series, title="how busy each one keeps the machine", log=False, logx=True,
         xlabel="sequence length T", ylabel="achieved GFLOP/s (counted FLOPs / time)", styles=styles,
         colors=colors, ylim=(0, None),
         xticklabels=lengths,
         hlines={f"matrix-multiply peak ({device}): {peak:.0f} GFLOP/s": peak
                 for device, peak in peaks.items()}),
    dict(x=lengths, series=steps_series, title="steps that must run one after another", log=True,
         logx=True, xlabel="sequence length T", ylabel="sequential steps", xticklabels=lengths,
         colors=dict(zip(steps_series, ("#D55E00", "#0072B2", "#0072B2"))),
         styles={"BERT-Base, 12 layers: 12 steps": "dotted"}),
], title=f"Lesson 03: one RNN layer vs one Transformer encoder layer (d {width}, batch {batch}; "
         f"{conditions})"), "03_timing.png")

lesson.record(
    task=dict(length=length, key_position=key, num_classes=task.num_classes, steps=steps,
              batch_size=batch_size, chance=task.chance),
    accuracy=accuracy,
    accuracy_curve={name: dict(zip(*run.metric("accuracy"))) for name, run in runs.items()},
    train_time_s={name: run.total_time_s for name, run in runs.items()},
    attention_on_key=on_key,
    timing=timing,
    gemm_peak_gflops=peaks,
    sequential_steps={"lengths": list(lengths), "rnn": list(lengths), "transformer_layer": 1,
                      "transformer_model": config.num_layers},
    gpu_timed=has_gpu,
    cpu_load_before_timing=load,
    openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
)

# %%
lesson.end()
