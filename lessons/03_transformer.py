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
   1/T for a head that looks everywhere evenly. The sequence drawn is a typical one: the
   median test sequence of the most key-bound head (the lesson prints its weight, and the
   range over the test set: single sequences vary a lot around the mean).

The rest of the lesson asks *why* attention suits parallel hardware, and measures it.

3. Vaswani et al. (2017) compare the two kinds of layer in their Table 1, for a sequence
   of n = T positions of width d: work per layer O(n d^2) for a recurrent layer against
   O(n^2 d) for self-attention; sequential operations O(n) against O(1); maximum path
   length between two positions O(n) against O(1). Here each column is counted on
   minipeft's own recorded graph, for one RNN, one LSTM and one Transformer encoder layer
   (d 128, batch 8, T = 16 to 1024), forward + backward (``minipeft.bench.sequential``):
   the FLOPs of the counted matrix products (equal to the closed forms
   12 B T d^2 - 2 B d^2, 48 B T d^2 - 8 B d^2 and 3 B (24 T d^2 + 4 T^2 d) exactly; the
   table says so); the sequential steps, the depth of the graph: the longest chain of ops
   from the input to the loss (``minipeft.autograd.graph_depth``), a fixed number of ops
   per step for the recurrent layers and a constant for the encoder layer; and the path
   length. The graph joins whole tensors, not single positions, so the path is read off
   as the number of *position-mixing* ops on the longest chain from the input to the
   output at position T: an RNN mixes positions only in h_(t-1) W_h, so position 1
   reaches position T through T - 1 of those products; attention mixes all positions in
   one op. ``03_table1.png`` draws the three against T on log-log axes, where a power
   law is a straight line; the legend gives each measured slope beside Table 1's entry
   (the encoder's work is 24 T d^2 + 4 T^2 d: its slope climbs from 1 towards 2 as
   4 T^2 d overtakes 24 T d^2, past T = 6 d).
4. ``03_speedup.png``: the same forward + backward with one BLAS thread and with every
   core, each setting in its own child process (the thread count is fixed when BLAS
   starts), taken in turns. Left: speedup = time(1 thread) / time(all cores) against T.
   Only the matrix products spread over the cores (BLAS splits them); NumPy's elementwise
   passes run on one core. Right: p, the share of the one-thread time spent inside the
   products. Amdahl's law bounds the speedup at 1 / ((1 - p) + p / n) on n cores (dotted
   lines): the Transformer layer, whose time at long lengths is mostly a few large
   products, gains from the second core; the RNN layer, whose T small dependent steps
   are mostly Python and NumPy's per-call overhead, hardly does. The lesson prints both
   at T = 512.
5. ``03_timing.png``: a cost model, time = S tau + W / R + E / B, with S the dispatches
   (each op's forward and backward call: 2 per op, counted), tau the fixed cost of one,
   W the product FLOPs at the sustained product rate R, and E the elements that NumPy's
   passes read and write (counted by watching every pass, ``minipeft.kernels.traffic``:
   the elementwise work, and the products' operands and results, since attention's T x T
   products are held back by memory too) at the rate B at which memory streams them. Top left:
   on this CPU with one thread, tau, R and B measured in the same run by three small
   measurements (an RNN of width 1 on one sequence, a large product, a softmax over an
   array far larger than the caches), and the model (lines) beside the times measured in
   cell 4 (points). Bottom left: which term sets each layer's time: dispatches
   for the RNN, products and elementwise passes for the Transformer. Right: the same
   formula with the constants of a GPU (an H100: R and B from NVIDIA's datasheet times
   an assumed efficiency, tau = this CPU's Python cost per op plus a cited kernel
   launch). The GPU does the arithmetic hundreds of times faster but pays the same
   fixed cost per dispatch, and the RNN has T times as many: the ranking flips. The
   lesson prints the factor at T = 512, every constant with its source, and measured /
   model per length. Lesson 10 measures the same layers on a GPU when one is present.

Be honest about the CPU. Per token, the Transformer layer does about 24 d^2 + 4 T d
floating-point operations forward (the four attention projections, the feed-forward
block, then the T^2 attention itself) against the RNN's 4 d^2: 6 to 10 times the work
at these lengths (cell 3 counts it), so on a two-core CPU the RNN layer is faster per
batch. What the Transformer wins is the shape of its work: a few large products that
parallel hardware can spread out, instead of T small dependent steps that each pay the
fixed cost of a dispatch.

Timings on a shared machine are noisy: a BLAS thread that waits for a busy core stalls
every matrix product. The lesson says when the CPU is busy; rerun it on a quiet machine.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import json
import os

import numpy as np

import minipeft as mp
from minipeft import functional as F
from minipeft.bench.cost_model import GPU_SOURCES, DeviceConstants, calibrate_cpu, gpu_constants, model_curves
from minipeft.bench.sequential import count_layers, time_layers
from minipeft.bench.threads import thread_speedup
from minipeft.data.attention_tasks import ClsRecallTask
from minipeft.data.sequences import RecallTask
from minipeft.lesson import Lesson
from minipeft.nn import BertConfig, BertForSequenceClassification, RNNClassifier
from minipeft.train import evaluation_mode, train
from minipeft.viz import attention_heatmaps
from minipeft.viz.costs import complexity_panels, cost_model_chart, log_slope, speedup_chart


def add_arguments(parser):
    parser.add_argument("--length", type=int, default=None,
                        help="tokens per sequence of the recall task (default 40; quick 16)")
    parser.add_argument("--steps", type=int, default=None, help="training steps of each model (default 80; quick 20)")


PROJECTED_GPU = "H100 SXM"  # the GPU whose published rates the cost model is carried to


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

best_weights = weights[best_layer][:, best_head, 0, key]  # (test sequences,): that head, [CLS] -> key
example = int(np.argsort(best_weights)[len(best_weights) // 2])  # draw a typical sequence: the median one
drawn_weight = float(best_weights[example])
print(f"the maps below draw test sequence {example}, where that head puts {drawn_weight:.2f} on the key "
      f"(the median sequence for it; its weights range {best_weights.min():.2f} to {best_weights.max():.2f})")
maps = {f"layer {layer + 1}, head {h + 1}": w[example, h]
        for layer, w in enumerate(weights) for h in range(w.shape[1])}
lesson.save_figure(attention_heatmaps(
    maps, task.token_names(test_ids[example]), highlight=[key], focus=0, vmax=1.0,
    title=f"Lesson 03: attention weights of the trained 2-layer Transformer on test sequence {example}, the "
          f"median one for layer {best_layer + 1}, head {best_head + 1} ({drawn_weight:.2f} on the key; "
          f"label K{test_labels[example]}: the key, in red, at position {key})",
    note="Each map: row = the position reading (query), column = the position read (key); each row "
         "sums to 1. Bottom: the [CLS] row of every map: what the one position the classifier reads "
         "takes in, head by head."), "03_attention.png")

# %% 3. Vaswani et al.'s Table 1, counted on minipeft's own graphs: work, sequential steps, path length.
kinds = ("rnn", "lstm", "transformer")
count_lengths = (8, 16, 32) if quick else (16, 32, 64, 128, 256, 512, 1024)
width, batch = (32, 4) if quick else (128, 8)
work = count_layers(kinds, count_lengths, d=width, batch=batch)
exact = all(w["flops"] == w["closed_form_flops"] for per_length in work.values() for w in per_length)
lesson.table(f"one layer, forward + backward, d {width}, batch {batch}: counted on the recorded graph "
             f"(FLOPs equal the closed forms exactly: {exact})",
             [(t, *(f(work[kind][i]) for kind in kinds for f in (lambda w: w["flops"] / 1e9,
                                                                   lambda w: w["sequential_steps"])),
               work["rnn"][i]["path_length"], work["transformer"][i]["path_length"])
              for i, t in enumerate(count_lengths)],
             headers=["T", "RNN GFLOP", "RNN steps", "LSTM GFLOP", "LSTM steps", "Transformer GFLOP",
                      "Transformer steps", "RNN path", "Transformer path"])
counts = {kind: {"work": [w["flops"] for w in work[kind]], "steps": [w["sequential_steps"] for w in work[kind]],
                 "path": [w["path_length"] for w in work[kind]]} for kind in kinds}
slopes = {kind: {q: log_slope(count_lengths, counts[kind][q]) for q in ("work", "steps", "path")} for kind in kinds}
table1 = {"work": {"rnn": "O(n d^2)", "lstm": "O(n d^2)", "transformer": "O(n^2 d)"},
          "steps": {"rnn": "O(n)", "lstm": "O(n)", "transformer": "O(1)"},
          "path": {"rnn": "O(n)", "lstm": "O(n)", "transformer": "O(1)"}}
lesson.table(f"log-log slopes between T = {count_lengths[-2]} and {count_lengths[-1]} (y ~ T^slope), beside "
             f"Table 1 of Vaswani et al. (n = T)",
             [(f"{kind}: {q}", slopes[kind][q], table1[q][kind]) for q in ("work", "steps", "path") for kind in kinds],
             headers=["layer: quantity", "measured slope", "Table 1"])
lesson.save_figure(complexity_panels(
    count_lengths, counts, table1, f"Lesson 03: what grows with the length T, counted on one layer's graph "
    f"(d {width}, batch {batch}); path length: T - 1 products h W_h for the RNN, 1 attention op"),
    "03_table1.png")

# %% 4. What parallel hardware buys: the same forward + backward with 1 thread and with every core.
speed_lengths = (8, 32) if quick else (16, 64, 256, 512, 1024)
load, cores = os.getloadavg()[0], os.cpu_count() or 1  # programs waiting for a core, last minute
if load > 0.5 * cores:
    print(f"note: this machine is busy (load {load:.1f} on {cores} cores): other programs share the CPU, "
          f"so the speedups below are noisy and may not show the pattern. Rerun on a quiet machine.")
speedup = thread_speedup(("rnn", "transformer"), speed_lengths, d=width, batch=batch,
                         repeats=1 if quick else 3, rounds=1 if quick else 3, quick=quick)
if "skipped" in speedup:
    print(f"no speedup measurement: {speedup['skipped']}")
else:
    lesson.table(f"ms with 1 thread and with {cores}, in child processes taken in turns (median of "
                 f"{speedup['rounds']} rounds); p = share of the 1-thread time inside matrix products",
                 [(t, speedup["rnn_ms_1"][i], speedup["rnn_ms_n"][i], speedup["rnn_speedup"][i],
                   speedup["transformer_ms_1"][i], speedup["transformer_ms_n"][i], speedup["transformer_speedup"][i],
                   speedup["transformer_product_share"][i], speedup["transformer_amdahl"][i])
                  for i, t in enumerate(speed_lengths)],
                 headers=["T", "RNN 1 thr", f"RNN {cores} thr", "RNN speedup", "Transf. 1 thr", f"Transf. {cores} thr",
                          "Transf. speedup", "Transf. p", "Amdahl bound"])
    at = speed_lengths.index(512) if 512 in speed_lengths else -1
    print(f"at T = {speed_lengths[at]}: the Transformer layer runs {speedup['transformer_speedup'][at]:.2f}x faster "
          f"on {cores} cores than on 1 (Amdahl's bound for its p = {speedup['transformer_product_share'][at]:.2f}: "
          f"{speedup['transformer_amdahl'][at]:.2f}x); the RNN layer {speedup['rnn_speedup'][at]:.2f}x")
    lesson.save_figure(speedup_chart(speedup, f"Lesson 03: one layer (d {width}, batch {batch}) on 1 thread and on "
                                              f"{cores}: only the matrix products spread over the cores"),
                       "03_speedup.png")

# %% 5. A cost model for both devices: time = S tau + W / R + E / B, calibrated here, projected to a GPU.
if "skipped" in speedup:  # one core: calibrate and time in this process
    cpu = calibrate_cpu(quick)
    measured = {kind: time_layers((kind,), speed_lengths, width, batch)[f"{kind}_ms"] for kind in ("rnn", "transformer")}
else:  # the one-thread children measured tau, R and B beside their timings
    cpu = DeviceConstants(**speedup["constants_1"])
    measured = {kind: speedup[f"{kind}_ms_1"] for kind in ("rnn", "transformer")}
gpu = gpu_constants(PROJECTED_GPU, host_tau_s=cpu.tau_s)
timed = [count_lengths.index(t) for t in speed_lengths]
works = {kind: [work[kind][i] for i in timed] for kind in ("rnn", "transformer")}
model = {"cpu": model_curves(cpu, works), "gpu": model_curves(gpu, works)}
ratio = {kind: [m / p["total_ms"] for m, p in zip(measured[kind], model["cpu"][kind])] for kind in measured}
print("\n".join(["constants of this CPU, measured now on one thread:", *cpu.describe(),
                 f"constants of an {PROJECTED_GPU}, cited:", *gpu.describe(), GPU_SOURCES]))
lesson.table("ms per forward + backward: measured on this CPU (one thread), the model with this CPU's constants, "
             f"and the model with an {PROJECTED_GPU}'s",
             [(t, measured["rnn"][i], model["cpu"]["rnn"][i]["total_ms"], ratio["rnn"][i],
               measured["transformer"][i], model["cpu"]["transformer"][i]["total_ms"], ratio["transformer"][i],
               model["gpu"]["rnn"][i]["total_ms"], model["gpu"]["transformer"][i]["total_ms"])
              for i, t in enumerate(speed_lengths)],
             headers=["T", "RNN ms", "RNN model", "measured/model", "Transf. ms", "Transf. model", "measured/model",
                      "GPU model RNN", "GPU model Transf."])
at = speed_lengths.index(512) if 512 in speed_lengths else -1
cpu_ratio = measured["transformer"][at] / measured["rnn"][at]
gpu_ratio = model["gpu"]["rnn"][at]["total_ms"] / model["gpu"]["transformer"][at]["total_ms"]
print(f"at T = {speed_lengths[at]}: on this CPU the Transformer layer takes {cpu_ratio:.1f}x the RNN layer's time "
      f"(measured); with the {PROJECTED_GPU}'s constants the RNN layer takes {gpu_ratio:.0f}x the Transformer "
      f"layer's (model): its {works['rnn'][at]['dispatches']:,} dispatches against "
      f"{works['transformer'][at]['dispatches']} cost {model['gpu']['rnn'][at]['dispatch_ms']:.0f} ms before any "
      f"arithmetic")
lesson.save_figure(cost_model_chart(speed_lengths, [
    dict(title="this CPU, one thread: measured (points) and model (lines)", device="this CPU", model=model["cpu"],
         measured=measured, constants=cpu.describe()),
    dict(title=f"an {PROJECTED_GPU}: the model only (lesson 10 measures a GPU)", device=PROJECTED_GPU,
         model=model["gpu"], constants=gpu.describe())],
    f"Lesson 03: time = S tau + W / R + E / B for one layer (d {width}, batch {batch}). At T = {speed_lengths[at]} "
    f"the Transformer layer takes {cpu_ratio:.1f}x the RNN's time on this CPU; with an {PROJECTED_GPU}'s constants "
    f"the RNN's {works['rnn'][at]['dispatches']:,} dispatches make it {gpu_ratio:.0f}x slower"), "03_timing.png")

lesson.record(
    task=dict(length=length, key_position=key, num_classes=task.num_classes, steps=steps,
              batch_size=batch_size, chance=task.chance),
    accuracy=accuracy,
    accuracy_curve={name: dict(zip(*run.metric("accuracy"))) for name, run in runs.items()},
    train_time_s={name: run.total_time_s for name, run in runs.items()},
    attention_on_key=on_key,
    drawn_sequence=dict(index=example, weight_on_key=drawn_weight, head=[int(best_layer) + 1, int(best_head) + 1]),
    table1=dict(lengths=list(count_lengths), d=width, batch=batch, work=work, slopes=slopes,
                flops_equal_closed_form=exact),
    speedup=speedup,
    cpu_constants=cpu.as_dict(), gpu_constants=gpu.as_dict(),
    model=dict(lengths=list(speed_lengths), measured_ms=measured, cpu=model["cpu"], gpu=model["gpu"],
               measured_over_model=ratio),
    ranking=dict(length=speed_lengths[at], cpu_transformer_over_rnn=cpu_ratio, gpu_rnn_over_transformer=gpu_ratio),
    cpu_load_before_timing=load,
)

# %%
lesson.end()
