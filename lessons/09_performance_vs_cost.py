"""Performance vs. cost: how much must train? Houlsby et al.'s Figures 3, 4 and 6, in miniature.

Lesson 07 found adapters within a point of full fine-tuning on sentiment and pair, but
there everything scores close to 100%, and any method looks perfect on an easy task. On
the one harder task it ran, the adapters fell 12.2 points behind (0.812 against 0.934).
This lesson studies that task, one that pre-training does not hand over: ``contrast``. A
passage of 2-3 sentences holds one "SIDE but SIDE ." sentence whose two sides have
opposite sentiment, among context sentences of random sentiment; the label is the
sentiment of the side *after* "but" ("the soup is good but the pie is not nice ." ->
negative). Pre-training taught the model polarity and negation, but never that "but"
decides which clause counts, nor which clause of a passage the "but" belongs to. Full
fine-tuning lands between 0.80 and 0.97 here (the lesson checks it), so methods can
differ, and they do.

What to look at:

1. ``09_score_vs_params.png`` (Houlsby's Fig. 3/4): test accuracy against the number of
   trained parameters, on a log axis, for
   - adapters of bottleneck m = 1, 2, 4, 8, 16, 32, 64 (with their layer norms and head).
     Houlsby went to m = 256 at d = 1024; an adapter narrows d to m, so here m stops at
     d = 64 (the largest allowed);
   - fine-tuning only the top k of the 2 layers (k = 1, 2) and the head (the paper's
     baseline);
   - the layer norms and head only, and the head alone (a linear probe);
   - full fine-tuning (every weight).
   The score grows with the adapter size. The ringed point, m = 4 at d = 64, has
   BERT-Large's ratio m/d = 1/16 (m = 64 at d = 1024, the setting of the story's "about
   2%"): here it scores 0.812, 12.2 points below full fine-tuning's 0.934, at 2.6% of the
   parameters of the model with its adapters. Matching full fine-tuning takes m = 32
   (0.935) at 13.3%; lesson 07 explains why a tiny model pays more. Still, adapters get
   there with a fraction of the trained parameters, where fine-tuning only the top layer
   (44% of the weights) falls far short (0.724) and only all the layers (88%) get there.
   The layer norms alone (and the head alone even more) stay well below.
2. ``09_step_cost.png``: the price of a training step, full fine-tuning against adapters
   (m = 16), each relative to full fine-tuning on the same model: time (median of
   interleaved runs, ``minipeft.bench``) and memory, split into weights, gradients, Adam's
   state and the activations kept for backward (counted from the autograd graph,
   ``minipeft.bench.step_memory``). On the lesson's tiny model and on the benchmark's
   bench-small model (d 128, 4 layers, 64 tokens). Frozen weights need no gradient, no
   optimizer state and no stored input for a weight gradient, and backward stops below
   the first adapter: gradients and Adam's state shrink 12-fold on the tiny model and
   26-fold on bench-small. Activations shrink less, to 0.71 and 0.73 of full fine-tuning's
   (everything above the first adapter is still kept), and at these sizes they are most
   of the memory: the total falls to 0.65 and 0.67. Time falls to 0.66 and 0.76 (timings vary from run to
   run, most on a busy machine): the forward pass, and the backward pass through the activations, are still paid in full.
   (At BERT-Large's size the weights, gradients and Adam's state are 5.4 GB for full
   fine-tuning: lesson 06.)
3. ``09_ablation.png`` (Houlsby's Fig. 6): train adapters (m = 16), then at test time
   switch them off in a span of layers i..j (``disable_adapter(model, layers=[i, ..., j])``)
   and score again. With 2 layers the spans are layer 0, layer 1, and both: a 2 x 2 upper
   triangle. (The layer norms and head the adapter trained stay in place, as in the
   paper.) Houlsby found that removing any single layer's adapters costs little in a
   24-layer BERT; in a 2-layer model each layer's adapters carry much of the task.
4. ``09_init_scale.png``: Houlsby's initialisation, both projections ~ N(0, s^2), for
   s = 1e-12 .. 1, and s = 0 exactly. The gradient of W_down is proportional to W_up and
   vice versa: at s = 0 both stay exactly 0 for ever, and so does b_down (a saddle; the
   table's |W - W_0| by part: only b_up moves, by 1.79 in all, with the layer norms and the
   head, and the score, 0.658, is about that of the layer norms alone, 0.664). Adam
   divides every gradient by its own running size, so a small init escapes: every
   s from 1e-9 to 1e-1 trains, but to 0.827-0.889, below the default init's 0.913 (W_up
   = 0, W_down at a normal scale; one seed each, so a few points are partly noise).
   Houlsby et al. report that any s up to about 1e-2 works; here none of them matched the
   default. When the gradients sink toward Adam's epsilon (1e-8), at s = 1e-12, the
   saddle holds training back for a few hundred steps (the loss curves show the delay),
   and the score is 0.772. Too large (s = 1) and the adapter is no longer near the
   identity: at init it changes the encoder's output by 1.45 times the output's own size
   (the table's "output change at init"), the pre-trained features are scrambled, and
   training is slow and worse (0.657).

One seed per point (the table records every number); differences of a point or two
between neighbouring points are noise, the shape of the curves is not.

``--quick`` runs every cell at toy sizes in seconds (the numbers then mean nothing).
``--checkpoint PATH`` starts from another pre-trained checkpoint than the shipped one.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).

import numpy as np

from minipeft.bench.step_memory import step_memory
from minipeft.bench.steps import TrainingStep, with_adapters
from minipeft.bench.timing import median, time_interleaved_ms
from minipeft.data import load_task
from minipeft.lesson import Lesson
from minipeft.optim import AdamW
from minipeft.peft import AdapterConfig, disable_adapter, parameter_summary, task_modules
from minipeft.train import TASK_LOSSES, evaluate
from minipeft.train.loop import evaluation_mode, model_device, to_device
from minipeft.train.sweeps import choose_trainable, fit, fresh_pretrained, score, shared_task_model
from minipeft.train.transfer import add_checkpoint_argument, pretrained_model
from minipeft.viz import line_panels, moving_average
from minipeft.viz.style import ordered_colours
from minipeft.viz.tradeoffs import cost_panels, span_heatmap, tradeoff_chart

TASK = "contrast"
BAND = (0.80, 0.97)  # full fine-tuning must land in here, or the task is too easy (or too hard)


def adapter_weight_change(model, name: str, start: dict) -> dict:
    """sqrt(sum |W - W_0|^2) over every adapter module: how far training moved them.

    One number per kind of parameter ("down.weight", "down.bias", "up.weight", "up.bias"),
    summed over all adapters, and their "total".
    """
    squares = {}
    for path, adapter in task_modules(model, name):
        for pname, param in adapter.named_parameters():
            moved = float(((param.numpy().astype(np.float64) - start[f"{path}.{pname}"]) ** 2).sum())
            squares[pname] = squares.get(pname, 0.0) + moved
    squares["total"] = sum(squares.values())
    return {pname: float(np.sqrt(value)) for pname, value in squares.items()}


lesson = Lesson("09_performance_vs_cost", __doc__, add_arguments=add_checkpoint_argument).begin()

quick = lesson.quick
steps = 12 if quick else 400
lr = {"full": 1e-3, "top_layers": 1e-3, "adapter": 1e-2, "layer_norm": 1e-2, "head": 1e-2}
bottlenecks = [1, 4] if quick else [1, 2, 4, 8, 16, 32, 64]
ablation_m = 4 if quick else 16
init_stds = [0.0, 1e-12, 1e-2, 1.0] if quick else [0.0, 1e-12, 1e-9, 1e-7, 1e-4, 1e-2, 1e-1, 1.0]
init_m = 4 if quick else 16
batch_size, seed = 32, lesson.seed
sizes = dict(n_train=64, n_dev=32, n_test=64) if quick else {}

checkpoint = lesson.args.checkpoint              # None: the shipped one
base, meta, source = pretrained_model(checkpoint)  # every run starts from a new copy: fresh_pretrained(checkpoint)

task = load_task(TASK, seed=0, **sizes)
print(f"pre-trained model: {source}")
print(f"task {TASK!r}: {len(task.train)} training, {len(task.test)} test examples; e.g.")
for example in list(task.test)[:3]:
    print(f"   {' '.join(example.text_a):70s} -> {'positive' if example.label else 'negative'}")

def train(method, **choice):
    model = shared_task_model(fresh_pretrained(checkpoint), task, seed=seed)
    choose_trainable(model, method, name="task", **choice)
    run = fit(model, task, steps=steps, lr=lr[method], seed=seed, batch_size=batch_size)
    run["model"] = model
    label = method + "".join(f" {k}={v.bottleneck if k == 'adapter' else v}" for k, v in choice.items())
    print(f"  {label:22s} {run['trainable']:>8,} trainable  score {run['score']:.3f}  "
          f"({run['train_time_s']:.1f} s)", flush=True)
    return run

# %% 1. Score against trained parameters: adapter sizes, top-k layers, layer norms, head, full.
full = train("full")
in_band = BAND[0] <= full["score"] <= BAND[1]
print(f"full fine-tuning scores {full['score']:.3f}: {'inside' if in_band else 'OUTSIDE'} the band "
      f"{BAND} where methods can differ")
adapters = {m: train("adapter", adapter=AdapterConfig(bottleneck=m)) for m in bottlenecks}
layers = base.bert.config.num_layers
large_ratio_m = base.bert.config.hidden_size * 64 // 1024  # BERT-Large's bottleneck-to-width ratio, here
top = {k: train("top_layers", k=k) for k in range(1, layers + 1)}
norms = train("layer_norm")
head = train("head")

rows = ([(f"adapters m={m}", r["trainable"], 100 * r["trainable_fraction"], r["score"], r["step_ms"])
         for m, r in adapters.items()]
        + [(f"top {k} of {layers} layers + head", r["trainable"], 100 * r["trainable_fraction"], r["score"],
            r["step_ms"]) for k, r in top.items()]
        + [("layer norms + head", norms["trainable"], 100 * norms["trainable_fraction"], norms["score"],
            norms["step_ms"]),
           ("head only", head["trainable"], 100 * head["trainable_fraction"], head["score"], head["step_ms"]),
           ("full fine-tuning", full["trainable"], 100.0, full["score"], full["step_ms"])])
lesson.table(f"{TASK}: test accuracy against trained parameters ({steps} steps, seed {seed})", rows,
             headers=["method", "trained parameters", "% of model", "test accuracy", "ms/step"])
lesson.save_figure(tradeoff_chart(
    {"adapters (+ layer norms, head)": ([r["trainable"] for r in adapters.values()],
                                        [r["score"] for r in adapters.values()],
                                        [f"m={m}" for m in adapters]),
     "top k layers (+ head)": ([r["trainable"] for r in top.values()], [r["score"] for r in top.values()],
                               [f"k={k}" for k in top]),
     "layer norms + head": ([norms["trainable"]], [norms["score"]], None),
     "head only": ([head["trainable"]], [head["score"]], None),
     "full fine-tuning": ([full["trainable"]], [full["score"]], None)},
    title=f"Lesson 09: {TASK}, test accuracy against trained parameters",
    ylabel="test accuracy", hlines={f"full fine-tuning {full['score']:.3f}": full["score"],
                                    "chance 0.5": 0.5}, ylim=(0.45, 1.0),
    marks={f"m = {large_ratio_m}, d = {large_ratio_m * 16}: m/d = 1/16, BERT-Large's ratio\n"
           f"(m = 64 at d = 1024: ~2% of its parameters)":
           (adapters[large_ratio_m]["trainable"], adapters[large_ratio_m]["score"])}
    if large_ratio_m in adapters else None), "09_score_vs_params.png")

# %% 2. The cost of a step: time and memory, full fine-tuning vs adapters (m = 16).
cost_m = 16
batch = to_device(next(task.batches("train", batch_size, shuffle=True, rng=np.random.default_rng(seed))),
                  model_device(full["model"]))
loss_fn = TASK_LOSSES[task.kind]
step_models = {}
for method in ("full", "adapter"):
    model = shared_task_model(fresh_pretrained(checkpoint), task, seed=seed)
    choose_trainable(model, method, adapter=AdapterConfig(bottleneck=cost_m))
    optimizer = AdamW(model.parameters(trainable_only=True), lr=1e-5)
    step_models[method] = (model, optimizer)

def one_step(model, optimizer):
    def step():
        optimizer.zero_grad()
        loss_fn(model, batch).backward()
        optimizer.step()
    return step

repeats = 3 if quick else 40
tiny_ms = time_interleaved_ms({m: one_step(*mo) for m, mo in step_models.items()}, warmup=2,
                              repeats=repeats)
tiny_memory = {m: step_memory(mo[0], loss_fn, batch, mo[1]) for m, mo in step_models.items()}
cost = {"tiny": {m: {"step_ms": median(tiny_ms[m]), "step_ms_all": tiny_ms[m], **tiny_memory[m],
                     "trainable": parameter_summary(step_models[m][0])["trainable"]} for m in tiny_ms}}
if not quick:  # the benchmark's bigger model (d 128, 4 layers, 64 tokens): a second or two per step pair
    bench = {"full": TrainingStep("bench-small"),
             "adapter": TrainingStep("bench-small", prepare=with_adapters(cost_m))}

    def bench_loss(model, b):
        return model(b["input_ids"], labels=b["labels"])["loss"]

    bench_ms = time_interleaved_ms(dict(bench), warmup=1, repeats=7)
    bench_memory = {m: step_memory(s.model, bench_loss, s.batch, s.optimizer) for m, s in bench.items()}
    cost["bench-small"] = {m: {"step_ms": median(bench_ms[m]), "step_ms_all": bench_ms[m], **bench_memory[m],
                               "trainable": parameter_summary(bench[m].model)["trainable"]} for m in bench_ms}
cost_rows = []
for size, entry in cost.items():
    for method, c in entry.items():
        cost_rows.append((size, method, c["trainable"], c["step_ms"], c["parameters"] / 1e3,
                          c["gradients"] / 1e3, c["optimizer_state"] / 1e3, c["activations"] / 1e3,
                          c["total"] / 1e3))
    entry["adapter_vs_full_time"] = entry["adapter"]["step_ms"] / entry["full"]["step_ms"]
    entry["adapter_vs_full_memory"] = entry["adapter"]["total"] / entry["full"]["total"]
lesson.table(f"one training step, full fine-tuning vs adapters m = {cost_m} (memory in KB)", cost_rows,
             headers=["model", "method", "trained", "ms (median)", "weights", "gradients", "Adam state",
                      "activations", "total"])
parts = (("weights", "parameters"), ("gradients", "gradients"), ("Adam state (m, v)", "optimizer_state"),
         ("activations kept for backward", "activations"))
lesson.save_figure(cost_panels(
    ["tiny: d 64, 2 layers\n(contrast, batch 32)", "bench-small: d 128, 4 layers\n(batch 32 x 64 tokens)"][
        :len(cost)],
    {"full fine-tuning": [cost[s]["full"]["step_ms"] for s in cost],
     f"adapters m = {cost_m}": [cost[s]["adapter"]["step_ms"] for s in cost]},
    {method: {part: [cost[s][key_method][key] for s in cost] for part, key in parts}
     for method, key_method in (("full fine-tuning", "full"), (f"adapters m = {cost_m}", "adapter"))},
    title="Lesson 09: the cost of one training step, full fine-tuning vs adapters"), "09_step_cost.png")

# %% 3. Remove the adapters from a span of layers at test time (Houlsby's Fig. 6).
model = adapters[ablation_m]["model"] if ablation_m in adapters else train(
    "adapter", adapter=AdapterConfig(bottleneck=ablation_m))["model"]
trained_score = score(task, evaluate(model, task, "test"))
span = np.full((layers, layers), np.nan)
for i in range(layers):
    for j in range(i, layers):
        with disable_adapter(model, layers=list(range(i, j + 1))):
            span[i, j] = score(task, evaluate(model, task, "test"))
span_rows = [(f"{i}..{j}", span[i, j], trained_score - span[i, j])
             for i in range(layers) for j in range(i, layers)]
lesson.table(f"adapters m = {ablation_m} removed from layers i..j at test time (all in place: "
             f"{trained_score:.3f})", span_rows, headers=["layers without adapters", "test accuracy",
                                                           "drop"])
lesson.save_figure(span_heatmap(
    span, [str(i) for i in range(layers)], vmin=0.5,
    vmax=max(trained_score, float(np.nanmax(span)), 0.5 + 1e-9),
    title=f"Lesson 09: {TASK} accuracy with adapters\nremoved from layers i..j",
    colorbar_label="test accuracy",
    note=f"all adapters in place: {trained_score:.3f}; chance: 0.5. Layer norms and head stay trained."),
    "09_ablation.png")

# %% 4. Houlsby's initialisation at scales 1e-7 .. 1: the saddle and the instability.
sweep = {}
probe = to_device(next(task.batches("test", 128)), model_device(full["model"]))

def encoder_output(model):
    with evaluation_mode(model):
        return model.bert(probe["input_ids"], probe["segment_ids"], probe["attention_mask"]).numpy()

for std in init_stds:
    model = shared_task_model(fresh_pretrained(checkpoint), task, seed=seed)
    plain = encoder_output(model)
    choose_trainable(model, "adapter", adapter=AdapterConfig(bottleneck=init_m, up_init="normal",
                                                             down_init="normal", init_std=std))
    # how far from the identity the adapters start: relative change of the encoder's output
    init_change = float(np.linalg.norm(encoder_output(model) - plain) / np.linalg.norm(plain))
    start = {f"{path}.{pname}": p.numpy().astype(np.float64).copy()
             for path, adapter in task_modules(model, "task")
             for pname, p in adapter.named_parameters()}
    try:
        run = fit(model, task, steps=steps, lr=lr["adapter"], seed=seed, batch_size=batch_size)
        losses = run["history"].losses["loss"]
        moved = adapter_weight_change(model, "task", start)
        entry = {"score": run["score"], "final_loss": float(np.mean(losses[-25:])), "losses": losses,
                 "output_change_at_init": init_change,
                 "first_loss": float(np.mean(losses[:25])), "diverged": False,
                 "adapter_weight_change": moved["total"], "adapter_change_by_part": moved}
    except FloatingPointError as err:  # a NaN loss: training stopped
        entry = {"score": 0.5, "final_loss": None, "first_loss": None, "diverged": True,
                 "output_change_at_init": init_change,
                 "adapter_weight_change": None, "error": str(err)[:200]}
    sweep[std] = entry
    moved = entry.get("adapter_change_by_part") or {}
    print(f"  init std {std:g}: score {entry['score']:.3f}"
          + ("  (diverged)" if entry["diverged"] else "  adapters moved by |W - W_0| = "
             + ", ".join(f"{part} {value:.3g}" for part, value in moved.items())), flush=True)
default_score = adapters[init_m]["score"] if init_m in adapters else None
lesson.table(f"Houlsby's init, W_up and W_down ~ N(0, std^2), m = {init_m}, lr {lr['adapter']:g}, "
             f"{steps} steps", [(f"{std:g}", e["output_change_at_init"], e["score"], e["first_loss"],
                                 e["final_loss"], e["adapter_weight_change"], e["diverged"])
                                for std, e in sweep.items()],
             headers=["init std", "output change at init", "test accuracy", "loss, first 25 steps",
                      "loss, last 25 steps", "|W - W_0| adapters", "diverged"])
hlines = {}
if 0.0 in sweep:
    hlines[f"std = 0 exactly: {sweep[0.0]['score']:.3f} (layer norms + head alone: {norms['score']:.3f})"] = \
        sweep[0.0]["score"]
if default_score is not None:
    hlines[f"default init (W_up = 0, W_down Xavier) {default_score:.3f}"] = default_score
positive = [std for std in sweep if std > 0]
curves = {f"std {std:g}": (np.arange(1, len(e["losses"]) + 1), moving_average(e["losses"], 20))
          for std, e in sweep.items() if e.get("losses")}
scaled = [name for name in curves if name != "std 0"]  # small std dark, large std light;
curve_colours = {**dict(zip(scaled, ordered_colours(len(scaled)))), "std 0": "#888888"}  # 0: off the scale
lesson.save_figure(line_panels([
    dict(x=positive, series={"test accuracy": [sweep[s]["score"] for s in positive]}, logx=True, log=False,
         ylabel="test accuracy", xlabel="init std of W_up and W_down (log scale)",
         title=f"score after {steps} steps", hlines=hlines),
    dict(series=curves, log=False, ylabel="training loss (mean of 20 steps)", xlabel="training step",
         title="training loss", hlines={"chance: ln 2": float(np.log(2))}, colors=curve_colours,
         styles={"std 0": "dashed"})],
    title=f"Lesson 09: Houlsby's near-zero init at every scale, adapters m = {init_m} on {TASK}"),
    "09_init_scale.png")

lesson.record(
    checkpoint=source, task=TASK, steps=steps, finetune_seed=seed, lr=lr, batch_size=batch_size,
    full_finetuning_score=full["score"], band=list(BAND), full_in_band=in_band,
    bottleneck_cap_note=f"bottleneck m <= d = {base.bert.config.hidden_size}: sizes stop at "
                        f"{max(bottlenecks)} (Houlsby's 256 needs d >= 256)",
    score_vs_params={
        "adapter": {str(m): {"trainable": r["trainable"], "fraction": r["trainable_fraction"],
                             "score": r["score"], "step_ms": r["step_ms"]} for m, r in adapters.items()},
        "top_layers": {str(k): {"trainable": r["trainable"], "fraction": r["trainable_fraction"],
                                "score": r["score"], "step_ms": r["step_ms"]} for k, r in top.items()},
        "layer_norm": {"trainable": norms["trainable"], "fraction": norms["trainable_fraction"],
                       "score": norms["score"], "step_ms": norms["step_ms"]},
        "head": {"trainable": head["trainable"], "fraction": head["trainable_fraction"],
                 "score": head["score"], "step_ms": head["step_ms"]},
        "full": {"trainable": full["trainable"], "fraction": 1.0, "score": full["score"],
                 "step_ms": full["step_ms"]}},
    step_cost={"adapter_bottleneck": cost_m, **cost},
    ablation={"bottleneck": ablation_m, "all_adapters": trained_score,
              "removed": {f"{i}..{j}": float(span[i, j]) for i in range(layers) for j in range(i, layers)}},
    init_scale={"bottleneck": init_m,
                "runs": {f"{std:g}": {k: v for k, v in e.items() if k != "losses"} for std, e in sweep.items()},
                "default_init_score": default_score, "layer_norm_head_score": norms["score"]})

# %%
lesson.end()
