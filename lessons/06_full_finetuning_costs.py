"""Why full fine-tuning breaks at scale: what it costs, what it stores, what it forgets.

Lesson 05 fine-tuned every weight of the pre-trained encoder for each task, and it worked.
The story this course tells (the README's opening paragraph) names three reasons why that
stops working as models grow. This lesson measures each on the tiny model and computes it
from the shapes for BERT-Base and BERT-Large. One root cause sits under all three: *every*
parameter is updated, so every parameter needs a gradient and optimizer state, every task
needs its own copy of all of them, and all of them drift away from what pre-training left.

What to look at (numbers of our run; 06_results.json has every one):

1. Cost: the first table and ``06_memory.png``. A float32 training step with Adam holds
   the weights (4 bytes each), their gradients (4) and Adam's two moments (8): 16 bytes
   per parameter, 4x the model, before a single activation. Activations, what the forward
   pass keeps for backward, come on top and grow with batch x length (and with length
   squared in attention). For the tiny model they are *measured*
   (``minipeft.bench.step_memory`` walks the graph from the loss and adds up what the ops
   saved): 4.2 MB beside 0.46 MB of weights, for a batch of 32 sentences of 12 tokens. For
   BERT they are *computed* by a formula
   (``minipeft.bench.memory.activation_bytes_formula``, written from what minipeft's ops
   save and tested to agree with the measurement within 0.1%): it is a formula, not a
   measurement. BERT-Large (335,141,888 parameters) at batch 32 x 128 tokens: 5.36 GB of
   weights, gradients and Adam state plus 9.7 GB of activations, about 15 GB for one step.
   Time: one tiny step took about 10 ms here; one BERT-Large step is 7.6 TFLOP of matrix
   products, which would take at least 45 s on this CPU even at its matrix-multiply peak,
   measured in the same run (170 GFLOP/s; it varies from run to run): a lower bound from
   counted FLOPs, not a timing. Fine-tuning for a few epochs is thousands of such steps,
   hence GPUs.
2. Storage: the checkpoint table and ``06_storage.png``. Each fine-tuned model is a whole
   new model: ``save_checkpoint`` writes 471 KB per classifier and 1.03 MB for the
   encoder-decoder (real files). You cannot keep only what changed: 96% of the encoder's
   weights differ from the pre-trained ones after 400 steps (all but the pooler, which
   mean pooling does not use; 100% for the encoder-decoder). BERT-Large's 335M float32
   parameters are 1.34 GB per task (345M, the count of the savings table lesson 08 quotes:
   1.38 GB), and N tasks cost N x 1.34 GB. The warning often told with this story,
   "terabytes just for a handful of tasks", overstates it: a handful (5) is 6.7 GB; one
   terabyte is 746 tasks (186 if each copy also keeps Adam's state, 16 bytes per
   parameter, to resume training). What is true is that storage grows linearly with the
   number of tasks, by the full model each time: a service with one model per customer and
   task reaches terabytes quickly, and lesson 07's adapters make each copy small.
3. Forgetting: the last table and ``06_forgetting.png``. The pre-trained masked-LM head is
   kept aside; during and after fine-tuning the fine-tuned encoder is put back under it
   (``transfer.forgetting_probe``) and scored on held-out pre-training text (256 sentence
   pairs, 25% of words masked). Before: 61.4%. After 400 steps at lr 1e-3: sentiment 40.2,
   pair 39.7, qa 38.0, contrast 53.3, summarization 58.1: 3 to 23 points lost, while the
   task itself was learned (sentiment lost 20 points in its first 100 steps; pair lost
   most of its own between steps 150 and 300, from 57.3 to 42.0). (The MLM output layer is
   tied to the token table, so it scores words with the fine-tuned table, as BERT would.)
   Lesson 07 trains pair for 1,000 steps and sees 61.5 fall to 26.7. The encoder-decoder
   forgets least; we have not measured why (its decoder, trained from scratch, may carry
   much of the task).

The default run took 47 s on a two-core CPU (``run_time_s`` in 06_results.json; longer on a
busy machine); ``--quick`` takes seconds. ``--checkpoint PATH`` starts from another
pre-trained checkpoint.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import tempfile
from pathlib import Path

import numpy as np

import minipeft as mp
from minipeft.bench import gemm_peak_gflops, median, time_ms
from minipeft.bench.flops import full_training_step_flops
from minipeft.bench.memory import PARTS, estimate_training_memory
from minipeft.bench.step_memory import step_memory
from minipeft.data import PretrainingCorpus, load_task
from minipeft.kernels.matmul import count_gemms
from minipeft.lesson import Lesson
from minipeft.nn import BertConfig, count_parameters
from minipeft.train import (TASK_LOSSES, endless, evaluate, heldout_batches, pretraining_metrics, save_checkpoint,
                            train)
from minipeft.train.transfer import add_checkpoint_argument, encoder_of, forgetting_probe, pretrained_model, task_model
from minipeft.viz import line_chart
from minipeft.viz.comparison import stacked_panels

TASKS = ("sentiment", "pair", "contrast", "qa", "summarization")
SCORES = {"classification": "accuracy", "qa": "f1", "seq2seq": "rougeL"}
PART_NAMES = {"parameters": "parameters", "gradients": "gradients", "optimizer_state": "optimizer state (Adam m, v)",
              "activations": "activations"}
GB, MB, KB = 1e9, 1e6, 1e3


lesson = Lesson("06_full_finetuning_costs", __doc__, add_arguments=add_checkpoint_argument).begin()

quick = lesson.quick
steps = {name: (30 if quick else 400) for name in TASKS}
batch_size, lr, n_evals = 32, 1e-3, 3 if quick else 8
sizes = dict(n_train=200, n_dev=32, n_test=32) if quick else {}
big_batch, big_seq = 32, 128  # a typical fine-tuning batch for the BERT-Base / -Large estimates

pretrained, meta, source = pretrained_model(lesson.args.checkpoint)
config = pretrained.bert.config
recipe = (meta.get("extra") or {}).get("recipe") or {}
print(f"pre-trained model: {source} ({pretrained.bert.num_parameters():,} encoder parameters)")
tasks = {name: load_task(name, seed=lesson.seed, **sizes) for name in TASKS}

# %% 1. Cost (a): one full fine-tuning step of the tiny model, timed and counted.
task = tasks["sentiment"]
batch = next(task.batches("train", batch_size, shuffle=True, rng=np.random.default_rng(lesson.seed)))
tokens = int(batch["attention_mask"].sum())
mp.manual_seed(lesson.seed)
model = task_model(task, pretrained)
optimizer = mp.optim.AdamW(model.parameters(trainable_only=True), lr=1e-5)  # a tiny lr: timing only

def step():
    optimizer.zero_grad()
    TASK_LOSSES["classification"](model, batch).backward()
    optimizer.step()

with count_gemms() as counted:
    step()
step_ms = median(time_ms(step, warmup=2, repeats=5 if quick else 30))
peak = gemm_peak_gflops(lesson.device, size=512 if quick else 1024, repeats=3 if quick else 5)
tiny_rate = counted.flops / (step_ms * 1e-3) / 1e9
seq = batch["input_ids"].shape[1]
print(f"tiny model, a sentiment batch of {batch_size} x {seq} tokens: {step_ms:.2f} ms per full "
      f"fine-tuning step, {counted.flops / 1e6:.1f} MFLOP in matrix products ({tiny_rate:.2f} GFLOP/s; "
      f"this machine's matrix-multiply peak: {peak:.1f} GFLOP/s)")

# Memory (a): measured on the tiny model, computed from the shapes for BERT-Base and -Large.
mp.manual_seed(lesson.seed)
throwaway = task_model(task, pretrained)
measured = step_memory(throwaway, TASK_LOSSES["classification"], batch,
                       mp.optim.AdamW(throwaway.parameters(), lr=1e-5))
measured.pop("total")
tiny_estimate = estimate_training_memory(config, batch_size, seq)
models = {"tiny (measured)": (config, batch_size, seq),
          "BERT-Base (computed)": (BertConfig.preset("base"), big_batch, big_seq),
          "BERT-Large (computed)": (BertConfig.preset("large"), big_batch, big_seq)}
memory = {"tiny (measured)": measured}
memory.update({name: estimate_training_memory(c, b, t) for name, (c, b, t) in models.items()
               if name != "tiny (measured)"})
flops = {name: (counted.flops if name.startswith("tiny") else full_training_step_flops(c, b, t))
         for name, (c, b, t) in models.items()}
seconds_at_peak = {name: f / (peak * 1e9) for name, f in flops.items()}
rows = []
for name, parts in memory.items():
    c, b, t = models[name]
    total = sum(parts.values())
    rows.append((name, f"{b} x {t}", count_parameters(c), *(parts[p] / MB for p in PARTS), total / MB,
                 flops[name] / 1e9, 1e3 * seconds_at_peak[name]))
lesson.table("memory of one full fine-tuning step (float32, AdamW) and its matrix-product work",
             rows, headers=["model", "batch x tokens", "encoder params", "params MB", "grads MB",
                            "Adam state MB", "activations MB", "total MB", "GFLOP / step",
                            "ms at matmul peak"])
formula_check = {p: measured[p] / tiny_estimate[p] for p in PARTS}
print("tiny model, measured / computed from shapes: "
      + ", ".join(f"{p} {v:.3f}" for p, v in formula_check.items())
      + " (the measured model also holds the classifier head; mean pooling leaves the pooler without "
        "gradient or Adam state; the activation formula is tested to 0.1%)")
large = memory["BERT-Large (computed)"]
large_fixed = large["parameters"] + large["gradients"] + large["optimizer_state"]
print(f"BERT-Large: {count_parameters(BertConfig.preset('large')):,} parameters x (4 + 4 + 8) bytes = "
      f"{large_fixed / GB:.2f} GB before any activation; activations (a formula, batch {big_batch} x "
      f"{big_seq}, dropout 0.1) {large['activations'] / GB:.2f} GB; one step of "
      f"{flops['BERT-Large (computed)'] / 1e12:.1f} TFLOP takes at least "
      f"{seconds_at_peak['BERT-Large (computed)']:.0f} s at this CPU's matmul peak")

panels = {}
for name, parts in memory.items():
    unit, scale = (("KB", KB) if name.startswith("tiny") else ("GB", GB))
    weights = {"parameters": parts["parameters"] / scale}
    panels[name] = {"unit": f"memory ({unit})",
                    "bars": {"weights\nalone": {PART_NAMES["parameters"]: weights["parameters"]},
                             "training\nstep": {PART_NAMES[p]: parts[p] / scale for p in PARTS}}}
lesson.save_figure(stacked_panels(panels, [PART_NAMES[p] for p in PARTS],
                                  title=f"Lesson 06: memory of one full fine-tuning step (float32, Adam; "
                                        f"tiny: batch {batch_size} x {seq}, BERT: {big_batch} x {big_seq})"),
                   "06_memory.png")

# %% 2. Fine-tune every task in full, watching the masked-LM skill of the encoder as it goes.
corpus_seed = (meta.get("extra") or {}).get("seed", 0)  # the held-out documents of the pre-training corpus
corpus = PretrainingCorpus(100, seed=corpus_seed if isinstance(corpus_seed, int) else 0)
heldout = heldout_batches(corpus, num_batches=2 if quick else 4, batch_size=64,
                          mask_prob=recipe.get("mask_prob", 0.25))
probe = forgetting_probe(pretrained, heldout)
before = pretraining_metrics(pretrained, heldout)
print(f"\nheld-out pre-training text ({sum(len(b['nsp_labels']) for b in heldout)} sentence pairs, "
      f"{recipe.get('mask_prob', 0.25):.0%} masked): MLM accuracy {before['mlm_accuracy']:.4f}, "
      f"NSP accuracy {before['nsp_accuracy']:.4f} before fine-tuning")
finetuned, histories = {}, {}
for name, task in tasks.items():
    mp.manual_seed(lesson.seed)
    model = task_model(task, pretrained)
    score = SCORES[task.kind]

    def eval_fn(m, task=task, score=score):
        return {"mlm_accuracy": probe(m)["mlm_accuracy"], score: evaluate(m, task, "dev")[score]}

    histories[name] = train(model, endless(task, "train", batch_size, np.random.default_rng(lesson.seed)),
                            steps[name], loss_fn=TASK_LOSSES[task.kind], lr=lr, weight_decay=0.01,
                            warmup_fraction=0.1, clip=1.0, eval_fn=eval_fn,
                            eval_every=max(1, steps[name] // n_evals), quiet=True, name=f"finetune {name}")
    finetuned[name] = model
    last = histories[name].last_eval
    print(f"  {name:<13} {steps[name]} steps: dev {score} {last[score]:.3f}, held-out MLM accuracy "
          f"{before['mlm_accuracy']:.3f} -> {last['mlm_accuracy']:.3f}  ({histories[name].total_time_s:.1f} s)",
          flush=True)

# %% 3. Storage (b): every task is a whole new copy of the model.
checkpoint_bytes, changed = {}, {}
reference = pretrained.bert.state_dict()
with tempfile.TemporaryDirectory() as folder:
    for name, model in finetuned.items():
        checkpoint_bytes[name] = save_checkpoint(model, Path(folder) / f"{name}.npz", extra={"task": name})
        tuned = encoder_of(model).state_dict()
        moved = [np.abs(tuned[k] - reference[k]) > 0 for k in tuned]
        changed[name] = {"weights_changed": float(sum(m.sum() for m in moved) / sum(m.size for m in moved)),
                         "relative_change": float(np.sqrt(sum(((tuned[k] - reference[k]) ** 2).sum()
                                                              for k in tuned))
                                                  / np.sqrt(sum((reference[k] ** 2).sum() for k in tuned)))}
lesson.table("one checkpoint per task (save_checkpoint: every weight, float32, .npz)",
             [(name, finetuned[name].num_parameters(), checkpoint_bytes[name],
               100 * changed[name]["weights_changed"], changed[name]["relative_change"])
              for name in TASKS],
             headers=["task", "parameters", "bytes on disk", "encoder weights changed (%)",
                      "|W - W0| / |W0|"])
large_params = count_parameters(BertConfig.preset("large"))
large_copy = 4 * large_params
seed_copy = 4 * 345_000_000
tasks_for_terabyte = 1e12 / large_copy
n_tasks = np.unique(np.round(np.logspace(0, 3, 31)).astype(int))
tiny_copy = float(np.mean(list(checkpoint_bytes.values())))
base_copy = 4 * count_parameters(BertConfig.preset("base"))
storage_rows = [(n, n * tiny_copy / MB, n * base_copy / GB, n * large_copy / GB)
                for n in (1, len(TASKS), 10, 100, int(np.ceil(tasks_for_terabyte)), 1000)]
lesson.table("storage for N tasks, one full copy each (tiny: measured files; BERT: 4 bytes x parameters)",
             storage_rows, headers=["tasks N", "tiny MB", "BERT-Base GB", "BERT-Large GB"])
print(f"BERT-Large: {large_params:,} parameters x 4 bytes = {large_copy / GB:.2f} GB per task "
      f"(the savings table's 345M: {seed_copy / GB:.2f} GB). A handful of tasks (5) is {5 * large_copy / GB:.1f} GB; "
      f"1 TB takes {tasks_for_terabyte:.0f} tasks. Keeping Adam's state too (to resume training) "
      f"makes it 16 bytes per parameter: {4 * large_copy / GB:.2f} GB per task, 1 TB at "
      f"{tasks_for_terabyte / 4:.0f} tasks.")
lesson.save_figure(line_chart(
    None, {"tiny (mean of the measured files)": (n_tasks, n_tasks * tiny_copy),
           "BERT-Base (110M x 4 bytes)": (n_tasks, n_tasks * base_copy),
           "BERT-Large (335M x 4 bytes)": (n_tasks, n_tasks * large_copy)},
    ylabel="bytes on disk (log scale)", xlabel="number of tasks N (log scale)", log=True, logx=True,
    markers=False, hlines={"1 GB": 1e9, "1 TB": 1e12}, vlines={f"{len(TASKS)} tasks": len(TASKS)},
    title=f"Lesson 06: one full copy per task (BERT-Large {large_copy / GB:.2f} GB each; "
          f"1 TB = {tasks_for_terabyte:.0f} tasks)"), "06_storage.png")

# %% 4. Forgetting (c): the fine-tuned encoder under the original masked-LM head.
forgetting = {name: {"mlm_acc_before": before["mlm_accuracy"],
                     "mlm_acc_after": histories[name].last_eval["mlm_accuracy"]} for name in TASKS}
lesson.table("held-out masked-LM accuracy before and after full fine-tuning (original MLM head kept aside)",
             [(name, f["mlm_acc_before"], f["mlm_acc_after"],
               100 * (f["mlm_acc_before"] - f["mlm_acc_after"]),
               histories[name].last_eval[SCORES[tasks[name].kind]])
              for name, f in forgetting.items()],
             headers=["task", "MLM acc before", "after", "drop (points)", "task score (dev)"])
drops = {name: 100 * (f["mlm_acc_before"] - f["mlm_acc_after"]) for name, f in forgetting.items()}
claim = max(drops.values()) > 2.0
print(f"claim: full fine-tuning lowers MLM accuracy by > 2 points on at least one task: largest drop "
      f"{max(drops.values()):.1f} points ({max(drops, key=drops.get)}) -> "
      f"{'holds' if claim else 'DOES NOT HOLD'}")
lesson.save_figure(line_chart(
    None, {name: histories[name].metric("mlm_accuracy") for name in TASKS},
    ylabel="held-out masked-LM accuracy", xlabel="fine-tuning step", log=False,
    hlines={f"pre-trained: {before['mlm_accuracy']:.3f}": before["mlm_accuracy"]},
    ylim=(0, max(0.8, before["mlm_accuracy"] + 0.1)),
    title=f"Lesson 06: fine-tuning (lr {lr:g}) makes the encoder forget its pre-training"),
    "06_forgetting.png")

lesson.record(
    checkpoint=source,
    step_ms_tiny=step_ms, step_tokens=tokens, step_batch=[batch_size, seq],
    step_gemm_flops={name: int(f) for name, f in flops.items()},
    tiny_achieved_gflops=tiny_rate, gemm_peak_gflops=peak,
    step_seconds_at_matmul_peak=seconds_at_peak,
    memory_bytes={name: {p: int(v) for p, v in parts.items()} for name, parts in memory.items()},
    memory_total_bytes={name: int(sum(parts.values())) for name, parts in memory.items()},
    memory_measured_over_computed_tiny=formula_check,
    estimate_batch=[big_batch, big_seq],
    parameters={"tiny_encoder": count_parameters(config), "base": count_parameters(BertConfig.preset("base")),
                "large": large_params},
    checkpoint_bytes=checkpoint_bytes,
    weights_changed=changed,
    bert_large_bytes_per_task=large_copy, seed_345m_bytes_per_task=seed_copy,
    bert_large_tasks_per_terabyte=tasks_for_terabyte,
    storage_by_tasks={"tasks": [r[0] for r in storage_rows], "tiny_mb": [r[1] for r in storage_rows],
                      "base_gb": [r[2] for r in storage_rows], "large_gb": [r[3] for r in storage_rows]},
    heldout_before=before,
    forgetting=forgetting,
    forgetting_drop_points=drops,
    forgetting_curves={name: histories[name].metric("mlm_accuracy") for name in TASKS},
    task_scores_dev={name: histories[name].last_eval[SCORES[tasks[name].kind]] for name in TASKS},
    claim_forgetting_over_2_points=claim,
    steps=steps, batch_size=batch_size, learning_rate=lr,
    finetune_seconds={name: h.total_time_s for name, h in histories.items()},
)

# %%
lesson.end()
