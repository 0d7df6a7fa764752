"""Fine-tuning, the second step of the dance: a pre-trained encoder against the same model from scratch.

Lesson 04 pre-trained a tiny BERT (d 64, 2 layers, 114k encoder parameters) on unlabelled
text of the synthetic language, with masked-LM and next-sentence prediction. Fine-tuning
is the second step: put a small new head on that encoder and train *every* weight on a
task's labelled examples (500 for sentiment and pair, 1,000 for the others). What is the
pre-trained start worth? The fair test is the same architecture, the same head, the same
data, steps and learning rate (400 steps of 32, AdamW lr 1e-3 with 10% warm-up, a recipe
under which both starts fit their training data), started from random weights instead
("from scratch"). Only the encoder's first weights differ.

The tasks are built so that pre-training *can* help, and the test says whether it did:
the labelled training sets use only some polarity adjectives ("seen"); the test sets are
half seen, half "unseen" adjectives that occur only in pre-training text. A model trained
from scratch has never met the unseen ones; a pre-trained one met them in telling
contexts ("alice loves the _ cake") and, as lesson 04's probes showed, learned their
polarity. The models are built by ``minipeft.train.transfer.task_model``; classifiers
mean-pool the encoder's output: in a model this small, [CLS] carries little until NSP is
learned (lesson 04: NSP left chance only at step 5,500 of 12,000).

What to look at (numbers of our run, seed 0; 05_results.json has every one):

1. The scores table and ``05_scores.png``. sentiment: pre-trained 100% on all 3 seeds,
   scratch 72.6% (std 3.0); pair: 97.7% against 50.0%, which is chance; contrast ("X
   but Y", the harder task, one seed): 93.4% against 68.0%. Pre-training wins by 27, 48
   and 25 points. On qa and summarization it does not win (item 4).
2. ``05_seen_unseen.png``. The whole gain is on the unseen adjectives: on sentiment the
   scratch model is perfect on seen ones and *below* chance on unseen ones (45%): it
   learned "these words are positive, everything else negative". The pre-trained model
   scores 100% on both. On pair, scratch fails even the seen half in 400 steps (agreement
   of two polarities, each possibly negated, is an XOR of XORs); starting from features
   that already encode polarity, the pre-trained model learns it: 0.92 on the seen half
   by step 200 (seed 0).
3. ``05_curves.png``: test accuracy during training (solid: unseen, dashed: seen), blue
   pre-trained, orange scratch. Both fit their training data (bottom right: the training
   losses both fall close to zero): fitting is not the difference; generalising to words
   the labels never showed is. (The classification curves are measured on the test set,
   the only one with unseen words; nothing is chosen from them: steps and learning rate
   were fixed in advance. qa and summarization draw theirs on the dev set.)
4. Where it does not help. qa (span F1 / exact match of "who ... ?" and "what does NAME
   ... ?" answers, one seed): 0.35 / 0.33 pre-trained against 0.39 / 0.37 from scratch;
   both are poor, because finding the sentence whose verb and noun match the question is
   token matching (copying a word from one place to another), which neither masked-LM
   nor this NSP task asks for, so pre-training never taught it.
   summarization (ROUGE-L F of "NAME likes|dislikes the NOUN ."; the encoder-decoder's
   encoder starts pre-trained, its decoder from scratch): 0.87 pre-trained against 1.00.
   The last two tables say why. Masked-LM training gives the nouns of one topic nearly the
   same embedding (cosine 0.975; nouns of different topics 0.52), because the language
   uses them interchangeably, so the MLM loss never needed to tell them apart. A summary
   must copy the exact noun: 222 of 500 pre-trained summaries name the wrong noun, every
   one of them from the right topic; scratch makes no such error. Names suffer the same
   way, less: they too are interchangeable in the language, so their embeddings are
   close (cosine 0.76 between names), and 95 pre-trained summaries name the wrong person
   (scratch: 0). Unlike the adjectives, every noun and name is in the labelled training
   data, so the scratch model misses nothing. Pre-training pays where the labelled data
   lacks what pre-training knows, and it can cost where a task needs a distinction
   pre-training erased.

How the encoder-decoder reuses BERT: its encoder is a BertModel without a pooler whose
weights have the same names, so every pre-trained encoder weight fits except the pooler's
two (``transfer.load_encoder`` leaves them out). The decoder layers start from scratch; the
token table is one Parameter shared by the encoder, the decoder's input and the output
projection, so it starts pre-trained for all three.

The default run took 3.4 minutes on a two-core CPU shared with other work (``run_time_s``
in 05_results.json; less on an idle machine). ``--quick`` runs every cell at toy sizes in
seconds (its numbers mean little). ``--checkpoint PATH`` starts from another pre-trained
checkpoint.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import numpy as np

import minipeft as mp
from minipeft.data import DEFAULT_LEXICON, load_task
from minipeft.lesson import Lesson
from minipeft.train import evaluate, finetune, predict
from minipeft.train.transfer import add_checkpoint_argument, pretrained_model, task_model
from minipeft.train.transfer_effects import embedding_similarity, summary_slot_errors
from minipeft.viz import line_panels, moving_average
from minipeft.viz.comparison import score_bars

# What each task is scored by on its test set (all in [0, 1]) and how it is fine-tuned:
# 400 steps, batch 32, lr 1e-3, for the pre-trained start and for scratch alike.
METRICS = {"sentiment": "accuracy", "pair": "accuracy", "contrast": "accuracy", "qa": "f1",
           "summarization": "rougeL"}
METRIC_NAMES = {"accuracy": "accuracy", "f1": "span F1", "rougeL": "ROUGE-L F"}
STARTS = ("pre-trained", "from scratch")


lesson = Lesson("05_finetuning", __doc__, add_arguments=add_checkpoint_argument).begin()

quick = lesson.quick
plan = {  # task: (training steps, seeds, evaluations during training, split the curves are drawn on)
    "sentiment": (30 if quick else 400, 2 if quick else 3, 3 if quick else 8, "test"),
    "pair": (30 if quick else 400, 2 if quick else 3, 3 if quick else 8, "test"),
    "contrast": (30 if quick else 400, 1, 3 if quick else 8, "test"),
    "qa": (30 if quick else 400, 1, 3 if quick else 8, "dev"),
    "summarization": (30 if quick else 400, 1, 2 if quick else 5, "dev"),
}
sizes = dict(n_train=200, n_dev=32, n_test=64) if quick else {}
batch_size, lr = 32, 1e-3

# %% 1. The starting point: the encoder that pre-training left (lesson 04).
pretrained, meta, source = pretrained_model(lesson.args.checkpoint)
config = pretrained.bert.config
extra = meta.get("extra") or {}
probes = extra.get("final_eval") or extra.get("probes") or {}
print(f"pre-trained model: {source}; {pretrained.bert.num_parameters():,} encoder parameters "
      f"(d {config.hidden_size}, {config.num_layers} layers)")
if probes:
    print("what it learned (held-out, lesson 04): " + ", ".join(
        f"{k} {v:.3f}" for k, v in probes.items() if isinstance(v, float)))

# %% 2. Fine-tune every task twice per seed: from the pre-trained encoder and from scratch.
# Same architecture, same head, same data, same steps and learning rate; only the
# encoder's starting weights differ. The classification curves are drawn on the test set,
# because only it holds unseen adjectives; nothing (steps, learning rate) is chosen from
# them. qa and summarization draw theirs on the dev set.
runs = {}  # (task, start) -> list of {"test": metrics, "history": History, "model": last model}
tasks = {}
for name, (steps, seeds, n_evals, curve_split) in plan.items():
    task = tasks[name] = load_task(name, seed=lesson.seed, **sizes)
    print(f"\n{name}: {task.description} ({len(task.train)} training examples, {steps} steps x {batch_size})")
    for k in range(seeds):
        seed = lesson.seed + k
        for start in STARTS:
            mp.manual_seed(seed)  # the same head (and, from scratch, encoder) for both starts
            model = task_model(task, pretrained if start == "pre-trained" else None, config=config)
            history = finetune(model, task, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                               eval_every=max(1, steps // n_evals), eval_split=curve_split, quiet=True)
            test = evaluate(model, task, "test")
            runs.setdefault((name, start), []).append({"test": test, "history": history, "model": model})
            shown = "  ".join(f"{m} {v:.3f}" for m, v in test.items() if m != "loss")
            print(f"  seed {seed}  {start:<12}  {shown}  ({history.total_time_s:.1f} s, "
                  f"{1e3 * history.time_s[-1] / steps:.1f} ms/step)", flush=True)

def scores(name, start, metric=None):
    return np.array([run["test"][metric or METRICS[name]] for run in runs[(name, start)]])

# %% 3. The scores: mean (and spread) over seeds, pre-trained against scratch.
rows, pretrained_vs_scratch, details = [], {}, {}
for name in plan:
    a, b = scores(name, "pre-trained"), scores(name, "from scratch")
    pretrained_vs_scratch[name] = {"pretrained": float(a.mean()), "scratch": float(b.mean())}
    details[name] = {"metric": METRICS[name], "seeds": len(a), "steps": plan[name][0],
                     "pretrained_by_seed": a, "scratch_by_seed": b,
                     "pretrained_std": float(a.std()), "scratch_std": float(b.std()),
                     "gain_points": float(100 * (a.mean() - b.mean()))}
    rows.append((name, METRIC_NAMES[METRICS[name]], len(a), float(a.mean()), float(a.std()),
                 float(b.mean()), float(b.std()), float(100 * (a.mean() - b.mean()))))
lesson.table("test scores after fine-tuning (mean and std over seeds)", rows,
             headers=["task", "metric", "seeds", "pre-trained", "std", "scratch", "std",
                      "gain (points)"])
lesson.table("qa and summarization, every metric (one seed)",
             [(name, start, *(float(scores(name, start, m).mean()) if m in runs[(name, start)][0]["test"]
                              else "-" for m in ("exact_match", "f1", "rouge1", "rougeL")))
              for name in ("qa", "summarization") for start in STARTS],
             headers=["task", "start", "exact match", "span F1", "ROUGE-1 F", "ROUGE-L F"])
secondary = {name: {f"{s}_{m}": float(scores(name, s, m).mean()) for s in ("pre-trained", "from scratch")
                    for m in metrics}
             for name, metrics in (("qa", ("exact_match", "f1")), ("summarization", ("rouge1", "rougeL",
                                                                                     "exact_match")))}

# %% 4. Where the gain comes from: adjectives the labelled data never showed.
classification = [name for name in plan if tasks[name].kind == "classification"]
split_rows, seen_unseen = [], {}
for name in classification:
    seen_unseen[name] = {}
    for start in STARTS:
        seen, unseen = scores(name, start, "accuracy_seen"), scores(name, start, "accuracy_unseen")
        seen_unseen[name][start] = {"seen": float(seen.mean()), "unseen": float(unseen.mean()),
                                    "seen_std": float(seen.std()), "unseen_std": float(unseen.std())}
        split_rows.append((name, start, float(seen.mean()), float(unseen.mean())))
lesson.table("test accuracy on seen adjectives (in the labelled training set) and unseen ones "
             "(only in pre-training text)", split_rows,
             headers=["task", "start", "seen", "unseen"])

# A few unseen-adjective test sentences: what each model (first seed) answers.
task = tasks["sentiment"]
unseen_index = np.flatnonzero(~task.test.seen)
answers = {start: predict(runs[("sentiment", start)][0]["model"], task, "test") for start in STARTS}
examples = []
for i in unseen_index[:6]:
    example = task.test[i]
    examples.append((" ".join(example.text_a), task.label_names[example.label],
                     task.label_names[answers["pre-trained"][i]], task.label_names[answers["from scratch"][i]]))
lesson.table("sentiment test sentences with unseen adjectives (first seed)", examples,
             headers=["sentence", "label", "pre-trained says", "scratch says"])

# What the pre-trained qa and summarization models produce (first seed).
qa_task, summary_task = tasks["qa"], tasks["summarization"]
spans = predict(runs[("qa", "pre-trained")][0]["model"], qa_task, "test")
qa_rows = []
for i in range(4):
    example, batch = qa_task.test[i], qa_task.collate([qa_task.test[i]])
    s, e = spans[i]
    qa_rows.append((" ".join(example.question), " ".join(example.answer),
                    qa_task.tokenizer.decode(batch["input_ids"][0][s:e + 1])))
lesson.table("qa: questions, gold answers and the pre-trained model's spans", qa_rows,
             headers=["question", "gold", "predicted"])
summaries = {start: predict(runs[("summarization", start)][0]["model"], summary_task, "test")
             for start in STARTS}
summary_rows = [(" ".join(summary_task.test[i].summary),
                 *(summary_task.tokenizer.decode(summaries[s][i], skip_special_tokens=True) for s in STARTS))
                for i in range(4)]
lesson.table("summarization: reference and generated summaries", summary_rows,
             headers=["reference", "pre-trained", "scratch"])

# %% 5. Where pre-training costs: words the language treats as interchangeable.
# Nouns of one topic occur in the same contexts, so masked-LM training gives them nearly
# the same embedding. A summary must copy the exact noun: the pre-trained model has to
# pull them apart again, and in 400 steps it has not finished.
lexicon = DEFAULT_LEXICON  # the words every task here is made of
table = pretrained.bert.embeddings.token.weight.numpy()
similarity = embedding_similarity(table, summary_task.tokenizer, lexicon)
lesson.table("pre-trained token embeddings: mean cosine similarity within word groups",
             [(group, value) for group, value in similarity.items()], headers=["pair of words", "cosine"])
summary_errors = {start: summary_slot_errors(summary_task, summaries[start], lexicon) for start in STARTS}
lesson.table(f"summarization test errors by slot (of {len(summary_task.test)} summaries)",
             [(start, *errors.values()) for start, errors in summary_errors.items()],
             headers=["start", *next(iter(summary_errors.values()))])

# %% 6. Did pre-training pay? The claim of the issue, checked on the numbers above.
claims = {name: details[name]["gain_points"] > 5.0 for name in ("sentiment", "pair")}
for name, holds in claims.items():
    print(f"claim: on {name}, pre-training beats scratch by > 5 points (mean of {details[name]['seeds']} "
          f"seeds): {details[name]['gain_points']:+.1f} points -> {'holds' if holds else 'DOES NOT HOLD'}")

# %% 7. Figures: learning curves, scores, seen / unseen.
colors = {"pre-trained": "#0072B2", "from scratch": "#E69F00"}

def mean_curve(name, start, metric):
    histories = [run["history"] for run in runs[(name, start)]]
    steps = histories[0].metric(metric)[0]
    return steps, np.mean([h.metric(metric)[1] for h in histories], axis=0)

panels = []
for name in plan:
    series, styles, line_colors = {}, {}, {}
    parts = (("unseen", "accuracy_unseen"), ("seen", "accuracy_seen")) if name in classification \
        else ((None, METRICS[name]),)
    for start in STARTS:
        for part, metric in parts:
            label = f"{start}" + (f", {part}" if part else "")
            series[label] = mean_curve(name, start, metric)
            styles[label] = "dashed" if part == "seen" else "solid"
            line_colors[label] = colors[start]
    seeds = plan[name][1]
    panels.append(dict(series=series, styles=styles, colors=line_colors, log=False, xlabel="step",
                       ylabel=f"{plan[name][3]} {METRIC_NAMES[METRICS[name]]}" + (
                           " (seen / unseen adj.)" if name in classification else ""),
                       title=f"{name} ({f'mean of {seeds} seeds' if seeds > 1 else 'one seed'})"))
loss = {start: np.mean([run["history"].losses["loss"] for run in runs[("sentiment", start)]], axis=0)
        for start in STARTS}
window = max(1, len(loss["pre-trained"]) // 25)
panels.append(dict(x=np.arange(1, len(loss["pre-trained"]) + 1), log=True, xlabel="step",
                   series={s: moving_average(v, window) for s, v in loss.items()},
                   colors=colors, ylabel="training loss (log)",
                   title=f"sentiment training loss (mean of {window} steps)"))
lesson.save_figure(line_panels(panels, "Lesson 05: fine-tuning from the pre-trained encoder vs from "
                               "scratch (blue: pre-trained, orange: scratch)", ncols=3),
                   "05_curves.png")

labels = [f"{name}\n({METRIC_NAMES[METRICS[name]]})" for name in plan]
lesson.save_figure(score_bars(
    labels, {s: [np.mean(scores(n, s)) for n in plan] for s in STARTS},
    errors={s: [np.std(scores(n, s)) if plan[n][1] > 1 else np.nan for n in plan] for s in STARTS},
    ylabel="test score (error bar: std over seeds)", ylim=(0, 1.1),
    hlines={"chance for the classification tasks": 0.5},
    title="Lesson 05: pre-training pays where the labelled data is missing something"), "05_scores.png")

split_labels = [f"{name}\n{part} adj." for name in classification for part in ("seen", "unseen")]
lesson.save_figure(score_bars(
    split_labels,
    {s: [seen_unseen[n][s][p] for n in classification for p in ("seen", "unseen")] for s in STARTS},
    errors={s: [seen_unseen[n][s][f"{p}_std"] if plan[n][1] > 1 else np.nan
                for n in classification for p in ("seen", "unseen")] for s in STARTS},
    ylabel="test accuracy", ylim=(0, 1.1), hlines={"chance": 0.5},
    title="Lesson 05: adjectives seen in training vs only in pre-training text"), "05_seen_unseen.png")

lesson.record(
    pretrained_vs_scratch=pretrained_vs_scratch,
    pretrained_vs_scratch_details=details,
    metrics={name: METRICS[name] for name in plan},
    qa_and_summarization_all_metrics=secondary,
    seen_unseen=seen_unseen,
    claim_pretraining_beats_scratch_by_5_points=claims,
    checkpoint=source,
    steps={name: p[0] for name, p in plan.items()},
    seeds={name: p[1] for name, p in plan.items()},
    batch_size=batch_size, learning_rate=lr,
    train_examples={name: len(t.train) for name, t in tasks.items()},
    test_examples={name: len(t.test) for name, t in tasks.items()},
    ms_per_step={f"{name} {start}": float(np.mean([1e3 * r["history"].time_s[-1] / plan[name][0]
                                                   for r in runs[(name, start)]]))
                 for name, start in runs},
    curves={f"{name} {start}": {m: list(mean_curve(name, start, m)[1])
                                for m in ([METRICS[name]] if name not in classification
                                          else ["accuracy_seen", "accuracy_unseen"])}
            for name, start in runs},
    curve_steps={name: runs[(name, "pre-trained")][0]["history"].metric(METRICS[name])[0] for name in plan},
    token_embedding_cosine=similarity,
    summarization_errors=summary_errors,
    unseen_examples=[list(r) for r in examples],
    qa_examples=[list(r) for r in qa_rows],
    summary_examples=[list(r) for r in summary_rows],
)

# %%
lesson.end()
