"""Backprop by hand: watch the chain rule compute every gradient of a tiny network.

Every model in this course (the RNN, the Transformer, the adapters added to it at the
end) is trained the same way: run the model forward to a single number, the loss L; then
ask, for every number w in every weight, "if w moved up a little, how fast would L
change?" That slope, dL/dw, is the gradient, and training moves each w a small step
against it. Backprop finds all the slopes in one backward sweep, applying the chain rule
once per op, from the loss back to the inputs. This lesson makes the sweep visible on a
network small enough to check with pencil and numpy:

    x (1x2) -> z1 = x @ W1 + b1 -> h = tanh(z1) -> logits = h @ W2 + b2 -> L = cross_entropy(logits, y)

What it prints, and what to look at:

1. The trace of one forward and backward pass (``mp.trace()``): six ops forward, top to
   bottom, then the same six backward in reverse order. A backward row shows the size of
   the gradient that arrived at an op's output and of the gradients it sent to its inputs.
2. Each gradient written as a numpy formula (dlogits = softmax - onehot, dW2 = h^T dlogits,
   dz1 = dh * (1 - h^2), ...) beside the engine's: they agree, here exactly, because the
   engine's backward functions are these same formulas, one op at a time.
3. The engine against central differences: nudge one number by +-eps, rerun the forward
   pass, measure the slope. ``mp.gradcheck`` does this for every input; the table reports
   the largest disagreement (about 1e-10: the finite-difference error, not the engine's).

Figures:

- ``01_graph.png``: the computational graph. Each box is a tensor with its value and its
  gradient dL/d(tensor); arrows run forward. Backward walks them right to left: each op
  multiplies the gradient its output received by its local derivative and hands the
  result to its inputs, and a parameter's gradient is what arrives at its box.
- ``01_grad_norms.png``: how big the gradient reaching each node is, in the order backward
  reaches it. Look at the step from h back to z1: backward multiplies by tanh's slope
  1 - h^2, which is at most 1 and near 0 wherever |h| is near 1, so the gradient can
  only shrink there (the lesson prints by how much). Repeated over many steps, that
  shrinking is why a plain RNN struggles to learn from words far back.

Everything runs in float64 so that the comparisons show the formulas, not float32
rounding. ``--quick`` runs the same network: it already takes about a second.
"""
# %% Setup: imports, constants, and the lesson's flags (--quick, --device, --out, --seed).
import math

import numpy as np

import minipeft as mp
from minipeft.lesson import Lesson
from minipeft.viz import bar_chart, draw_graph, graph_nodes
from minipeft.viz.style import EDGE_COLOURS


lesson = Lesson("01_autograd", __doc__).begin()

# %% 1. A tiny network. Every tensor gets a name, so the trace and the picture can say which is which.
rng = np.random.default_rng(lesson.seed)
wants_grad = dict(dtype="float64", requires_grad=True)
x = mp.tensor([[0.5, -1.0]], name="x", **wants_grad)                     # one example, 2 features
W1 = mp.tensor(rng.normal(0.0, 1.0, (2, 2)), name="W1", **wants_grad)    # hidden layer, 2 -> 2
b1 = mp.tensor(rng.normal(0.0, 0.1, 2), name="b1", **wants_grad)
W2 = mp.tensor(rng.normal(0.0, 1.0, (2, 2)), name="W2", **wants_grad)    # output layer, 2 -> 2 classes
b2 = mp.tensor(rng.normal(0.0, 0.1, 2), name="b2", **wants_grad)
y = mp.tensor([1], name="y")                                              # the right class: an integer
inputs = [x, W1, b1, W2, b2]

def network(x, W1, b1, W2, b2):
    z1 = x @ W1 + b1                      # (1, 2)  pre-activation
    z1.name = "z1"                        # a name only labels the trace and the picture
    h = mp.tanh(z1)                       # (1, 2)  hidden activation
    h.name = "h"
    logits = h @ W2 + b2                  # (1, 2)  one score per class
    logits.name = "logits"
    return mp.cross_entropy(logits, y)    # ()      L = -log softmax(logits)[y]

# %% 2. One forward and one backward pass, recorded op by op.
with mp.trace() as trace:
    loss = network(*inputs)
    loss.backward()
print(f"loss L = {loss.item():.6f}\n")
print(trace)
engine = {node.label: node.grad for node in graph_nodes(trace)}  # dL/d(every tensor), from the trace

# %% 3. The same gradients by hand: the chain rule, one line per op, in numpy.
X, w1, c1, w2, c2 = (t.numpy() for t in inputs)
z1 = X @ w1 + c1
h = np.tanh(z1)
logits = h @ w2 + c2
p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()  # softmax
onehot = np.eye(2)[y.numpy()]
loss_by_hand = float(-np.log(p[0, y.numpy()[0]]))

dlogits = p - onehot                # cross-entropy then softmax: dL/dlogits = p - onehot (1 row)
db2 = dlogits.sum(axis=0)           # b2 was added to every row
dW2 = h.T @ dlogits                 # logits = h @ W2
dh = dlogits @ w2.T
dz1 = dh * (1 - h ** 2)             # tanh'(z) = 1 - tanh(z)^2
db1 = dz1.sum(axis=0)
dW1 = X.T @ dz1                     # z1 = x @ W1
dx = dz1 @ w1.T

by_hand = [("logits", "p - onehot(y)", dlogits), ("b2", "sum_rows(dlogits)", db2),
           ("W2", "h^T @ dlogits", dW2), ("h", "dlogits @ W2^T", dh),
           ("z1", "dh * (1 - h^2)", dz1), ("b1", "sum_rows(dz1)", db1),
           ("W1", "x^T @ dz1", dW1), ("x", "dz1 @ W1^T", dx)]
rows, worst_by_hand = [], abs(loss.item() - loss_by_hand)
for name, formula, mine in by_hand:
    diff = float(np.abs(engine[name] - mine).max())
    worst_by_hand = max(worst_by_hand, diff)
    rows.append((f"dL/d{name}", formula, float(np.linalg.norm(engine[name])),
                 float(np.linalg.norm(mine)), diff))
lesson.table("engine vs by hand (L2 norms; last column: largest entry-wise difference)", rows,
             headers=["gradient", "numpy formula", "|engine|", "|by hand|", "max |diff|"])
tanh_ratio = float(np.linalg.norm(dz1) / np.linalg.norm(dh))
print(f"through tanh: slope 1 - h^2 = {np.round(1 - h ** 2, 3).ravel()}, "
      f"so |dL/dz1| / |dL/dh| = {tanh_ratio:.3f}")

# %% 4. The engine against central differences: (L(w + eps) - L(w - eps)) / (2 eps), entry by entry.
engine_grads = {t.name: t.grad.copy() for t in inputs}
passed = mp.gradcheck(network, *inputs)  # raises, naming the input and entry, if any slope is off
eps = 1e-6
rows, worst_numeric = [], 0.0
for t in inputs:
    numeric = mp.autograd.numerical_gradient(lambda: network(*inputs).item(), t, eps)
    diff = float(np.abs(mp.backend.to_numpy(engine_grads[t.name]) - numeric).max())
    worst_numeric = max(worst_numeric, diff)
    rows.append((f"dL/d{t.name}", str(t.shape), float(np.linalg.norm(numeric)), diff))
lesson.table(f"engine vs central differences (eps {eps:g}, float64); gradcheck passed: {passed}",
             rows, headers=["gradient", "shape", "|numeric|", "max |engine - numeric|"])

# %% 5. Pictures: the graph with every value and gradient, and the size of each gradient.
lesson.save_figure(draw_graph(trace, title="Lesson 01: one forward and backward pass of a 2-2-2 network"),
                   "01_graph.png")
reached = [n for n in reversed(graph_nodes(trace)) if not math.isnan(n.grad_norm)]  # loss first
kinds = {"root": "the loss", "op": "output of an op", "parameter": "input / parameter (a leaf)"}
lesson.save_figure(bar_chart(
    [n.label for n in reached], [n.grad_norm for n in reached],
    ylabel="|dL/dnode| (L2 norm)", xlabel="node, in the order backward() reaches it",
    title="Lesson 01: size of the gradient reaching each node",
    colors=[EDGE_COLOURS[n.kind] for n in reached],
    legend={text: EDGE_COLOURS[kind] for kind, text in kinds.items()}), "01_grad_norms.png")

lesson.record(
    loss=loss.item(),
    loss_by_hand=loss_by_hand,
    max_abs_diff_vs_hand=worst_by_hand,
    tanh_grad_ratio=tanh_ratio,
    max_abs_diff_vs_numeric=worst_numeric,
    gradcheck_passed=bool(passed),
    grad_norms={t.name: float(np.linalg.norm(mp.backend.to_numpy(engine_grads[t.name]))) for t in inputs},
    forward_ops_traced=len(trace.forward),
    backward_ops_traced=len(trace.backward),
)

# %%
lesson.end()
