"""The savings, counted from shapes: BERT-Large's 335M parameters against an adapter's 6.3M.

The story this course tells ends with a savings table ("Savings Example: BERT Large (345M params)"):

    Fine-Tuning Method   Trainable Params   % of Total
    Full Fine-Tuning     345M               100%
    PEFT (Adapters)      ~6.34M             1.8%

Houlsby et al. (2019), who introduced adapters, put it this way: "On GLUE, we attain
within 0.4% of the performance of full fine-tuning, adding only 3.6% parameters per
task. By contrast, fine-tuning trains 100% of the parameters per task." Their Table 1
gives the storage side: for the 9 GLUE tasks, full fine-tuning needs 9x the parameters
of one BERT-Large; adapters need about 1.3x (sizes 8-256 chosen per task, 3.6% per
task) or 1.2x (size 64 everywhere, 2.1% per task).

This lesson checks those numbers without training anything and without building
BERT-Large. A parameter count depends only on the shapes: a Linear d -> m holds
d x m + m numbers whatever they are. ``count_parameters(BertConfig.preset("large"))``
adds the shapes up in microseconds; building the model to count it would allocate
335M float32 numbers, 1.34 GB, for nothing.

An adapter (Houlsby et al., 2019) is h + W_up f(W_down h + b_down) + b_up with W_down
d x m and W_up m x d: 2md + d + m parameters. Two per layer, 24 layers, d = 1024, m = 64:
48 x 132,160 = 6,343,680, the table's "~6.34M". The adapter also trains its own copies
of the layer norms (2 per layer x (gamma + beta) x 1024 x 24 = 98,304) and a task head
(d x labels + labels: 2,050 for 2 labels). The lesson says each time which it includes.

What to look at, cell by cell:

1. The savings table from shapes, BERT-Large and BERT-Base. The denominator matters:
   BertModel (embeddings, 24 layers, pooler) has 335,141,888 parameters, so the adapter
   modules are 1.89% of it. The table's "1.8%" divides by its rounded 345M (1.84%); the
   BERT paper itself says 340M. With the layer norms and head, an adapter trains 1.92%.
   ``print_trainable_parameters`` states a third denominator, the model *with* its
   adapter modules (341.5M): an adapter's 6,444,034 trainable parameters (modules, layer
   norms, head) are 1.92% of the model as it was and 1.89% of the model with adapters.
2. The formula against real modules: a "tiny" and a "small" BERT classifier are built,
   ``add_adapter`` plugs in m = 16 adapters, and the adapter tensors found by
   ``named_parameters`` are counted: the same number as 2 x layers x (2md + d + m), and
   ``count_parameters`` equals the built BertModel's count. That is why cell 1 may trust
   the formula for a model it never builds.
3. Storage against the number of tasks. Full fine-tuning stores a whole model per task:
   N x 1.34 GB. Adapters store one shared BERT-Large plus p = 1.92% of it per task:
   1 + N x p copies: 9x against 1.17x for Houlsby's 9 GLUE tasks. His own per-task
   fractions give his multiples the same way: 1 + 9 x 2.1% = 1.19 (his 1.2x) and
   1 + 9 x 3.6% = 1.32 (his 1.3x). Our 1.92% for m = 64 is a little below his 2.1%; the
   shapes do not tell us what else his count includes. ``08_storage.png`` plots storage
   for N = 1..20, full fine-tuning against adapters of size 8, 64 and 256.
   ``08_parameters.png``: trainable parameters per task on a log axis, with the
   percentage of both denominators on each bar.
4. Real bytes: a small model's full checkpoint (``save_checkpoint``) against its
   adapter file (``save_adapter``). Files carry a little overhead per array and a JSON
   description, so a very small adapter file is a larger fraction than its parameters.

Nothing here trains; the lesson runs in seconds, and ``--quick`` is the same lesson.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import tempfile
from pathlib import Path

import numpy as np

import minipeft as mp
from minipeft.lesson import Lesson
from minipeft.nn import BertConfig, BertForSequenceClassification
from minipeft.nn.bert import count_parameters, parameter_breakdown
from minipeft.peft import (AdapterConfig, BitFitConfig, IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig,
                           adapter_budget, adapter_parameter_count, add_adapter, parameter_summary, peft_budget,
                           print_trainable_parameters, save_adapter, storage_for_tasks)
from minipeft.train.checkpoint import save_checkpoint
from minipeft.viz import bar_chart, line_chart
from minipeft.viz.style import PALETTE, TEXT_SIZE

SEED_TOTAL = 345_000_000     # the savings table's "BERT Large (345M params)"
BYTES_PER_PARAMETER = 4      # float32
GLUE_TASKS = 9               # Houlsby's GLUE experiments
NUM_LABELS = 2               # a 2-label classification head: d x 2 + 2 parameters


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole


def gb(parameters: int) -> float:
    """float32 storage in GB (10^9 bytes)."""
    return parameters * BYTES_PER_PARAMETER / 1e9


lesson = Lesson("08_savings", __doc__).begin()

# %% 1. The savings table, from the shapes alone (no model is built).
tables = {}
for preset in ("large", "base"):
    config = BertConfig.preset(preset)
    d, layers = config.hidden_size, config.num_layers
    base = count_parameters(config)  # BertModel: embeddings, layers, layer norms, pooler
    modules = adapter_parameter_count(d, 64, layers)
    with_norms = adapter_budget(config, AdapterConfig(bottleneck=64, train_layer_norms="layers"))
    with_head = adapter_budget(config, AdapterConfig(bottleneck=64, train_layer_norms="layers"),
                               num_labels=NUM_LABELS)
    every_norm = adapter_budget(config, AdapterConfig(bottleneck=64, train_layer_norms=True),
                                num_labels=NUM_LABELS)
    rows = [
        ("full fine-tuning: BertModel (embeddings, layers, pooler)", base),
        (f"adapters m = 64: {2 * layers} x (2md + d + m) = {2 * layers} x {2 * 64 * d + d + 64:,}", modules),
        (f"  + layer norms in the layers ({layers} x 2 x 2 x {d} = {with_norms['layer_norms']:,})",
         with_norms["trainable"]),
        (f"  + a {NUM_LABELS}-label head ({d} x {NUM_LABELS} + {NUM_LABELS} = {with_head['head']:,})",
         with_head["trainable"]),
        (f"  + the embeddings' layer norm (2 x {d}; train_layer_norms=True)", every_norm["trainable"]),
    ]
    table = [{"what": what, "parameters": n, "pct_of_base": pct(n, base),
              **({"pct_of_seed_345M": pct(n, SEED_TOTAL)} if preset == "large" else {})}
             for what, n in rows]
    tables[preset] = {"config": preset, "hidden_size": d, "num_layers": layers, "bottleneck": 64,
                      "base_parameters": base, "breakdown": parameter_breakdown(config),
                      "adapter_modules": modules, "layer_norms": with_norms["layer_norms"],
                      "head": with_head["head"], "rows": table}
    headers = ["what is counted", "parameters", f"% of {base:,} (shapes)"]
    if preset == "large":
        headers.append("% of 345M (the table)")
    lesson.table(f"BERT-{preset.capitalize()} (d = {d}, {layers} layers): trainable parameters per task, "
                 f"counted from shapes",
                 [tuple(r.values())[:len(headers)] for r in table], headers=headers)

large = tables["large"]
base_large = large["base_parameters"]
print(f"BERT-Large in float32: {base_large:,} x 4 bytes = {gb(base_large):.2f} GB, never allocated here.")
print(f"The table's 1.8%: {large['adapter_modules']:,} / 345,000,000 = "
      f"{pct(large['adapter_modules'], SEED_TOTAL):.2f}%; divided by the count from shapes, "
      f"{base_large:,}: {pct(large['adapter_modules'], base_large):.2f}%.")
# print_trainable_parameters' two denominators, for a 2-label BERT-Large classifier with this adapter:
# the whole model including the adapter modules, and the model as it was (BertModel + head).
whole = base_large + large["head"] + large["adapter_modules"]
one_task = large["rows"][3]["parameters"]  # adapters + layer norms + head
base_with_head = whole - large["adapter_modules"]
library_view = {"trainable": one_task, "total_with_adapters": whole, "base_with_head": base_with_head,
                "pct_of_total_with_adapters": pct(one_task, whole),
                "pct_of_base_with_head": pct(one_task, base_with_head)}
print(f"print_trainable_parameters would say: trainable {one_task:,} of {whole:,} "
      f"({library_view['pct_of_total_with_adapters']:.2f}%, the model with its adapters); of the base "
      f"model alone ({library_view['base_with_head']:,}): {library_view['pct_of_base_with_head']:.2f}%.")

# Houlsby's range of bottlenecks (8-256), BERT-Large
bottlenecks = [8, 16, 64, 256]
by_bottleneck = {}
for m in bottlenecks:
    budget = adapter_budget(BertConfig.preset("large"), AdapterConfig(bottleneck=m, train_layer_norms="layers"),
                            num_labels=NUM_LABELS)
    by_bottleneck[m] = {"adapter_modules": budget["adapters"], "per_task": budget["trainable"],
                        "pct_modules_of_base": pct(budget["adapters"], base_large),
                        "pct_modules_of_seed_345M": pct(budget["adapters"], SEED_TOTAL),
                        "pct_per_task_of_base": pct(budget["trainable"], base_large),
                        "file_MB_float32": budget["trainable"] * BYTES_PER_PARAMETER / 1e6}
lesson.table("BERT-Large adapters by bottleneck m (per task = modules + layer norms + 2-label head)",
             [(m, r["adapter_modules"], r["pct_modules_of_base"], r["pct_modules_of_seed_345M"],
               r["per_task"], r["pct_per_task_of_base"], r["file_MB_float32"])
              for m, r in by_bottleneck.items()],
             headers=["m", "adapter modules", "% of 335.1M", "% of 345M", "per task", "% of 335.1M",
                      "MB (float32)"])

# The other PEFT methods (lesson 11 trains them all), BERT-Large, counted the same way
other_methods = {"adapters m = 64 (above)": AdapterConfig(bottleneck=64),
                 "LoRA r = 8 on query and value": LoraConfig(r=8),
                 "BitFit (every bias)": BitFitConfig(),
                 "prompt tuning P = 20": PromptTuningConfig(num_virtual_tokens=20),
                 "prefix tuning P = 10": PrefixTuningConfig(num_virtual_tokens=10),
                 "(IA)^3 (keys, values, FF activation)": IA3Config()}
by_method = {}
for label, method in other_methods.items():
    budget = peft_budget(BertConfig.preset("large"), method, num_labels=NUM_LABELS)
    by_method[label] = {"new_modules": budget["adapters"], "own_weights": budget["slots"] + budget["layer_norms"],
                        "per_task": budget["trainable"], "pct_per_task_of_base": pct(budget["trainable"], base_large)}
lesson.table("BERT-Large, one task per method (per task = new modules + weights of the model it trains + "
             "2-label head)",
             [(label, r["new_modules"], r["own_weights"], r["per_task"], r["pct_per_task_of_base"])
              for label, r in by_method.items()],
             headers=["method", "new modules", "own copies", "per task", "% of 335.1M"])

# %% 2. Is the formula right? Build real (small) models and count the adapter tensors they hold.
checks = {}
for preset in ("tiny", "small"):
    config = BertConfig.preset(preset)
    mp.manual_seed(lesson.seed)
    model = BertForSequenceClassification(config, num_labels=NUM_LABELS)
    built_base = model.bert.num_parameters()
    adapter = AdapterConfig(bottleneck=16)  # default: layer norms inside the layers, and the head
    add_adapter(model, "task", adapter)
    in_modules = sum(p.size for name, p in model.named_parameters() if ".adapters.task." in name)
    formula = adapter_parameter_count(config.hidden_size, 16, config.num_layers)
    budget = adapter_budget(config, adapter, num_labels=NUM_LABELS)
    summary = parameter_summary(model)
    print(f"BERT-{preset}: ", end="")
    print_trainable_parameters(model)
    checks[preset] = {"hidden_size": config.hidden_size, "num_layers": config.num_layers, "bottleneck": 16,
                      "adapter_params_formula": formula, "adapter_params_modules": in_modules,
                      "trainable_from_shapes": budget["trainable"], "trainable_in_model": summary["trainable"],
                      "base_from_shapes": count_parameters(config), "base_built": built_base}
lesson.table("the formula vs the built modules (m = 16; trainable = adapters + layer norms + head)",
             [(p, c["adapter_params_formula"], c["adapter_params_modules"], c["trainable_from_shapes"],
               c["trainable_in_model"], c["base_from_shapes"], c["base_built"]) for p, c in checks.items()],
             headers=["preset", "2L(2md+d+m)", "in named_parameters", "trainable (shapes)",
                      "trainable (model)", "count_parameters", "BertModel built"])
formula_matches = all(c["adapter_params_formula"] == c["adapter_params_modules"]
                      and c["trainable_from_shapes"] == c["trainable_in_model"]
                      and c["base_from_shapes"] == c["base_built"] for c in checks.values())
print(f"formula matches the modules: {formula_matches}")
if not formula_matches:
    raise RuntimeError(f"the shape counts disagree with the built models: {checks}")

# %% 3. Storage against the number of tasks: N whole models, or one model + N adapters.
head = large["head"]
tasks = np.arange(1, 21)
full_per_task = base_large + head
storage = {"full fine-tuning (a whole model per task)":
           [gb(storage_for_tasks(int(n), base_large, 0, full_per_task)["full"]) for n in tasks]}
for m in (256, 64, 8):
    per_task = by_bottleneck[m]["per_task"]
    storage[f"adapters m = {m} (1 base + {by_bottleneck[m]['pct_per_task_of_base']:.2f}% per task)"] = \
        [gb(storage_for_tasks(int(n), base_large, per_task)["adapters"]) for n in tasks]
glue = {m: storage_for_tasks(GLUE_TASKS, base_large, by_bottleneck[m]["per_task"], full_per_task)
        for m in bottlenecks}
ratio_9 = {"full": glue[64]["full_multiple"], "adapters": glue[64]["adapters_multiple"]}
houlsby = {f"{p:.1%} per task": round(1 + GLUE_TASKS * p, 4) for p in (0.036, 0.021)}  # his 1.3x and 1.2x
lesson.table(f"storing {GLUE_TASKS} GLUE tasks on BERT-Large (float32; x = copies of one fine-tuned "
             f"BERT-Large with its head, {gb(full_per_task):.2f} GB)",
             [("full fine-tuning", full_per_task, glue[64]["full"], gb(glue[64]["full"]),
               glue[64]["full_multiple"])]
             + [(f"adapters m = {m}", by_bottleneck[m]["per_task"], glue[m]["adapters"],
                 gb(glue[m]["adapters"]), glue[m]["adapters_multiple"]) for m in bottlenecks],
             headers=["method", "stored per task", "total parameters", "GB", "x one model"])
print("Houlsby's Table 1 reports 1.3x (3.6% per task) and 1.2x (2.1% per task); 1 + 9 x p gives "
      + " and ".join(f"{v:.2f}x ({k})" for k, v in houlsby.items()) + ".")

colors = dict(zip(storage, [PALETTE[3], PALETTE[1], PALETTE[0], PALETTE[2]]))  # full, m = 256, 64, 8
fig = line_chart(tasks, storage, ylabel="total storage (GB, float32)", log=False, colors=colors,
                 xlabel="number of tasks N",
                 title="Lesson 08: storing N fine-tuned BERT-Large models vs one base + N adapters",
                 figsize=(7.6, 4.6))
ax = fig.axes[0]
ax.axvline(GLUE_TASKS, color="#666666", linewidth=1.0, linestyle=":", zorder=1)
ax.annotate(f"{GLUE_TASKS} GLUE tasks", (GLUE_TASKS, 17.0), xytext=(4, 0), textcoords="offset points",
            ha="left", va="center", fontsize=TEXT_SIZE + 1, color="#444444")
full_9 = gb(glue[64]["full"])
adapters_9 = gb(glue[64]["adapters"])
ax.annotate(f"full: 9 x {gb(full_per_task):.2f} GB = {full_9:.1f} GB  ({ratio_9['full']:.1f}x)",
            (GLUE_TASKS, full_9), xytext=(-12, 8), textcoords="offset points", ha="right",
            fontsize=TEXT_SIZE + 1, color=PALETTE[3],
            arrowprops=dict(arrowstyle="->", color=PALETTE[3], lw=0.8))
ax.annotate(f"adapters m = 64: {gb(base_large):.2f} + 9 x {gb(by_bottleneck[64]['per_task']):.3f} GB\n"
            f"= {adapters_9:.2f} GB  ({ratio_9['adapters']:.2f}x)",
            (GLUE_TASKS, adapters_9), xytext=(11.0, 7.0), textcoords="data", ha="left", va="center",
            fontsize=TEXT_SIZE + 1, color=PALETTE[0],
            arrowprops=dict(arrowstyle="->", color=PALETTE[0], lw=0.8))
ax.legend(fontsize=TEXT_SIZE + 1, loc="upper left", frameon=True, framealpha=1.0, edgecolor="none")
ax.set_xticks([1, 5, 9, 10, 15, 20])
ax.set_ylim(0, None)
one_model = gb(full_per_task)
copies = ax.secondary_yaxis("right", functions=(lambda g: g / one_model, lambda x: x * one_model))
copies.set_ylabel("copies of one fine-tuned BERT-Large (x)", fontsize=10)
copies.tick_params(labelsize=9)
fig.tight_layout()
lesson.save_figure(fig, "08_storage.png")

labels = ["full fine-tuning"] + [f"adapters m = {m}" for m in (256, 64, 8)]
values = [base_large] + [by_bottleneck[m]["adapter_modules"] for m in (256, 64, 8)]
fig = bar_chart(labels, values, ylabel="trainable parameters per task", log=True, annotate=False,
                colors=[PALETTE[3], PALETTE[1], PALETTE[0], PALETTE[2]], figsize=(7.6, 4.8),
                title="Lesson 08: BERT-Large, trainable parameters per task (counted from shapes)")
ax = fig.axes[0]
for i, n in enumerate(values):
    text = (f"{n / 1e6:.1f}M\n100% of 335.1M\n{pct(n, SEED_TOTAL):.1f}% of 345M" if i == 0 else
            f"{n / 1e6:.2f}M\n{pct(n, base_large):.2f}% of 335.1M\n{pct(n, SEED_TOTAL):.2f}% of 345M")
    ax.annotate(text, (i, n), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                fontsize=TEXT_SIZE + 1)
ax.set_ylim(3e5, 3e10)
fig.text(0.5, -0.02, "bars: BertModel (335,141,888, the denominator counted from shapes) and the adapter "
         "modules alone, 2 per layer x 24 layers;\nthe savings table divides by 345M. Each adapter also trains "
         f"its layer norms (98,304) and a 2-label head (2,050): m = 64 then trains "
         f"{pct(by_bottleneck[64]['per_task'], base_large):.2f}% of 335.1M.",
         ha="center", va="top", fontsize=TEXT_SIZE + 1, color="#444444")
lesson.save_figure(fig, "08_parameters.png")

# %% 4. Real bytes on disk: a small model's full checkpoint vs its adapter file.
config = BertConfig.preset("small")
mp.manual_seed(lesson.seed)
model = BertForSequenceClassification(config, num_labels=NUM_LABELS)
with tempfile.TemporaryDirectory() as tmp:
    full_bytes = save_checkpoint(model, Path(tmp) / "full.npz")  # what full fine-tuning stores per task
    full_params = model.num_parameters()
    add_adapter(model, "task", AdapterConfig(bottleneck=16))
    adapter_bytes = save_adapter(model, "task", Path(tmp) / "task.npz")
    adapter_params = parameter_summary(model)["trainable"]
files = {"model": "small", "bottleneck": 16, "full_checkpoint_bytes": full_bytes,
         "full_parameters": full_params, "adapter_file_bytes": adapter_bytes,
         "adapter_parameters": adapter_params, "bytes_ratio": adapter_bytes / full_bytes,
         "parameter_ratio": adapter_params / full_params}
lesson.table("BERT-small (d 128, 4 layers) on disk: full checkpoint vs adapter file (m = 16)",
             [("full checkpoint (save_checkpoint)", full_params, full_bytes, full_bytes / full_params),
              ("adapter file (save_adapter)", adapter_params, adapter_bytes, adapter_bytes / adapter_params)],
             headers=["file", "parameters", "bytes", "bytes per parameter"])
print(f"adapter file / full checkpoint: {100 * files['bytes_ratio']:.2f}% of the bytes "
      f"({100 * files['parameter_ratio']:.2f}% of the parameters; the rest is per-array overhead and JSON)")
print(f"BERT-Large, m = 64, by the same arithmetic: {by_bottleneck[64]['file_MB_float32']:.1f} MB per task "
      f"against {gb(full_per_task) * 1e3:,.0f} MB for a fully fine-tuned copy.")

lesson.record(
    bert_large_table=large,
    bert_base_table=tables["base"],
    seed_total_parameters=SEED_TOTAL,
    large_adapter_pct_of_shapes=pct(large["adapter_modules"], base_large),
    large_adapter_pct_of_seed_345M=pct(large["adapter_modules"], SEED_TOTAL),
    large_per_task_pct_of_shapes=pct(by_bottleneck[64]["per_task"], base_large),
    large_full_float32_gb=gb(base_large),
    large_print_trainable_parameters=library_view,
    large_by_bottleneck=by_bottleneck,
    large_by_method=by_method,
    formula_matches_modules=formula_matches,
    formula_checks=checks,
    tasks=tasks,
    storage_gb=storage,
    storage_ratio_9_tasks=ratio_9,
    storage_9_tasks_by_bottleneck={m: g["adapters_multiple"] for m, g in glue.items()},
    houlsby_storage_multiples=houlsby,
    small_files=files,
)

# %%
lesson.end()
