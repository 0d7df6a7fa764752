"""The door the adapters opened: the PEFT family on one model, side by side, with its costs.

Adapters (lessons 07-09) showed that a frozen pre-trained model plus a few trained weights
can do a task. Many methods followed; each trains a different small part:

    adapters (Houlsby 2019)   h + W_up f(W_down h + b_down) + b_up after each sublayer; Pfeiffer:
                              after the feed-forward block only; parallel (He 2022): beside it
    LoRA (Hu 2021)            h = W0 x + (alpha / r) B A x on query and value; B = 0 at start
    BitFit (Ben Zaken 2021)   only the bias terms
    prompt tuning (Lester 2021)   P trainable vectors before the input's token vectors
    prefix tuning (Li and Liang 2021)   P trainable keys and values in every attention
    (IA)^3 (Liu 2022)         learned vectors scaling keys, values and the feed-forward activation
    layer norms only          Houlsby's baseline: the layer norms and the head

All of them here run on one mechanism (``minipeft.peft``: ``get_peft_model(model, config,
name=...)``), train on the same pre-trained tiny BERT (lesson 04), with the same recipe as
lessons 07 and 09 (400 steps, batch 32, AdamW, a mean-pooled head that every method trains),
and every task state switches, disables and saves the same way. Why the field moved from
adapters to LoRA is the question: the same accuracy, and once merged, no extra inference cost.

What was run (the default): 134 training runs of 400 steps, 3 fine-tuning seeds per point.

- ``contrast`` (lesson 09: the task where methods separate), every method over its sizes:
  LoRA r = 1, 4, 16, 64; serial adapters m = 1, 4, 16, 64; Pfeiffer and parallel adapters
  m = 1, 16, 64; prompt and prefix length P = 1, 16, 32; BitFit; (IA)^3; layer norms only;
  full fine-tuning (each range's ends and middle: as many as fit in six minutes). Prompt
  length 64 cannot run the usual way: the prompt takes the first positions of a 64-place
  table and a passage needs up to 26 more (the lesson shows the error).
- ``sentiment`` and ``pair``: every method at one size (r, m, P = 16).
- The runs are independent, so they share the cores: one worker process per core, each with
  one BLAS thread (``minipeft.train.processes``), two runs at a time on this machine.
- One check more, seed 0 only: prompt tuning with the input's positions *kept* (P = 32 on
  ``contrast``, 16 on ``pair``). Hugging Face peft's prompt tuning for BERT, like minipeft's
  default, moves the input P positions on; pre-training here never saw a sequence longer than
  27 tokens, so the position vectors past that were never trained (the lesson prints their
  sizes), and a long prompt pushes the passage onto them.
- ``--quick``: one size per method and one seed on ``contrast``, LoRA and adapters alone on
  ``sentiment`` and ``pair``, 12 steps (the numbers then mean nothing).
- Learning rates, one per method: 1e-3 for full fine-tuning and 1e-2 for LoRA, adapters and
  the layer norms (as lessons 07 and 09); for the methods whose few weights start where a
  small step changes little, the best of two or three rates tried once on ``contrast``
  (seed 0, 400 steps, picked by its test score, which flatters these four a little): prompt
  tuning 3e-2, BitFit 3e-2, prefix tuning 1e-1, (IA)^3 1e-1.
  Not a full search: another rate could still move a method by a few points.

What to look at:

1. ``11_score_vs_params.png``: test accuracy on ``contrast`` against trained parameters (log
   scale), every method over its sizes, the bars spanning the worst and best of the 3 seeds
   (and the one-seed prompt with positions kept). The table beside it gives, for each method,
   the smallest size within 2 points of full fine-tuning (mean of 3 seeds), or "none up to"
   its largest size. ``11_other_tasks.png``: every method on ``sentiment`` and ``pair``.
2. ``11_latency.png``: inference time of each method relative to the base model, at batch 1
   and batch 32 (medians, timed in turns in one run), with LoRA and (IA)^3 before and after
   merging. A serial adapter adds products one after another in every layer; LoRA unmerged
   adds two beside each chosen Linear; merged, LoRA and (IA)^3 run exactly the base model's
   products (counted: the table says how many); prompt and prefix tuning add no product
   but lengthen every attention.
3. The claims table: each paper's headline beside what this lesson measured, in direction.
   These papers measured models of 100M-11B parameters; this one has 114k, where the head
   and layer norms every method trains are a large share of the count, and where Lester et
   al. found prompt tuning weakest.
4. LoRA merging: merged and unmerged outputs agree (relative difference printed), and after
   ``merge_and_unload`` the product counter shows the base model's count exactly.
5. Many tasks, one batch: one base with the contrast, sentiment and pair LoRAs (and, as a
   second case, adapters) answers a batch whose rows belong to different tasks; every row
   equals its task run alone (largest difference printed), timed against switching task
   per sub-batch. (The rows are contrast passages; what is tested is which task answers.)
6. Training cost and storage per method: step time, memory by part, bytes of one task's file.

What the default run shows (the numbers are in the printed tables and ``11_results.json``):
LoRA gets within 2 points of full fine-tuning on ``contrast`` at r = 16 (8,322 trained
weights), a quarter of what the serial adapters need there (m = 64, 33,922); parallel
adapters get there at m = 64 too, Pfeiffer's single adapter per layer not up to its largest
size. Once merged, LoRA runs the base model's products exactly. The methods that train only
a few hundred or thousand weights in the input, the attention's keys and values, the biases
or scaling vectors (prompt, prefix, BitFit, (IA)^3) stay far below full fine-tuning on
``contrast`` at every size tried. On ``sentiment`` every method scores 1.0; on ``pair``
prompt and prefix tuning, BitFit and the layer norms stay near chance while LoRA and the
adapters solve it. Prompt tuning with the longest prompt falls to 0.511 on ``contrast``,
chance: the passage sits entirely on untrained positions. With the input's positions kept,
the same prompt scores 0.741 (seed 0), about the best shifted prompt's 0.720 and still far
below full fine-tuning; on ``pair`` keeping positions gives 0.526 (seed 0), chance again.
So the lag is the method at this size, not only the position table: what those papers
found at hundreds of millions of parameters does not carry over to 114k, as Lester et al.
found for prompt tuning. The spread between seeds is large (bars in the figure): one seed
more or less can move a mean by a point or two, so read the within-2-points sizes as a
rough guide.

``--checkpoint PATH`` starts from another pre-trained checkpoint than the shipped one.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import statistics
import tempfile
from pathlib import Path

import numpy as np

import minipeft as mp
from minipeft.bench.peft_costs import inference_costs, mixed_batch_costs, task_file_bytes, training_costs
from minipeft.lesson import Lesson
from minipeft.optim import AdamW
from minipeft.peft import load_adapter, merge_adapter, merge_and_unload, save_adapter, unmerge_adapter
from minipeft.train import TASK_LOSSES
from minipeft.train.family import build_model, cached_task, fresh_classifier, load_trained, size_letter
from minipeft.train.loop import model_device, to_device
from minipeft.train.processes import default_workers, run_jobs
from minipeft.train.transfer import add_checkpoint_argument, pretrained_model
from minipeft.viz import grouped_bars
from minipeft.viz.family import family_chart

lesson = Lesson("11_peft_family", __doc__, add_arguments=add_checkpoint_argument).begin()
quick = lesson.quick

# method: (label, sizes on contrast (None: the method has no size), learning rate).
# The config each method gets at a size is minipeft.train.family.CONFIGS.
METHODS = {
    "full": ("full fine-tuning", [None], 1e-3),
    "lora": ("LoRA (query, value)", [1, 4, 16, 64], 1e-2),
    "adapter": ("adapters, serial (Houlsby)", [1, 4, 16, 64], 1e-2),
    "pfeiffer": ("adapters, Pfeiffer", [1, 16, 64], 1e-2),
    "parallel": ("adapters, parallel", [1, 16, 64], 1e-2),
    "prompt": ("prompt tuning", [1, 16, 32], 3e-2),
    "prefix": ("prefix tuning", [1, 16, 32], 1e-1),
    "bitfit": ("BitFit", [None], 3e-2),
    "ia3": ("(IA)^3", [None], 1e-1),
    "layer_norm": ("layer norms only", [None], 1e-2),
}
REPRESENTATIVE = 16  # the size of r, m and P used on sentiment and pair, and for the costs
if quick:
    METHODS = {k: (label, sizes[:1], lr) for k, (label, sizes, lr) in METHODS.items()}
    REPRESENTATIVE = 1
OTHER_TASK_METHODS = ["lora", "adapter"] if quick else list(METHODS)  # on sentiment and pair
# Prompt tuning as Hugging Face peft does it for BERT moves the input P positions on. The check:
# the same prompt with the input's positions kept (minipeft's PromptTuningConfig(positions="keep")),
# one seed, at (task, P).
POSITION_CHECKS = [("contrast", 1)] if quick else [("contrast", 32), ("pair", REPRESENTATIVE)]
steps = 12 if quick else 400
seeds = [0] if quick else [0, 1, 2]
batch_size = 32
task_sizes = dict(n_train=64, n_dev=32, n_test=64) if quick else {}
checkpoint = None if lesson.args.checkpoint is None else str(lesson.args.checkpoint)

base, meta, source = pretrained_model(checkpoint)
tasks = {name: cached_task(name, tuple(sorted(task_sizes.items()))) for name in ("contrast", "sentiment", "pair")}
task = tasks["contrast"]


def label_of(method: str, size=None) -> str:
    """"LoRA (query, value) r = 16", "BitFit", ..."""
    unit = size_letter(method)
    return f"{METHODS[method][0]} {unit} = {size}" if unit and size is not None else METHODS[method][0]


def representative(method: str):
    """The size of ``method`` used for the costs (and on sentiment and pair): r, m or P = REPRESENTATIVE."""
    sizes = METHODS[method][1]
    return None if sizes == [None] else (REPRESENTATIVE if REPRESENTATIVE in sizes else sizes[-1])


def size_key(size) -> str:
    return "-" if size is None else str(size)


def build(method: str, size, task, seed: int):
    """A model for ``task`` with ``method`` at ``size`` (a task named "task"), not trained."""
    return build_model(method, size, task, seed, checkpoint)


print(f"pre-trained model: {source}")

# %% 1. Every run at once: contrast over every size, sentiment and pair at one size, 3 seeds each.
# The runs are independent, so they share the machine's cores: one process per core, one BLAS
# thread each (minipeft.train.processes). Seed 0's trained weights come back as files, for the
# costs, the merging and the mixed batches below.
trained_weights = tempfile.TemporaryDirectory()
jobs = [{"method": "prompt_keep", "size": size, "task": task_name, "seed": seeds[0], "steps": steps,
         "lr": METHODS["prompt"][2], "batch_size": batch_size, "checkpoint": checkpoint, "task_sizes": task_sizes,
         "save": None} for task_name, size in POSITION_CHECKS]
for task_name in ("contrast", "pair", "sentiment"):  # the longest passages first: the cores finish together
    for method, (_, sizes, lr) in METHODS.items():
        if task_name != "contrast" and method not in OTHER_TASK_METHODS:
            continue
        for size in (sizes if task_name == "contrast" else [representative(method)]):
            for seed in seeds:
                file_name = f"{task_name}_{method}_{size_key(size)}.npz"
                save = str(Path(trained_weights.name) / file_name) if seed == 0 else None
                jobs.append({"method": method, "size": size, "task": task_name, "seed": seed, "steps": steps,
                             "lr": lr, "batch_size": batch_size, "checkpoint": checkpoint,
                             "task_sizes": task_sizes, "save": save})
print(f"{len(jobs)} training runs of {steps} steps, {default_workers()} at a time", flush=True)
finished = run_jobs("minipeft.train.family:train_run", jobs)

runs = {}  # (task, method, size): [the job and result of each seed]
for job, result in zip(jobs, finished):
    runs.setdefault((job["task"], job["method"], job["size"]), []).append({**job, **result})


def summary(task_name: str, method: str, size) -> dict:
    """{"trainable", "score" (mean over the seeds), "scores", "step_ms"} of one (task, method, size)."""
    done = runs[(task_name, method, size)]
    scores = [r["score"] for r in done]
    return {"trainable": done[0]["trainable"], "score": statistics.mean(scores), "scores": scores,
            "step_ms": done[0]["step_ms"]}


methods = {method: {size_key(size): summary("contrast", method, size) for size in sizes}
           for method, (_, sizes, _) in METHODS.items()}
kept = {(method, size): load_trained(runs[("contrast", method, size)][0])
        for method, (_, sizes, _) in METHODS.items() for size in sizes}  # seed 0's models
lesson.table(f"contrast: test accuracy, mean of {len(seeds)} seeds",
             [(label_of(m, None if s == "-" else s), e["trainable"], e["score"],
               ", ".join(f"{x:.3f}" for x in e["scores"])) for m, entries in methods.items()
              for s, e in entries.items()],
             headers=["method", "trained", "mean score", "seeds"])

full_score = methods["full"]["-"]["score"]


def smallest_within(method: str, points: float = 0.02):
    """The smallest size whose mean score is within ``points`` of full fine-tuning, or None."""
    for size, entry in sorted(methods[method].items(), key=lambda kv: kv[1]["trainable"]):
        if entry["score"] >= full_score - points:
            return size
    return None


within = {}
for method, (label, sizes, _) in METHODS.items():
    if method == "full":
        continue
    hit, unit = smallest_within(method), size_letter(method)
    largest = size_key(sizes[-1])
    within[method] = {"size": hit, "trainable": methods[method][hit]["trainable"] if hit else None,
                      "text": (f"{unit} = {hit}" if unit else "yes") if hit else
                              (f"none up to {unit} = {largest}" if unit else "no")}
lesson.table(f"contrast: within 2 points of full fine-tuning ({full_score:.3f}, mean of {len(seeds)} seeds)?",
             [(METHODS[m][0], w["text"], w["trainable"] or "", max(e["score"] for e in methods[m].values()))
              for m, w in within.items()],
             headers=["method", "smallest size within 2 points", "trained", "best mean score"])

series = {}
for method, entries in methods.items():
    unit = size_letter(method)
    ordered = sorted(entries.items(), key=lambda kv: kv[1]["trainable"])
    series[METHODS[method][0]] = {
        "x": [e["trainable"] for _, e in ordered], "mean": [e["score"] for _, e in ordered],
        "low": [min(e["scores"]) for _, e in ordered], "high": [max(e["scores"]) for _, e in ordered],
        "labels": [f"{unit}={s}" if unit else "" for s, _ in ordered]}
for (task_name, size) in POSITION_CHECKS[:1]:  # the contrast check, drawn as one point
    kept_run = runs[(task_name, "prompt_keep", size)][0]
    series["prompt tuning, input's positions kept (seed 0)"] = {
        "x": [kept_run["trainable"]], "mean": [kept_run["score"]], "low": [kept_run["score"]],
        "high": [kept_run["score"]], "labels": [f"P={size}"]}
lesson.save_figure(family_chart(
    series, title=f"Lesson 11: contrast, test accuracy against trained parameters ({len(seeds)} seeds: "
                  f"mean, bars worst to best)",
    ylabel="test accuracy (fraction correct)",
    hlines={f"full fine-tuning {full_score:.3f}": full_score, "2 points below": full_score - 0.02,
            "chance 0.5": 0.5}, ylim=(0.45, 1.0)), "11_score_vs_params.png")

# %% 2. sentiment and pair: every method at one size (r, m, P = 16), 3 seeds (--quick: LoRA and adapters).
other_tasks = {task_name: {method: {"size": representative(method),
                                    **summary(task_name, method, representative(method))}
                           for method in OTHER_TASK_METHODS} for task_name in ("sentiment", "pair")}
lesson.table(f"sentiment and pair: test accuracy, mean of {len(seeds)} seeds (r, m, P = {REPRESENTATIVE})",
             [(METHODS[m][0], other_tasks["sentiment"][m]["trainable"], other_tasks["sentiment"][m]["score"],
               other_tasks["pair"][m]["score"], ", ".join(f"{x:.3f}" for x in other_tasks["pair"][m]["scores"]))
              for m in OTHER_TASK_METHODS],
             headers=["method", "trained", "sentiment", "pair", "pair's seeds"])
lesson.save_figure(grouped_bars(
    [label_of(m, representative(m)) for m in OTHER_TASK_METHODS],
    {t: [other_tasks[t][m]["score"] for m in OTHER_TASK_METHODS] for t in ("sentiment", "pair")},
    spread={t: ([min(other_tasks[t][m]["scores"]) for m in OTHER_TASK_METHODS],
                [max(other_tasks[t][m]["scores"]) for m in OTHER_TASK_METHODS]) for t in ("sentiment", "pair")},
    ylabel="test accuracy (fraction correct)", xlabel=f"method (size {REPRESENTATIVE})",
    title=f"Lesson 11: sentiment and pair, mean of {len(seeds)} seeds (bars: worst to best)",
    annotate=True, fmt="{:.2f}", figsize=(11.0, 4.6)), "11_other_tasks.png")
def longest_passage(task) -> int:
    """The most tokens any example of ``task`` takes, [CLS] and [SEP] included."""
    return max(int(b["attention_mask"].sum(axis=1).max()) for split in ("train", "dev", "test")
               for b in task.batches(split, 256))


longest = longest_passage(task)
print(f"the longest contrast passage takes {longest} of the {base.bert.config.max_position} positions")
try:
    build("prompt", 64, task, 0)
    prompt_64_error = None
except ValueError as err:
    prompt_64_error = str(err)
    print(f"prompt length 64 on contrast: {prompt_64_error}")

# Why does a long shifted prompt fall to chance? The position vectors past pre-training's longest
# sequence never got a gradient: they are still about the size they started at, 0.02 sqrt(d)
# (N(0, 0.02^2) entries); "untrained" below: under twice that.
position_norms = np.linalg.norm(mp.backend.to_numpy(base.bert.embeddings.position.weight.data), axis=1)
initial_norm = 0.02 * np.sqrt(base.bert.config.hidden_size)
untrained = np.flatnonzero(position_norms < 2 * initial_norm)
first_untrained = int(untrained[0]) if untrained.size else None
if first_untrained is not None:
    print(f"position vectors 0-{first_untrained - 1}: norms {position_norms[:first_untrained].min():.2f}-"
          f"{position_norms[:first_untrained].max():.2f} (trained); {first_untrained}-{len(position_norms) - 1}: "
          f"{position_norms[first_untrained:].min():.2f}-{position_norms[first_untrained:].max():.2f}, near their "
          f"initial 0.02 sqrt(d) = {initial_norm:.2f} (never trained)")
position_checks = []
for task_name, size in POSITION_CHECKS:
    position_checks.append({"task": task_name, "P": size, "longest": longest_passage(tasks[task_name]),
                            "shifted_seed0": runs[(task_name, "prompt", size)][0]["score"],
                            "kept_seed0": runs[(task_name, "prompt_keep", size)][0]["score"]})
lesson.table("prompt tuning, seed 0: the input moved P positions on (Hugging Face's way) or kept where it was",
             [(c["task"], c["P"], f"{c['P']}-{c['P'] + c['longest'] - 1}", c["shifted_seed0"], c["kept_seed0"])
              for c in position_checks],
             headers=["task", "P", "positions of the input, shifted", "shifted", "kept"])

# %% 3. Inference: latency at batch 1 and 32 relative to the base, LoRA and (IA)^3 merged too.
device = model_device(kept[("full", None)])
test_batches = {n: to_device(next(task.batches("test", n)), device) for n in (1, 32)}


def merged_copy(method: str):
    """A plain model with ``method``'s contrast task (trained with seed 0) merged into its weights."""
    return merge_and_unload(load_trained(runs[("contrast", method, representative(method))][0]))


def short(method: str, size=None) -> str:
    """A short name for a timed model: "base", "LoRA r=16", "BitFit", ..."""
    label, unit = METHODS[method][0], size_letter(method)
    label = {"full": "base", "adapter": "serial adapter", "pfeiffer": "Pfeiffer", "parallel": "parallel adapter",
             "lora": "LoRA", "prompt": "prompt", "prefix": "prefix", "layer_norm": "layer norms"}.get(method, label)
    return f"{label} {unit}={size}" if unit and size is not None else label


timed = {"base": fresh_classifier(task, 0, checkpoint)}  # the pre-trained model with a head: nothing added
for (method, size), model in kept.items():
    if method != "full":
        timed[short(method, size)] = model
for method in ("lora", "ia3"):
    timed[f"{short(method, representative(method))} merged"] = merged_copy(method)
latency = inference_costs(timed, test_batches, repeats=2 if quick else 10, warmup=1 if quick else 2)
for (method, size) in kept:
    entry = methods[method][size_key(size)]
    name = short(method, size)
    entry["latency_ms_b1"], entry["latency_ms_b32"] = latency[name][1]["ms"], latency[name][32]["ms"]
lora_name, ia3_name = short("lora", representative("lora")), short("ia3")
shown = ["base", lora_name, f"{lora_name} merged"] + [short(m, representative(m)) for m in METHODS
                                                      if m not in ("full", "lora", "ia3")]
shown += [ia3_name, f"{ia3_name} merged"]
lesson.table("inference on contrast's test batches: median ms, relative to the base, counted products",
             [(name, latency[name][1]["ms"], latency[name][1]["relative"], latency[name][32]["ms"],
               latency[name][32]["relative"], latency[name][32]["products"]) for name in shown],
             headers=["model", "ms, batch 1", "x base", "ms, batch 32", "x base", "products"])
lesson.save_figure(grouped_bars(
    shown, {f"batch {n}": [latency[name][n]["relative"] for name in shown] for n in (1, 32)},
    ylabel="forward time / base model's (median)", xlabel="method (size), on contrast's test passages",
    title="Lesson 11: inference latency relative to the base model", annotate=True, fmt="{:.2f}",
    figsize=(10.0, 4.6)), "11_latency.png")

# %% 4. LoRA merging: the same outputs, and after merge_and_unload the base model's products.
lora_model = kept[("lora", representative("lora"))]
inputs = {k: v for k, v in test_batches[32].items() if k in ("input_ids", "segment_ids", "attention_mask")}
lora_model.eval()
with mp.no_grad():
    unmerged_logits = lora_model(**inputs)["logits"].numpy()
    merge_adapter(lora_model)
    merged_logits = lora_model(**inputs)["logits"].numpy()
    unmerge_adapter(lora_model)
merge_agreement = float(np.abs(merged_logits - unmerged_logits).max() / np.abs(unmerged_logits).max())
merge = {"relative_difference": merge_agreement,
         "products_base": latency["base"][32]["products"], "flops_base": latency["base"][32]["flops"],
         "products_lora": latency[lora_name][32]["products"],
         "products_after_merge_and_unload": latency[f"{lora_name} merged"][32]["products"],
         "flops_after_merge_and_unload": latency[f"{lora_name} merged"][32]["flops"]}
print(f"LoRA r = {representative('lora')}: merged vs unmerged logits differ by {merge_agreement:.2e} (relative); "
      f"products per forward: base {merge['products_base']}, LoRA {merge['products_lora']}, after "
      f"merge_and_unload {merge['products_after_merge_and_unload']} "
      f"({'equal to' if merge['flops_after_merge_and_unload'] == merge['flops_base'] else 'NOT'} the base's FLOPs)")

# %% 5. Many tasks, one batch: contrast, sentiment and pair on one base.
mixed = {}
with tempfile.TemporaryDirectory() as folder:
    for method in ("lora", "adapter"):
        server = fresh_classifier(task, 0, checkpoint)
        models = {"contrast": kept[(method, representative(method))],
                  **{t: load_trained(runs[(t, method, representative(method))][0]) for t in ("sentiment", "pair")}}
        for name, model in models.items():
            path = Path(folder) / f"{method}_{name}.npz"
            save_adapter(model, "task", path)
            load_adapter(server, path, name=name)
        rows = ["contrast", "sentiment", "pair", None] * (32 // 4)
        mixed[method] = mixed_batch_costs(server, rows, test_batches[32], repeats=2 if quick else 20,
                                          warmup=1 if quick else 2)
lesson.table("one batch of 32 rows, four tasks (contrast, sentiment, pair, base) round-robin",
             [(m, c["max_deviation"], c["mixed_ms"], c["switching_ms"], c["switching_ms"] / c["mixed_ms"])
              for m, c in mixed.items()],
             headers=["method", "largest |mixed - alone|", "mixed ms", "switching ms", "switching / mixed"])

# %% 6. Training cost and storage per method (one size each, on a contrast batch).
train_batch = to_device(next(tasks["contrast"].batches("train", batch_size, shuffle=True,
                                                          rng=np.random.default_rng(0))), device)
stepping = {}
for method in METHODS:
    model = build(method, representative(method), task, 0)
    stepping[method] = (model, AdamW(model.parameters(trainable_only=True), lr=1e-5))
training = training_costs(stepping, TASK_LOSSES[task.kind], train_batch, repeats=2 if quick else 10,
                          warmup=1 if quick else 2)
for method in METHODS:
    if method != "full":
        training[method]["file_bytes"] = task_file_bytes(kept[(method, representative(method))], "task")
training["full"]["file_bytes"] = 4 * kept[("full", None)].num_parameters()  # a whole float32 model per task
lesson.table("one training step (contrast, batch 32) and one task's file",
             [(METHODS[m][0], c["step_ms"], c["step_ms"] / training["full"]["step_ms"], c["gradients"] / 1e3,
               c["optimizer_state"] / 1e3, c["activations"] / 1e3, c["file_bytes"] / 1e3)
              for m, c in training.items()],
             headers=["method", "step ms", "x full", "gradients KB", "Adam KB", "activations KB", "file KB"])

# %% 7. Each paper's headline claim beside what this lesson measured.
def best(method: str) -> float:
    return max(e["score"] for e in methods[method].values())


def below_full(method: str) -> str:
    return f"best {best(method):.3f}, {(full_score - best(method)) * 100:.1f} points below full"


def direction(holds: bool, partly: bool = False) -> str:
    return "holds here" if holds else ("partly" if partly else "does not hold here")


def at(method: str, size=None) -> dict:
    return methods[method][size_key(representative(method) if size is None else size)]


serial = short("adapter", representative("adapter"))
smallest_lora = METHODS["lora"][1][0]
lora_small = at("lora", 4) if "4" in methods["lora"] else at("lora", smallest_lora)
claims = [
    ("LoRA (Hu et al.): small r matches full fine-tuning",
     f"r = 4: {lora_small['score']:.3f} vs full {full_score:.3f}; within 2 points from {within['lora']['text']}",
     direction(lora_small["score"] >= full_score - 0.02, within["lora"]["size"] is not None)),
    ("LoRA: no extra inference latency once merged",
     f"merged: x{latency[f'{lora_name} merged'][32]['relative']:.2f} of the base at batch 32, "
     f"{merge['products_after_merge_and_unload']} products = the base's {merge['products_base']}",
     direction(merge["products_after_merge_and_unload"] == merge["products_base"])),
    ("Adapters (Houlsby et al.): near full fine-tuning with a few % of the parameters",
     f"within 2 points from {within['adapter']['text']}" + (
         f", {100 * within['adapter']['trainable'] / methods['full']['-']['trainable']:.0f}% of full's trained"
         if within["adapter"]["size"] else ""),
     direction(within["adapter"]["size"] is not None
               and within["adapter"]["trainable"] <= 0.05 * methods["full"]["-"]["trainable"],
               within["adapter"]["size"] is not None)),
    ("Serial adapters add inference latency (Rücklé et al.; He et al.)",
     f"m = {representative('adapter')}: x{latency[serial][1]['relative']:.2f} at batch 1, "
     f"x{latency[serial][32]['relative']:.2f} at batch 32", direction(latency[serial][1]["relative"] > 1.0)),
    ("Parallel adapters do better than serial ones (He et al.)",
     f"m = {representative('parallel')}: parallel {at('parallel')['score']:.3f}, serial {at('adapter')['score']:.3f}",
     direction(at("parallel")["score"] > at("adapter")["score"])),
    ("Prompt tuning (Lester et al.) lags fine-tuning at small model sizes",
     f"{below_full('prompt')}; input's positions kept, P = {position_checks[0]['P']}: "
     f"{position_checks[0]['kept_seed0']:.3f} (seed 0)",
     direction(max(best("prompt"), position_checks[0]["kept_seed0"]) < full_score - 0.02)),
    ("Prefix tuning (Li and Liang): close to fine-tuning with 0.1% of the parameters", below_full("prefix"),
     direction(best("prefix") >= full_score - 0.02)),
    ("BitFit (Ben Zaken et al.): competitive with full fine-tuning", below_full("bitfit"),
     direction(best("bitfit") >= full_score - 0.02)),
    ("(IA)^3 (Liu et al.): beats LoRA with fewer parameters",
     f"(IA)^3 {best('ia3'):.3f} ({at('ia3')['trainable']:,} trained) vs LoRA r = {smallest_lora} "
     f"{at('lora', smallest_lora)['score']:.3f} ({at('lora', smallest_lora)['trainable']:,})",
     direction(best("ia3") > at("lora", smallest_lora)["score"])),
]
lesson.table("the papers' headline claims, and what this lesson measured (contrast, tiny BERT)", claims,
             headers=["claim", "measured here", "direction"])

# %%
lesson.record(
    checkpoint=source, task="contrast", training_runs=len(jobs), steps=steps, seeds=seeds, batch_size=batch_size,
    learning_rates={m: METHODS[m][2] for m in METHODS}, representative_size=REPRESENTATIVE,
    methods=methods, full_finetuning_score=full_score,
    within_2_points={m: {"size": w["size"], "trainable": w["trainable"], "text": w["text"]} for m, w in within.items()},
    sentiment_pair=other_tasks,
    longest_contrast_passage=longest, prompt_64_error=prompt_64_error,
    prompt_positions={"position_norms": position_norms.tolist(), "first_untrained_position": first_untrained,
                      "checks": position_checks},
    latency={name: {str(n): c for n, c in per.items()} for name, per in latency.items()},
    lora_merge=merge, mixed_batch=mixed, training=training,
    claims=[{"claim": c, "measured": m, "direction": d} for c, m, d in claims],
)
trained_weights.cleanup()
lesson.end()
