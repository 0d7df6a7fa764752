"""Adapters: freeze the pre-trained model, train small plug-ins (Houlsby et al., 2019).

Lessons 05 and 06 fine-tuned every weight of the pre-trained BERT for each task: it works,
but each task then needs its own copy of the whole model, every step updates (and keeps
optimizer state for) every weight, and the model forgets what pre-training taught it.
Adapters keep the pre-trained model exactly as it is and add, inside every Transformer
layer, two small bottleneck networks:

    Adapter(h) = h + W_up f(W_down h + b_down) + b_up        W_down: d x m, W_up: m x d, m << d

one after the attention block's output projection and one after the feed-forward block's,
each before the residual add and the layer norm. Only the adapters, the layer norms and
the task head train: here m = 4 at d = 64 is 2.6% of the parameters. A task is then a
file of kilobytes, and switching task is switching adapter.

What to look at, cell by cell:

1. One encoder layer after ``add_adapter``: the two ``AdapterWrapper`` modules wrap the
   output projections, each holding an ``Adapter`` (64 -> 4 -> 64). Everything else is
   frozen; the layer norms train, each adapter with its own copy of them.
2. Identity at init. W_up starts at exactly zero, so the adapter adds exactly nothing:
   the model's outputs right after ``add_adapter`` are bit-identical to before (largest
   difference 0.0). Houlsby's own init (both projections near zero, std 1e-2) is only
   near-identity. Why not both near zero: the gradient of each projection is
   proportional to the other, a saddle (lesson 09's init sweep shows it).
3. ``07_gradient_flow.png``: the gradient norm of every weight tensor for one step of
   full fine-tuning beside one adapter step, on the same batch. Full fine-tuning sends a
   gradient to all of them (except the pooler, which a mean-pooled head never reads);
   with adapters the frozen tensors (grey) get none, so backward skips their
   weight-gradient matrix products (the table counts the FLOPs) and stops below the
   first adapter. Look at W_down: at this first step its gradient is exactly 0, because
   it reaches W_down through W_up = 0. After one update W_up is no longer 0 and both
   learn. (Had both started at 0, neither would ever move: lesson 09.) One trained
   tensor gets almost nothing even in full fine-tuning: the attention key bias, about
   3e-9. Adding one vector b_k to every key adds q . b_k to every score of a query, the
   same shift for all its keys, and softmax ignores a shift shared by all its inputs;
   what is left is float32 rounding.
4. Adapters against full fine-tuning of the same pre-trained model on every task
   (sentiment and pair: mean of 3 seeds), with the trainable share, the size of the file
   each method must store per task, and the time per training step. Adapters use lr 1e-2
   (a few thousand weights starting from zero need larger steps), full fine-tuning lr 1e-3
   (larger destroys the pre-trained weights); the same steps, batch 32, a mean-pooled
   head. pair trains for 1,000 steps, the others for 400: it is the slowest task to learn
   (an agreement of two polarities, each maybe negated), and lesson 05's pre-trained model
   was still climbing at step 400 (0.967 at step 250, 0.982 at 400 on the seen half), so
   the comparison gives both methods more time. ``07_adapter_vs_full.png`` draws the
   scores.
5. Forgetting. The classifier shares its encoder with a ``BertForPreTraining`` that keeps
   the original masked-LM head, so we can ask the base model to fill in masked words on
   held-out pre-training text, before and after fine-tuning. Inside
   ``with disable_adapter(model):`` the adapters are off and the base layer norms are back:
   its accuracy after adapter training is exactly what it was before (nothing of the base
   was written to). Full fine-tuning rewrote the encoder and the accuracy drops. (With the
   adapter *on*, the MLM head reads features bent towards the task, and does worse: an
   adapter is for its task; switched off, the base is untouched.)
6. One base, many tasks: the sentiment and pair adapters are loaded from their files into
   one fresh pre-trained model and switched with ``set_adapter``; each gives back its
   task's score exactly.

Where the adapters fall short (and why). On ``contrast``, the one task here whose rule
pre-training did not teach ("but" decides which clause counts), the adapters score 0.812
against full fine-tuning's 0.934, 12.2 points behind; on sentiment and pair they are
within a point. m = 4 at d = 64 is BERT-Large's ratio, m/d = 1/16 (m = 64 at d = 1024,
the setting of the "about 2%" in the story), and lesson 09 measures what closing the gap
costs here: m = 16 reaches 0.913, and m = 32 matches full fine-tuning (0.935) with 17,410
trained parameters, 15% of the base model. So "about 2% of the parameters, near full
accuracy" is a large-model result, and the shapes show part of why. At the same m/d the
adapters' own share is about the same (4 adapters x (2md + d + m) = 2,320 here, 2.0% of
113,794; 6,343,680 for BERT-Large, 1.9%), but the layer norms and the head train too, a
fixed cost that does not shrink with m: 642 parameters here, 22% of all that m = 4
trains, against 100,354 in BERT-Large, 1.6% of what m = 64 trains. And whether
m/d = 1/16 is enough depends on the task and on what the pre-trained features already
carry: on contrast at this size it is not.

Summarization needs a decoder, and BERT has none, so the decoder is new and random.
Frozen, with adapters as its only trainable part (besides its layer norms and output
bias), it has little to adapt, and the score lags full fine-tuning, which trains the
decoder from scratch. Adapters adapt what pre-training built; they do not replace it.

``--quick`` runs every cell at toy sizes in seconds (the numbers then mean nothing).
``--checkpoint PATH`` starts from another pre-trained checkpoint than the shipped one.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import statistics
import tempfile
from pathlib import Path

import numpy as np

from minipeft.data import PretrainingCorpus, load_task
from minipeft.kernels.matmul import count_gemms
from minipeft.lesson import Lesson
from minipeft.peft import (AdapterConfig, add_adapter, disable_adapter, load_adapter, print_trainable_parameters,
                           save_adapter, set_adapter)
from minipeft.train import evaluate, pretraining_metrics, save_checkpoint
from minipeft.train.loop import evaluation_mode, model_device, to_device
from minipeft.train.inspection import describe_trainable, gradient_norms, layer_of
from minipeft.train.sweeps import choose_trainable, fit, fresh_pretrained, score, shared_task_model
from minipeft.train.transfer import add_checkpoint_argument, pretrained_model
from minipeft.viz import grouped_bars
from minipeft.viz.tradeoffs import gradient_flow

TASKS = ("sentiment", "pair", "contrast", "qa", "summarization")


lesson = Lesson("07_adapters", __doc__, add_arguments=add_checkpoint_argument).begin()

quick = lesson.quick
bottleneck = 4                                   # m: 2.6% of the parameters train at d = 64
lr = {"adapter": 1e-2, "full": 1e-3}
batch_size = 32
steps = ({task: 12 for task in TASKS} if quick else
         {"sentiment": 400, "pair": 1000, "contrast": 400, "qa": 400, "summarization": 400})
seeds = {task: ([0] if quick or task not in ("sentiment", "pair") else [0, 1, 2]) for task in TASKS}
sizes = dict(n_train=64, n_dev=32, n_test=64) if quick else {}
adapter_config = AdapterConfig(bottleneck=bottleneck)

# %% 0. The pre-trained model (lesson 04) and held-out pre-training text to test it on.
checkpoint = lesson.args.checkpoint              # None: the shipped one
base, meta, source = pretrained_model(checkpoint)  # every run starts from a new copy: fresh_pretrained(checkpoint)

corpus_seed = int((meta.get("extra") or {}).get("seed", 0) or 0)
heldout = PretrainingCorpus(40 if quick else 300, seed=corpus_seed, split="heldout",
                            tokenizer=None).fixed_batches(2 if quick else 8, 64, mask_prob=0.25)

def mlm_accuracy(pretraining_model):
    return pretraining_metrics(pretraining_model, heldout)["mlm_accuracy"]

print(f"pre-trained model: {source}; {base.num_parameters():,} parameters "
      f"(d = {base.bert.config.hidden_size}, {base.bert.config.num_layers} layers)")
tasks = {name: load_task(name, seed=0, **sizes) for name in TASKS}

# %% 1. Plug in: add an adapter to a sentiment classifier and print one encoder layer.
task = tasks["sentiment"]
pretrained = fresh_pretrained(checkpoint)
model = shared_task_model(pretrained, task, seed=lesson.seed)
probe = next(task.batches("test", 64))
probe_batch = to_device(probe, model_device(model))

def outputs(m, pt):
    with evaluation_mode(m):
        logits = m(probe_batch["input_ids"], probe_batch["segment_ids"], probe_batch["attention_mask"])
        mlm = pt(probe_batch["input_ids"], probe_batch["segment_ids"], probe_batch["attention_mask"])
    return logits["logits"].numpy(), mlm["mlm_logits"].numpy()

before = outputs(model, pretrained)
add_adapter(model, "sentiment", adapter_config)
print("\none encoder layer after add_adapter (weights held by each module, and whether they train):\n")
print(describe_trainable(model.bert.layers[0]))
print("\nthe same layer as the module tree prints it:\n")
print(model.bert.layers[0])
print()
trainable_text = print_trainable_parameters(model)

# %% 2. Identity at init: W_up = 0, so the adapter adds exactly nothing.
after = outputs(model, pretrained)
identity_diff = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
houlsby_base = fresh_pretrained(checkpoint)      # Houlsby's init: both projections ~ N(0, 0.01)
houlsby = shared_task_model(houlsby_base, task, seed=lesson.seed)
houlsby_before = outputs(houlsby, houlsby_base)
add_adapter(houlsby, "houlsby", AdapterConfig(bottleneck=bottleneck, up_init="normal", down_init="normal",
                                              init_std=1e-2))
houlsby_after = outputs(houlsby, houlsby_base)
near_identity_diff = max(float(np.abs(a - b).max()) for a, b in zip(houlsby_before, houlsby_after))
lesson.table("identity at init: largest |output after add_adapter - output before| (64 test sentences)",
             [("W_up = 0, W_down Xavier (minipeft's default)", identity_diff,
               "bit-identical" if identity_diff == 0.0 else "differs"),
              ("W_up, W_down ~ N(0, 0.01) (Houlsby's init)", near_identity_diff, "near-identity")],
             headers=["adapter init", "max |difference| (logits and MLM logits)", ""])

# %% 3. Gradient flow: one full fine-tuning step beside one adapter step, on the same batch.
batch = next(task.batches("train", batch_size, shuffle=True, rng=np.random.default_rng(lesson.seed)))
full_model = shared_task_model(fresh_pretrained(checkpoint), task, seed=lesson.seed)
choose_trainable(full_model, "full")
with count_gemms() as full_count:
    full_norms = gradient_norms(full_model, task, batch)
with count_gemms() as adapter_count:
    adapter_norms = gradient_norms(model, task, batch)
rows = list(adapter_norms)
lesson.save_figure(gradient_flow(
    {"full fine-tuning (every weight trains)": full_norms,
     f"adapters, m = {bottleneck} (base frozen)": adapter_norms},
    rows, groups=[layer_of(r) for r in rows],
    notes={**{r: "unused by the mean-pooled head" for r in rows if r.startswith("bert.pooler")},
           **{r: "its gradient passes through W_up = 0 (first step only)" for r in rows
              if ".down." in r}},
    title="Lesson 07: gradient norm per weight tensor, one training step on the same sentiment batch"),
    "07_gradient_flow.png")
gradient_rows = []
for label, norms, count in (("full fine-tuning", full_norms, full_count),
                            ("adapters", adapter_norms, adapter_count)):
    got = [n for n in norms.values() if n]
    gradient_rows.append((label, len(got), len(norms), count.flops / 1e6))
lesson.table("one training step: who gets a gradient, and the matrix-product work it costs",
             gradient_rows, headers=["method", "tensors with a gradient", "tensors", "MFLOPs (fwd + bwd)"])

# %% 4. Adapters vs full fine-tuning, every task; 5. forgetting, measured on the way.
mlm_before = mlm_accuracy(fresh_pretrained(checkpoint))
runs = {task_name: {"adapter": [], "full": []} for task_name in TASKS}
forgetting = {}
files = {}
adapter_files = tempfile.TemporaryDirectory()  # removed at the end of cell 6 (or when Python exits)
for task_name in TASKS:
    task = tasks[task_name]
    for seed in seeds[task_name]:
        for method in ("adapter", "full"):
            pretrained = fresh_pretrained(checkpoint)
            model = shared_task_model(pretrained, task, seed=seed)
            choose_trainable(model, method, adapter=adapter_config, name=task_name)
            run = fit(model, task, steps=steps[task_name], lr=lr[method], seed=seed,
                      batch_size=batch_size)
            runs[task_name][method].append(run)
            print(f"  {task_name:13s} {method:7s} seed {seed}: score {run['score']:.3f} "
                  f"({run['trainable']:,} trainable, {run['train_time_s']:.1f} s)", flush=True)
            if task.kind != "seq2seq" and seed == seeds[task_name][0]:
                entry = forgetting.setdefault(task_name, {"mlm_acc_before": mlm_before})
                if method == "adapter":
                    entry["adapter_on"] = mlm_accuracy(pretrained)
                    with disable_adapter(model):
                        entry["adapter_disabled"] = mlm_accuracy(pretrained)
                else:
                    entry["full"] = mlm_accuracy(pretrained)
            if seed == seeds[task_name][0]:
                path = Path(adapter_files.name) / f"{task_name}_{method}.npz"
                nbytes = (save_adapter(model, task_name, path) if method == "adapter"
                          else save_checkpoint(model, path))
                files.setdefault(task_name, {})[method] = nbytes
                if method == "adapter" and task_name in ("sentiment", "pair"):
                    files[task_name]["adapter_path"] = str(path)

# %% 6. One base, two tasks: load both adapter files into one fresh model and switch.
swap_rows = []
shared = shared_task_model(fresh_pretrained(checkpoint), tasks["sentiment"], seed=lesson.seed)
for task_name in ("sentiment", "pair"):
    load_adapter(shared, files[task_name]["adapter_path"])
for task_name in ("sentiment", "pair"):
    set_adapter(shared, task_name)
    again = score(tasks[task_name], evaluate(shared, tasks[task_name], "test"))
    swap_rows.append((task_name, runs[task_name]["adapter"][0]["score"], again))
adapter_files.cleanup()

# ---- the comparison table ---------------------------------------------------------------
def mean(values):
    return float(statistics.fmean(values))

comparison, table_rows = {}, []
for task_name in TASKS:
    adapter_runs, full_runs = runs[task_name]["adapter"], runs[task_name]["full"]
    entry = {"adapter": mean(r["score"] for r in adapter_runs), "full": mean(r["score"] for r in full_runs),
             "trainable_fraction": adapter_runs[0]["trainable_fraction"],
             "adapter_scores": [r["score"] for r in adapter_runs],
             "full_scores": [r["score"] for r in full_runs],
             "metric": {"classification": "accuracy", "qa": "span F1", "seq2seq": "ROUGE-L F"}[
                 tasks[task_name].kind],
             "seeds": len(adapter_runs), "steps": steps[task_name],
             "adapter_trainable": adapter_runs[0]["trainable"], "full_trainable": full_runs[0]["trainable"],
             "adapter_step_ms": mean(r["step_ms"] for r in adapter_runs),
             "full_step_ms": mean(r["step_ms"] for r in full_runs),
             "adapter_file_bytes": files[task_name]["adapter"], "full_file_bytes": files[task_name]["full"]}
    entry["gap_points"] = 100 * (entry["full"] - entry["adapter"])
    comparison[task_name] = entry
    table_rows.append((task_name, entry["metric"], entry["seeds"], entry["full"], entry["adapter"],
                       entry["gap_points"], 100 * entry["trainable_fraction"],
                       entry["full_file_bytes"] / 1e3, entry["adapter_file_bytes"] / 1e3,
                       100 * entry["adapter_file_bytes"] / entry["full_file_bytes"],
                       entry["full_step_ms"], entry["adapter_step_ms"]))
lesson.table(f"adapters (m = {bottleneck}, lr {lr['adapter']:g}) vs full fine-tuning (lr {lr['full']:g}), "
             f"test scores (mean over the random seeds)",
             table_rows, headers=["task", "metric", "seeds", "full", "adapters", "gap (points)",
                                  "adapters train %", "full file KB", "adapter file KB", "file %",
                                  "full ms/step", "adapter ms/step"])
figure = grouped_bars(
    [f"{t}\n({comparison[t]['metric']}{', 3 seeds' if comparison[t]['seeds'] > 1 else ''})" for t in TASKS],
    {"full fine-tuning (100% trains)": [comparison[t]["full"] for t in TASKS],
     f"adapters m = {bottleneck} ({100 * comparison['sentiment']['trainable_fraction']:.1f}% trains)":
         [comparison[t]["adapter"] for t in TASKS]},
    ylabel="test score", annotate=True, fmt="{:.3f}",
    title="Lesson 07: adapters vs full fine-tuning of the same pre-trained BERT")
figure.axes[0].set_ylim(0, 1.22)
figure.axes[0].legend(loc="upper center", ncol=2, frameon=False, fontsize=9)
lesson.save_figure(figure, "07_adapter_vs_full.png")

forgetting_rows = [(t, f["mlm_acc_before"], f["adapter_disabled"], f["adapter_on"], f["full"],
                    f["adapter_disabled"] == f["mlm_acc_before"]) for t, f in forgetting.items()]
lesson.table("forgetting: the base model's masked-LM accuracy on held-out pre-training text "
              "(original MLM head)", forgetting_rows,
              headers=["fine-tuned on", "before", "after adapters (disabled)", "adapter on",
                       "after full fine-tuning", "exactly equal"])
lesson.table("one base, two adapter files, switched with set_adapter", swap_rows,
             headers=["task", "score when trained", "score after loading + set_adapter"])

lesson.record(
    checkpoint=source, bottleneck=bottleneck, lr=lr, batch_size=batch_size, steps=steps,
    seeds={t: len(s) for t, s in seeds.items()}, trainable_parameters_text=trainable_text,
    identity_max_abs_diff=identity_diff, near_identity_max_abs_diff_houlsby_init=near_identity_diff,
    gradient_tensors={"full": sum(bool(v) for v in full_norms.values()),
                      "adapter": sum(bool(v) for v in adapter_norms.values()),
                      "total_full_model": len(full_norms), "total_adapter_model": len(adapter_norms)},
    step_mflops={"full": full_count.flops / 1e6, "adapter": adapter_count.flops / 1e6},
    gradient_norms={"full": full_norms, "adapter": adapter_norms},
    adapter_vs_full=comparison,
    adapter_file_bytes=comparison["sentiment"]["adapter_file_bytes"],
    full_file_bytes=comparison["sentiment"]["full_file_bytes"],
    adapter_file_fraction=(comparison["sentiment"]["adapter_file_bytes"]
                           / comparison["sentiment"]["full_file_bytes"]),
    file_bytes_by_task={t: {"adapter": c["adapter_file_bytes"], "full": c["full_file_bytes"]}
                        for t, c in comparison.items()},
    mlm_acc_base_before=forgetting["sentiment"]["mlm_acc_before"],
    mlm_acc_base_after_adapters=forgetting["sentiment"]["adapter_disabled"],
    mlm_acc_after_full=forgetting["sentiment"]["full"],
    forgetting=forgetting,
    swap_scores={task: {"trained": a, "reloaded": b} for task, a, b in swap_rows},
    must_show={
        "adapters_within_1_point_sentiment_pair": all(
            comparison[t]["gap_points"] <= 1.0 for t in ("sentiment", "pair")),
        "trainable_at_most_4_percent": comparison["sentiment"]["trainable_fraction"] <= 0.04,
        "adapter_file_at_most_5_percent": all(
            c["adapter_file_bytes"] <= 0.05 * c["full_file_bytes"] for c in comparison.values()),
        "mlm_exactly_equal_after_adapters": all(
            f["adapter_disabled"] == f["mlm_acc_before"] for f in forgetting.values()),
        "full_finetuning_lowers_mlm": all(f["full"] < f["mlm_acc_before"] for f in forgetting.values()),
    })

# %%
lesson.end()
