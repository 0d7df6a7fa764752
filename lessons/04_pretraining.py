"""Pre-training: BERT teaches itself a language by masked LM and next-sentence prediction.

Transfer learning is a two-step dance. Step one, pre-training, needs no labels at all:
the model reads plenty of plain text and sets itself two exercises. Step two,
fine-tuning (lesson 05), teaches the pre-trained model a task from a few hundred
labelled examples. This lesson is step one, on the synthetic English of
``minipeft.data`` (8 names, 4 topics, adjectives of either polarity, negation, "but"),
with the tiny BERT (d 64, 2 layers, 4 heads, 118,163 parameters).

- **Masked language modelling (MLM).** A quarter of the words are chosen (80% of them
  replaced by [MASK], 10% by a random word, 10% left alone) and the model must restore
  them from both sides: "alice loves the [MASK] cake ." To do well it must learn word
  classes, topics and, eventually, which adjectives are nice and what "not" does.
- **Next-sentence prediction (NSP).** The input is two sentences, ``[CLS] A [SEP] B
  [SEP]``; half the time B really follows A in its document, otherwise it comes from
  another document. The [CLS] position must tell which. A document keeps one topic and
  one mood, so an off-topic or off-mood B gives the game away.

The loss is the sum of the two. Each step draws 64 fresh sentence pairs and fresh masks.

Why MLM accuracy is a poor gauge. Most masked words can be placed by their *kind*
("the [MASK] cake": an adjective; "alice [MASK] the": a verb), and within a kind the
model can only guess, so MLM accuracy reaches 0.55 by step 500, from syntax alone, and
then hardly moves: it ends near 0.62 although, in between, the model learned what
every adjective means. (When it learns that "loves the [MASK]" wants a positive
adjective, it still cannot know *which* of the 8: the best it can do is 1/8 each.) So
we probe instead (``polarity_probe_fn``): in a telling context, "alice loves the [MASK]
cake ." or "alice hates the cake because it is not [MASK] .", what share of the
probability the model gives to adjectives goes to those of the right polarity? 0.5 is
chance. "Unseen" adjectives (superb, wonderful, pleasant, brilliant; terrible,
horrible, dreadful, boring) never appear in the labelled training sets of lesson 05:
whatever the model knows about them it learned here, and that is what transfer carries.

The plateau. Before step 2,000 of the shipped run every probe sat at 0.50 while the losses
looked settled: the model had the grammar and nothing of the meaning. Then, between two
evaluations 250 steps apart, the polarity probes jumped: above 0.6 at step 2,000, above
0.9 at step 2,250. NSP passed 0.6 only at step 5,500, and negation at step 8,750, passing
0.9 at step 9,750. Where a run leaves its plateau is erratic (it moves with the random
seed, the number of steps, even the thread count); in trial runs of 6,000 and 8,000 steps
negation had not been learned. So the recipe runs 12,000 steps: 10 minutes on this
two-core CPU with ``OPENBLAS_NUM_THREADS=1`` and a light load, much longer under a heavy
one. That is too long for a lesson, so the result ships with minipeft
(``minipeft/data/pretrained/bert_tiny.npz``, 574 KB, its training history inside) and this
lesson reuses it unless you pass ``--retrain``; it says which it did.
``python -m lessons 4 --retrain --save-shipped`` is how the shipped file was made.

What to look at:

1. What the model is asked: three held-out inputs, masked words shown as
   ``input->(original)``, and whether B is the true next sentence.
2. Training (``--retrain``; a progress line and an evaluation every 250 steps), or the
   shipped checkpoint: who made it, how, and how long it took.
3. A fresh evaluation on held-out text, now: MLM and NSP accuracy, and the four probes
   (seen/unseen adjectives, plain/negated contexts) against their bars (0.8 for the
   unseen and negated probes, 0.65 for NSP). The shipped model: unseen 0.998, negated
   0.97, NSP 0.75, MLM 0.62.
4. Masked-word predictions, top 3 with probabilities over all 81 tokens. Held-out
   sentences (the sentence before them as segment A): the unseen adjective is rarely
   the top word, but the right *polarity* is, even after "not". "but" is only half
   learned: one contrast below comes out right, the other takes the polarity of the
   nearest adjective. Then probe sentences, where only the unseen adjectives are scored.

Figures:

- ``04_losses.png``: MLM and NSP loss over training (means of blocks of 25 steps; held-
  out losses dashed), with the steps where the probes left 0.5. NSP's loss sits exactly
  on ln 2 = 0.693, a coin toss, until NSP passes 0.6 at step 5,500; MLM's
  falls fast, then creeps, with only a slight bend where the meaning arrived.
- ``04_probes.png``: probes, MLM accuracy and NSP accuracy over training on one 0..1
  axis, with chance (0.5) and the bars. The plateau is the flat stretch at 0.5 before
  step 2,000 (before step 8,750 for negation); MLM accuracy meanwhile looks as if learning were
  over long before.
- ``04_predictions.png``: where the probability at the [MASK] goes in each kind of probe
  context (fresh probe sentences): nearly all of it on adjectives of the right polarity,
  split evenly between seen and unseen ones.

``--quick`` pre-trains from scratch for 60 steps (seconds; nothing is learned; used by
the tests) and never touches the shipped file. ``--steps N`` changes a retrain's length.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import os
import platform
import time

import numpy as np

import minipeft as mp
from minipeft.data import DEFAULT_LEXICON, IGNORE_INDEX, PretrainingCorpus, Tokenizer, polarity_probes
from minipeft.lesson import Lesson, repository_path
from minipeft.nn import BertConfig, BertForPreTraining
from minipeft.train import (RECIPE, compact_history, fill_mask, load_shipped_pretrained, mask_probabilities,
                            polarity_probe_fn, pretrain, pretraining_metrics, save_checkpoint)
from minipeft.train.shipped import SHIPPED_NAME, pretrained_dir, pretrained_path
from minipeft.viz import line_chart, stacked_bars

THRESHOLD, NSP_THRESHOLD = 0.8, 0.65  # what the shipped model must reach on held-out text
QUICK_RECIPE = dict(RECIPE, n_documents=400, steps=60, eval_every=20)
PROBES = {"probe_seen": "plain context, seen adjectives", "probe_unseen": "plain context, unseen adjectives",
          "probe_negated_seen": "negated context, seen", "probe_negated_unseen": "negated context, unseen"}


def add_arguments(parser):
    parser.add_argument("--retrain", action="store_true",
                        help="pre-train from scratch (12,000 steps, 10-25 minutes) instead of reusing the shipped one")
    parser.add_argument("--save-shipped", action="store_true",
                        help="with --retrain: write the result as the shipped checkpoint "
                             f"(minipeft/data/pretrained/{SHIPPED_NAME}.npz) instead of into --out")
    parser.add_argument("--steps", type=int, default=None, help="with --retrain: number of steps (default 12000)")


def plateau_end(history, metric: str, level: float = 0.6):
    """The first evaluated step at which ``metric`` exceeded ``level`` (None if it never did)."""
    for step, value in zip(*history.metric(metric)):
        if value > level:
            return step
    return None


def pick_examples(documents, lexicon, per_kind: int = 1):
    """(context sentence, sentence with one word masked, the hidden word) from held-out documents:
    unseen adjectives plain, after "very", after "not" and after "but"; an emotion; a noun."""
    wanted = ["adjective after the", "adjective after very", "adjective after not", "adjective after but",
              "emotion", "noun"]
    found = {}
    emotions = set(lexicon.emotions)
    for doc in documents:
        for k in range(1, len(doc.sentences)):
            words = list(doc.sentences[k])
            for i, w in enumerate(words):
                if lexicon.is_adjective(w) and not lexicon.is_seen(w):
                    before = words[i - 1]
                    kind = "adjective after " + ("but" if "but" in words[:i] else before)
                elif w in emotions:
                    kind = "emotion"
                elif w in lexicon.nouns and words[:1] != ["the"] and "because" not in words:
                    kind = "noun"
                else:
                    continue
                if kind in wanted and kind not in found:
                    masked = " ".join(words[:i] + ["[MASK]"] + words[i + 1:])
                    found[kind] = (" ".join(doc.sentences[k - 1]), masked, w)
        if len(found) == len(wanted):
            break
    return [found[kind] for kind in wanted if kind in found]


def mask_shares(model, tokenizer, lexicon, n: int, seed: int) -> dict:
    """Mean probability at a probe's [MASK] on each group of words, per kind of probe context."""
    groups = {"positive adjectives, seen": lexicon.adjectives(1, seen=True),
              "positive adjectives, unseen": lexicon.adjectives(1, seen=False),
              "negative adjectives, seen": lexicon.adjectives(0, seen=True),
              "negative adjectives, unseen": lexicon.adjectives(0, seen=False)}
    ids = {name: tokenizer.encode(words) for name, words in groups.items()}
    contexts, parts = [], {name: [] for name in [*groups, "any other word"]}
    for negated in (False, True):
        batch = polarity_probes(n, seed, negated=negated, tokenizer=tokenizer)
        probs = mask_probabilities(model, batch, batch["mask_positions"])  # (n, V)
        context_polarity = 1 - batch["polarity"] if negated else batch["polarity"]
        for pol in (1, 0):
            rows = probs[context_polarity == pol]
            verb = "loves" if pol else "hates"
            contexts.append(f"{verb} ... not [MASK]" if negated else f"{verb} the [MASK]")
            total = 0.0
            for name, group in ids.items():
                share = float(rows[:, group].sum(axis=1).mean())
                parts[name].append(share)
                total += share
            parts["any other word"].append(max(0.0, 1.0 - total))
    return {"contexts": contexts, "parts": parts, "n": n // 2}


lesson = Lesson("04_pretraining", __doc__, add_arguments=add_arguments).begin()

args, quick = lesson.args, lesson.quick
if args.save_shipped and (quick or not args.retrain):
    raise SystemExit("--save-shipped needs --retrain and cannot be used with --quick")
tokenizer, lexicon = Tokenizer.from_lexicon(), DEFAULT_LEXICON
config = BertConfig.preset("tiny", vocab_size=tokenizer.vocab_size)

# %% 1. What pre-training asks. Held-out documents: never trained on.
heldout = PretrainingCorpus(200 if quick else 2000, seed=lesson.seed, split="heldout", tokenizer=tokenizer)
example = heldout.fixed_batches(1, 3, RECIPE["mask_prob"], seed=99)[0]
print("Three pre-training inputs (held-out text). MLM must restore the words in brackets; NSP says "
      "whether the part after the first [SEP] really follows:\n")
for ids, labels, is_next in zip(example["input_ids"], example["mlm_labels"], example["nsp_labels"]):
    words = [tokenizer.id_to_token(int(i)) for i in ids if i != tokenizer.pad_id]
    shown = [w if labels[k] == IGNORE_INDEX else f"{w}->({tokenizer.id_to_token(int(labels[k]))})"
             for k, w in enumerate(words)]
    print(f"  [{'next  ' if is_next else 'random'}] {' '.join(shown)}")

# %% 2. Pre-train (--retrain, --quick) or reuse the shipped checkpoint.
if args.retrain or quick:
    recipe = dict(QUICK_RECIPE if quick else RECIPE)
    if args.steps is not None:
        recipe["steps"] = args.steps
    print(f"\nretraining: {recipe['steps']:,} steps of {recipe['batch_size']} sentence pairs "
          f"(tiny BERT, seed {lesson.seed}); evaluating every {recipe['eval_every']} steps")
    mp.manual_seed(lesson.seed)  # the initial weights
    corpus = PretrainingCorpus(recipe["n_documents"], seed=lesson.seed, tokenizer=tokenizer)
    model = BertForPreTraining(config)
    history = pretrain(model, corpus, steps=recipe["steps"], batch_size=recipe["batch_size"],
                       lr=recipe["lr"], mask_prob=recipe["mask_prob"],
                       warmup_fraction=recipe["warmup_fraction"], weight_decay=recipe["weight_decay"],
                       betas=recipe["betas"], clip=recipe["clip"], eval_every=recipe["eval_every"],
                       probe_fn=polarity_probe_fn(tokenizer, n=64 if quick else 256),
                       log_every=recipe["eval_every"], seed=lesson.seed)
    # stored with the weights: per-step numbers as means of blocks of steps (480 points for 12,000)
    history = compact_history(history, block=max(1, recipe["steps"] // 480))
    command = " ".join(["python -m lessons 4", "--quick" if quick else "--retrain"]
                       + (["--save-shipped"] if args.save_shipped else [])
                       + ([f"--steps {args.steps}"] if args.steps is not None else [])
                       + ([f"--seed {lesson.seed}"] if lesson.seed else []))
    extra = {"recipe": recipe, "seed": lesson.seed, "command": command,
             "train_time_s": round(history.time_s[-1], 1), "total_time_s": round(history.total_time_s, 1),
             "final_eval": history.last_eval, "history": history.to_dict(),
             "made_on": {"numpy": np.__version__, "python": platform.python_version(),
                         "cpus": os.cpu_count(), "device": lesson.device,
                         "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                         "date": time.strftime("%Y-%m-%d")}}
    if args.save_shipped:  # the package-data copy that later lessons and a default run load
        pretrained_dir().mkdir(parents=True, exist_ok=True)
        path = pretrained_path(must_exist=False)
    else:                  # beside the figures; the shipped file is left alone
        path = lesson.out / f"04_{SHIPPED_NAME}.npz"
    nbytes = save_checkpoint(model, path, extra=extra)
    print(f"\nsaved the checkpoint {path} ({nbytes / 1e3:,.0f} KB, + {path.with_suffix('.json').name})")
    source = "retrained"
else:
    model, meta, history = load_shipped_pretrained()
    extra, path = meta["extra"], pretrained_path()
    recipe = extra["recipe"]
    print(f"\nreusing the shipped checkpoint {path.name} ({path.stat().st_size / 1e3:,.0f} KB), trained by "
          f"`{extra['command']}` (seed {extra['seed']}, {recipe['steps']:,} steps) in "
          f"{extra['total_time_s']:,.0f} s on {extra['made_on']['date']}. Pass --retrain to train it again.")
    source = "shipped"
train_time_s = extra["total_time_s"]
print(f"model: {model.num_parameters():,} parameters ({config.num_layers} layers, d {config.hidden_size})")

# %% 3. Evaluate now, on held-out text and fresh probe sentences (not those used during training).
eval_batches = heldout.fixed_batches(2 if quick else 16, 64, recipe["mask_prob"], seed=1)
metrics = pretraining_metrics(model, eval_batches)
probe_n = 64 if quick else 1024
probes = polarity_probe_fn(tokenizer, n=probe_n, seed=1)(model)
results = {"mlm_accuracy": metrics["mlm_accuracy"], "nsp_accuracy": metrics["nsp_accuracy"],
           "polarity_seen": probes["probe_seen"], "polarity_unseen": probes["probe_unseen"],
           "negated_seen": probes["probe_negated_seen"], "negated_unseen": probes["probe_negated_unseen"]}
bars = {"mlm_accuracy": None, "nsp_accuracy": NSP_THRESHOLD, "polarity_seen": None,
        "polarity_unseen": THRESHOLD, "negated_seen": THRESHOLD, "negated_unseen": THRESHOLD}
rows = []
for name, value in results.items():
    bar = bars[name]
    rows.append((name, value, "-" if bar is None else f">= {bar}",
                 "-" if bar is None else ("pass" if value >= bar else "FAIL")))
lesson.table(f"held-out evaluation now ({len(eval_batches) * 64} sentence pairs at "
             f"{recipe['mask_prob']:.0%} masking; {probe_n} probe sentences per context kind; chance 0.5)",
             rows, headers=["measure", "value", "bar", "verdict"])
passed = all(value >= bars[name] for name, value in results.items() if bars[name] is not None)
if passed:
    print("the model passes every probe")
elif quick:
    print("the model does NOT pass every probe (expected with --quick: 60 steps learn nothing)")
else:  # negation is learned last, and when depends on float rounding (README: "Sensitive to rounding")
    print("the model does NOT pass every probe; if only negation is missing, retrain with --steps 16000")

# %% 4. Masked-word predictions. Held-out sentences (the previous sentence as context), then probes.
examples = pick_examples(heldout.documents, lexicon)
predictions = fill_mask(model, tokenizer, [(context, masked) for context, masked, _ in examples])
print("\nheld-out sentences, the word hidden by [MASK] and the model's top 3 (probability over all words):")
shown_predictions = []
for (context, masked, answer), top in zip(examples, predictions):
    guesses = ", ".join(f"{w} {p:.2f}" for w, p in top)
    print(f"  {masked:<52} answer {answer:<10} -> {guesses}")
    shown_predictions.append({"context": context, "sentence": masked, "answer": answer,
                              "top3": [[w, p] for w, p in top]})

name, noun = lexicon.names[0], lexicon.domains[0].nouns[0]
neutral = f"{lexicon.names[1]} {lexicon.domains[0].verbs[0]} the {noun} ."
unseen = {pol: tokenizer.encode(lexicon.adjectives(pol, seen=False)) for pol in (1, 0)}
probe_sentences = [(f"{name} {lexicon.cue_verbs_of(pol)[0]} the [MASK] {noun} .", pol) for pol in (1, 0)]
probe_sentences += [(f"{name} {lexicon.cue_verbs_of(1 - pol)[0]} the {noun} because it is not [MASK] .", pol)
                    for pol in (1, 0)]
print(f"\nprobe sentences (second sentence: '{neutral}'): top 3 over all words, then the share of the "
      f"unseen adjectives' probability on the right polarity:")
probe_examples = []
for sentence, pol in probe_sentences:
    ids, seg = tokenizer.encode_pair(sentence, neutral)
    probs = mask_probabilities(model, {"input_ids": np.array([ids]), "segment_ids": np.array([seg]),
                                       "attention_mask": np.ones((1, len(ids)), dtype=bool)},
                               [ids.index(tokenizer.mask_id)])[0]
    top = fill_mask(model, tokenizer, [(sentence, neutral)])[0]
    right = probs[unseen[pol]].sum() / (probs[unseen[1]].sum() + probs[unseen[0]].sum())
    best_unseen = tokenizer.id_to_token(int(max(unseen[0] + unseen[1], key=lambda i: probs[i])))
    print(f"  {sentence:<52} wants {'positive' if pol else 'negative'} -> "
          f"{', '.join(f'{w} {p:.2f}' for w, p in top)}   | unseen: {right:.3f} right, best '{best_unseen}'")
    probe_examples.append({"sentence": sentence, "polarity": pol, "top3": [[w, p] for w, p in top],
                           "unseen_right_share": right, "best_unseen": best_unseen})

# %% 5. Figures: losses and probes over training (from the stored history), where the [MASK] mass goes.
loss_series = {"MLM loss, training": (history.steps, history.losses["mlm_loss"]),
               "NSP loss, training": (history.steps, history.losses["nsp_loss"])}
for key, label in (("mlm_loss", "MLM loss, held-out"), ("nsp_loss", "NSP loss, held-out")):
    loss_series[label] = history.metric(key)
every = history.settings.get("compacted_every", 1)
left = plateau_end(history, "probe_unseen")
negation = plateau_end(history, "probe_negated_unseen")
milestones = {f"{name} > {level}": plateau_end(history, metric, level)  # first evaluated step above level
              for name, metric in (("unseen probe", "probe_unseen"), ("negated unseen probe", "probe_negated_unseen"),
                                   ("NSP accuracy", "nsp_accuracy"))
              for level in (0.6, 0.9)}
vlines = {}
if left is not None:
    vlines[f"unseen probe > 0.6 (step {left:,})"] = left
if negation is not None and negation != left:
    vlines[f"negation > 0.6 (step {negation:,})"] = negation
# MLM starts near ln 81 = 4.39 (a uniform guess over the vocabulary): cut it off once it is far below
cut = history.losses["mlm_loss"][-1] < 1.4
notes = ([f"training: mean of every {every} steps"] if every > 1 else []) + (
    [f"MLM starts at {history.losses['mlm_loss'][0]:.1f}, above the top"] if cut else [])
fig = line_chart(
    None, loss_series, ylabel="loss (cross-entropy)", log=False, markers=False,
    styles={"MLM loss, held-out": "dashed", "NSP loss, held-out": "dashed"},
    colors={"MLM loss, held-out": "#1f77b4", "MLM loss, training": "#1f77b4",
            "NSP loss, held-out": "#d62728", "NSP loss, training": "#d62728"},
    hlines={"NSP chance: ln 2 = 0.693": float(np.log(2))}, vlines=vlines, xlabel="training step",
    ylim=(0.3, 1.6) if cut else None, figsize=(8.0, 4.8),
    title="Lesson 04: pre-training losses" + (f"\n({'; '.join(notes)})" if notes else ""))
if cut:
    fig.axes[0].legend(loc="upper right", bbox_to_anchor=(1.0, 0.84), frameon=False)  # below the labels
lesson.save_figure(fig, "04_losses.png")

curves = {label: history.metric(key) for key, label in PROBES.items()}
curves["MLM accuracy (held-out)"] = history.metric("mlm_accuracy")
curves["NSP accuracy (held-out)"] = history.metric("nsp_accuracy")
lesson.save_figure(line_chart(
    None, curves, ylabel="probability of the right polarity / accuracy", log=False, markers=False,
    styles={PROBES["probe_seen"]: "dotted", PROBES["probe_negated_seen"]: "dotted",
            "MLM accuracy (held-out)": "dashdot", "NSP accuracy (held-out)": "dashed"},
    hlines={"chance 0.5": 0.5, "probe bar 0.8": THRESHOLD, "NSP bar 0.65": NSP_THRESHOLD}, vlines=vlines,
    ylim=(0, 1.04),
    xlabel="training step", figsize=(8.0, 4.8),
    title="Lesson 04: probes over pre-training (the plateau at 0.5, then meaning)"),
    "04_probes.png")

shares = mask_shares(model, tokenizer, lexicon, n=64 if quick else 512, seed=2)
fig = stacked_bars(list(shares["contexts"]), shares["parts"], totals=False, figsize=(8.0, 4.2),
                   ylabel="probability at the [MASK] (mean)", xlabel="probe context",
                   title=f"Lesson 04: what the model puts at the [MASK] of a probe ({shares['n']} each)")
fig.axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the bars
lesson.save_figure(fig, "04_predictions.png")

lesson.record(
    probes=results, passes_probes=passed, source=source, checkpoint=repository_path(path),
    checkpoint_bytes=path.stat().st_size, train_time_s=train_time_s, train_steps=recipe["steps"],
    recipe=recipe, training_seed=extra["seed"], parameters=model.num_parameters(),
    mlm_loss=metrics["mlm_loss"], nsp_loss=metrics["nsp_loss"],
    final_training_eval=extra["final_eval"], plateau_left_at_step=left, negation_learned_at_step=negation,
    milestones=milestones,
    predictions=shown_predictions, probe_predictions=probe_examples,
    mask_shares={c: {p: v[i] for p, v in shares["parts"].items()} for i, c in enumerate(shares["contexts"])},
)

# %%
lesson.end()
