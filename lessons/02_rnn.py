"""RNNs read word by word: a loop over time, gradients that fade, and truncated backprop.

Before the Transformer, a sentence was read the way a person reads aloud: one word at a
time, each step updating a hidden vector h that is supposed to remember everything so
far (an Elman RNN: h_t = tanh(x_t W_x + h_{t-1} W_h + b)). Two consequences follow from
that one formula, and this lesson measures both.

It is sequential. Step t needs h_{t-1}, so T words cost T small matrix products that
must run one after another; there is nothing for the other cores of a CPU (or the
thousands of a GPU) to do at the same time. Time per batch grows linearly with T.

Its gradients fade. Training backpropagates through time: the gradient of a loss at the
last step reaches step t only after being multiplied, once per step in between, by
diag(1 - h^2) W_h^T. A factor a bit below one, compounded over tens of steps, is a
vanishing gradient: the first words barely move the weights, so a dependency far back is
learned slowly or not at all. The practical cure of the era was truncated backprop
through time (BPTT): cut the graph every k steps, which makes backward cheap and stable
but means that nothing further back than k steps can ever be learned. The other cure
changed the cell: the LSTM (long short-term memory; ``minipeft.nn.LSTM``) keeps, beside
h, a cell state c that is updated by addition rather than rewritten,

    z = x_t W_x + h_{t-1} W_h + b, cut into four parts z_i, z_f, z_o, z_g
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);   g = tanh(z_g)
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

where the gates decide what to forget (f), what to write (i) and what to show (o). While f
stays near 1, c carries a value, and its gradient, across many steps without the repeated
W_h product; the price is a recurrent product four times as wide per step, and it is just
as sequential. Both limits, the sequential loop and the fading path, are what the
Transformer of lesson 03 removes: attention looks at every word at once, so the path from
any word to the output is one step long, and all positions are computed in parallel.

The task (``minipeft.data.sequences.RecallTask``): a sequence of T tokens hides one *key*
(one of 4) among random distractors, ``distance`` steps before the end; the label is
the key. A model must carry it across the distractors. Chance accuracy is 1/4 (a loss
of log 4 = 1.386).

What to look at, cell by cell:

1. The loop itself: the source of ``RNN.forward``, and the same loop written by hand
   with an ``RNNCell`` (they give identical numbers).
2. ``02_loss.png``: a plain RNN and an LSTM trained to recall the first of T = 40 tokens.
   With the default seed the LSTM's loss sits at log 4 for about a hundred steps, then
   falls to zero (test accuracy 1.0); the RNN's drops within a few dozen steps to near
   log 2 (it learns to tell two pairs of keys apart), then settles a little above it and
   stays there: 0.87 over its last 50 of 1000 steps, test accuracy 0.50. Be warned that this is one draw
   of a lottery: from a random start the gradient from the first token is tiny for both
   models (cell 3), so whether either escapes its plateau depends on the random seed:
   rerun with ``--seed 1`` or ``--seed 2`` and compare.
3. ``02_vanishing_gradients.png``: |dL/dh_t|, the gradient reaching each step's hidden
   state from the loss at the last step, divided by its value at the last step, on a
   log axis (a geometric decay is a straight line). Dashed: the untrained models. Both
   decay: the RNN by about x0.88 per step back, the LSTM faster, x0.81 (its forget gates
   start near sigmoid(1) = 0.73). Solid: after training. The stalled RNN's gradient falls
   along a steep straight line, to 1.5e-15 of its last-step value at t = 4, and turns up
   a little before the start (3.3e-14 at t = 0): it settled on a way of keeping its one
   bit that lets almost no gradient back to the first token, so it cannot learn more.
   The trained LSTM passes the gradient back to t = 0 at about half strength (0.56; in
   between it dips, because there the memory lives in its cell state c, not in h).
   The table gives each ratio first/last and the average factor per step.
4. ``02_truncation.png``: the RNN trained with truncated BPTT windows k = 2, 5, 10, 20 and
   full BPTT (40) on the task with the key 20 steps before the end. The cuts fall at
   steps k, 2k, ...; T = 40 is a multiple of every k, so the gradient from the loss
   reaches back exactly k steps. Windows shorter than the distance stay near chance
   (the little above it comes from a trace of the key that the recurrence keeps by
   accident and the output layer learns to read; nothing taught the network to keep
   it); windows that reach the key learn it perfectly.
5. ``02_time_vs_length.png`` and the timing table: forward + backward time per batch
   against T, for the RNN and the LSTM. Each grows in proportion to T (a constant cost
   per step, the ms / step column): T steps that must run one after another.

``--quick`` runs every cell at toy sizes in a few seconds (numbers then mean little).
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import inspect
import itertools
import time

import numpy as np

import minipeft as mp
from minipeft.bench.timing import median, time_ms
from minipeft.data.sequences import RecallTask, accuracy
from minipeft.lesson import Lesson
from minipeft.nn.rnn import RNN, RNNCell, RNNClassifier
from minipeft.viz import line_chart, training_curves


lesson = Lesson("02_rnn", __doc__).begin()

quick = lesson.quick
T = 12 if quick else 40                        # sequence length of the tasks
distance = 6 if quick else 20                  # cell 4: the key sits this many steps before the end
windows = [2, 3, None] if quick else [2, 5, 10, 20, None]  # truncated BPTT windows (None: full)
embed, hidden, batch, lr = 16, (16 if quick else 64), 32, 3e-3
long_steps = 40 if quick else 1000             # cell 2: training steps, RNN and LSTM
window_steps = 40 if quick else 600            # cell 4: training steps per window
lengths = [8, 16] if quick else [16, 32, 64, 128]  # cell 5
first_token = RecallTask(length=T)              # the key is the first token: distance T
test_set = {}                                   # a fixed test set per task, never trained on

def test_accuracy(model, task):
    if task not in test_set:
        test_set[task] = task.sample(1000, seed=10_000 + lesson.seed)
    ids, labels = test_set[task]
    with mp.no_grad():
        return accuracy(model(mp.tensor(ids)).numpy(), labels)

def train(model, task, steps, name):
    """The training loop, in full: returns the loss of every step."""
    optimizer = mp.optim.Adam(model.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for step, (ids, labels) in enumerate(itertools.islice(task.batches(batch, seed=lesson.seed), steps)):
        loss = mp.cross_entropy(model(mp.tensor(ids)), labels)   # forward: read all T tokens, classify
        loss.backward()                                          # backprop through time
        mp.optim.clip_grad_norm(model.parameters(), 1.0)         # one bad batch cannot blow up the weights
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        if (step + 1) % max(1, steps // 5) == 0 or step + 1 == steps:  # a progress line
            per_step = (time.perf_counter() - start) / (step + 1)
            print(f"  {name}: step {step + 1:>4}/{steps}  loss {np.mean(losses[-50:]):.3f}  "
                  f"{per_step * 1e3:.1f} ms/step  ~{per_step * (steps - step - 1):.0f} s left", flush=True)
    return losses

def new_classifier(cell, bptt_window=None):
    mp.manual_seed(lesson.seed)  # the same initial weights every time a cell is built
    return RNNClassifier(first_token.vocab_size, embed, hidden, first_token.num_classes,
                         bptt_window=bptt_window, cell=cell)

# %% 1. The sequential loop. Here is RNN.forward: one matrix product for all inputs, then a Python loop.
print("RNN.forward and RNNCell.recur, from minipeft/nn/rnn.py:\n")
print(inspect.getsource(RNN.forward))
print(inspect.getsource(RNNCell.recur))
# The same loop by hand, with one RNNCell: step t cannot start before step t-1 has finished.
rnn = RNN(embed, hidden)
x = mp.tensor(np.random.default_rng(lesson.seed).normal(size=(batch, T, embed)))
h = mp.tensor(np.zeros((batch, hidden)))
for t in range(T):
    h = rnn.cell(x[:, t], h)  # h_t = tanh(x_t W_x + b + h_{t-1} W_h)
loop_difference = float(np.abs(h.numpy() - rnn(x)[1].numpy()).max())
print(f"hand-written loop vs RNN.forward, largest difference in h_T: {loop_difference:.2g} "
      f"({T} steps, each waiting for the one before)")

# %% 2. Train a plain RNN and an LSTM to recall the FIRST token of T, across T - 1 distractors.
print(f"\ntask: recall the first of {T} tokens (4 keys, 16 distractors); chance loss log 4 = {np.log(4):.3f}")
models = {"RNN": new_classifier("rnn"), "LSTM": new_classifier("lstm")}
histories = {name: train(model, first_token, long_steps, name) for name, model in models.items()}
final_accuracy = {name: test_accuracy(model, first_token) for name, model in models.items()}
final_loss = {name: float(np.mean(losses[-50:])) for name, losses in histories.items()}
lesson.table(f"recall the first of {T} tokens, after {long_steps} steps (chance accuracy 0.25)",
             [(name, final_loss[name], final_accuracy[name]) for name in models],
             headers=["model", "train loss (last 50 steps)", "test accuracy"])
lesson.save_figure(training_curves(
    histories, title=f"Lesson 02: recalling the first of {T} tokens (seed {lesson.seed})",
    ylabel="training loss (cross-entropy)", hlines={"chance: log 4": np.log(4), "log 2": np.log(2)}),
    "02_loss.png")

# %% 3. Vanishing gradients: how much of the last step's gradient reaches each earlier hidden state?
ids, labels = first_token.sample(256, seed=20_000 + lesson.seed)
before = {"RNN": new_classifier("rnn"), "LSTM": new_classifier("lstm")}  # same seed: the untrained weights
norms = {}
for label, group in (("untrained", before), ("trained", models)):
    for name, model in group.items():
        logits, states = model(mp.tensor(ids), return_step_states=True)  # states[t] is h_t, keeps its grad
        mp.cross_entropy(logits, labels).backward()                    # loss on the last step's prediction
        grads = [mp.backend.to_numpy(s.grad) for s in states]      # dL/dh_t, (B, H) each
        norms[f"{name}, {label}"] = np.array([float(np.linalg.norm(g)) for g in grads])
        model.zero_grad()
ratio = {name: n[0] / n[-1] for name, n in norms.items()}           # |dL/dh_0| / |dL/dh_T-1|
per_step = {name: r ** (1 / (T - 1)) for name, r in ratio.items()}  # the average factor per step back
lesson.table("gradient reaching the first step vs the last (|dL/dh_t|, L2 norm over the batch)",
             [(name, n[-1], n[0], ratio[name], per_step[name]) for name, n in norms.items()],
             headers=["model", "|dL/dh_T-1|", "|dL/dh_0|", "first / last", "factor per step"])
lesson.save_figure(line_chart(
    np.arange(T), {name: n / n[-1] for name, n in norms.items()},
    ylabel="|dL/dh_t| / |dL/dh_T-1|", xlabel="time step t (the loss is read after the last step)",
    title="Lesson 02: gradient reaching each step (key at t = 0)", log=True, markers=False,
    styles={name: "dashed" for name in norms if "untrained" in name},
    colors={name: ("#0072B2" if name.startswith("RNN") else "#E69F00") for name in norms}),
    "02_vanishing_gradients.png")

# %% 4. Truncated BPTT: the window k decides how far back anything can be learned.
near = RecallTask(length=T, distance=distance)  # the key sits `distance` steps before the end
print(f"\ntask: the key is {distance} steps before the end of {T} tokens; cuts at steps k, 2k, ...")
accuracy_by_window, loss_by_window = {}, {}
for k in windows:
    name = "full" if k is None else str(k)
    model = new_classifier("rnn", bptt_window=k)
    losses = train(model, near, window_steps, f"RNN, window {name}")
    accuracy_by_window[name] = test_accuracy(model, near)
    loss_by_window[name] = float(np.mean(losses[-50:]))
# The last cut is at the largest multiple of k below T, so the gradient reaches back T - cut steps.
reach = {("full" if k is None else str(k)): T if k is None else T - ((T - 1) // k) * k for k in windows}
lesson.table(f"truncated BPTT on a dependency {distance} steps back (chance 0.25)",
             [(name, reach[name], "yes" if reach[name] >= distance else "no", loss_by_window[name],
               accuracy_by_window[name]) for name in accuracy_by_window],
             headers=["window k", "gradient reaches back", "reaches the key?", "train loss", "test accuracy"])
x_windows = [T if k is None else k for k in windows]
lesson.save_figure(line_chart(
    x_windows, {"RNN test accuracy": list(accuracy_by_window.values())},
    xticklabels=[f"{T}\n(full)" if k is None else str(k) for k in windows], logx=True, log=False,
    ylabel="test accuracy", xlabel="truncated BPTT window k (steps)", ylim=(0, 1.12),
    title=f"Lesson 02: truncation window vs a dependency {distance} steps back",
    hlines={"chance 0.25": 0.25}, vlines={f"key {distance} steps back": distance}),
    "02_truncation.png")

# %% 5. Time per batch against T: forward + backward, T sequential steps.
time_by_length = {"RNN": [], "LSTM": []}
for length in lengths:
    ids = mp.tensor(RecallTask(length=length).sample(batch, seed=lesson.seed)[0])
    labels = np.zeros(batch, dtype=np.int64)
    for cell, model in (("RNN", new_classifier("rnn")), ("LSTM", new_classifier("lstm"))):
        def step(model=model):
            mp.cross_entropy(model(ids), labels).backward()
            model.zero_grad()
        time_by_length[cell].append(median(time_ms(step, warmup=1, repeats=3 if quick else 5,
                                                   device=lesson.device)))
ms_per_step = {cell: float(np.polyfit(lengths, ms, 1)[0]) for cell, ms in time_by_length.items()}
lesson.table(f"forward + backward per batch of {batch} (hidden {hidden}, {lesson.device}; median ms)",
             [(length, length, time_by_length["RNN"][i], time_by_length["RNN"][i] / length,
               time_by_length["LSTM"][i], time_by_length["LSTM"][i] / length)
              for i, length in enumerate(lengths)],
             headers=["T", "sequential steps", "RNN ms", "RNN ms / step", "LSTM ms", "LSTM ms / step"])
lesson.save_figure(line_chart(
    lengths, time_by_length, ylabel="forward + backward time per batch (ms)", log=False,
    xlabel="sequence length T (= number of sequential steps)", annotate_last=True, fmt="{:.0f} ms",
    title=f"Lesson 02: time per batch grows with T (batch {batch}, hidden {hidden})"),
    "02_time_vs_length.png")

lesson.record(
    sequence_length=T, hidden_size=hidden, batch_size=batch, learning_rate=lr,
    hand_loop_max_difference=loop_difference,
    first_token_steps=long_steps,
    first_token_final_loss=final_loss,
    first_token_test_accuracy=final_accuracy,
    loss_history=histories,
    grad_norm_by_step={name: n for name, n in norms.items()},
    grad_ratio_first_to_last=ratio,
    grad_factor_per_step=per_step,
    dependency_distance=distance,
    window_steps=window_steps,
    accuracy_by_window=accuracy_by_window,
    loss_by_window=loss_by_window,
    gradient_reach_by_window=reach,
    chance_accuracy=first_token.chance,
    lengths=lengths,
    time_ms_by_length=time_by_length,
    time_ms_per_step_by_length={cell: [ms / n for ms, n in zip(times, lengths)]
                                for cell, times in time_by_length.items()},
    ms_per_sequential_step=ms_per_step,
)

# %%
lesson.end()
