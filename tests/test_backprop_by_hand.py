"""Backprop by hand: a two-layer network whose every gradient is derived on paper.

The network, for N = 4 examples of D = 3 features, H = 5 hidden units and C = 3 classes:

    h_pre  = x @ W1 + b1          (N, H)
    h      = tanh(h_pre)          (N, H)
    logits = h @ W2 + b2          (N, C)
    loss   = cross_entropy(logits, y) = -(1/N) sum_n log softmax(logits_n)_{y_n}

Backward is the chain rule applied from the loss down, one line per step:

    dlogits = (softmax(logits) - onehot(y)) / N      (N, C)   softmax and log fused: a neat difference
    dW2     = h^T @ dlogits                          (H, C)   each weight sees its input times the error
    db2     = sum_n dlogits                          (C,)     the bias was added to every row
    dh      = dlogits @ W2^T                         (N, H)   the error sent back through the weights
    dh_pre  = dh * (1 - h^2)                         (N, H)   tanh'(a) = 1 - tanh(a)^2
    dW1     = x^T @ dh_pre                           (D, H)
    db1     = sum_n dh_pre                           (H,)
    dx      = dh_pre @ W1^T                          (N, D)

Each test computes these with plain NumPy beside the engine and asserts they agree.
``retain_grad()`` asks the engine to keep the gradient of an intermediate tensor (it
normally drops them once passed on), so the steps in the middle can be compared too.
"""
import numpy as np
import pytest

import minipeft as mp

N, D, H, C = 4, 3, 5, 3
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # float64: engine and formulas differ only by rounding


@pytest.fixture
def net():
    """The inputs, labels and parameters (float64), and the forward pass run by the engine."""
    rng = np.random.default_rng(0)
    x = mp.tensor(rng.standard_normal((N, D)), requires_grad=True, dtype="float64", name="x")
    y = np.array([0, 2, 1, 2])  # one class label per example
    W1 = mp.tensor(rng.standard_normal((D, H)) * 0.5, requires_grad=True, dtype="float64", name="W1")
    b1 = mp.tensor(rng.standard_normal(H) * 0.1, requires_grad=True, dtype="float64", name="b1")
    W2 = mp.tensor(rng.standard_normal((H, C)) * 0.5, requires_grad=True, dtype="float64", name="W2")
    b2 = mp.tensor(rng.standard_normal(C) * 0.1, requires_grad=True, dtype="float64", name="b2")
    return {"x": x, "y": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward(p):
    """The engine's forward pass; every intermediate keeps its gradient for inspection."""
    h_pre = (p["x"] @ p["W1"] + p["b1"]).retain_grad()
    h = h_pre.tanh().retain_grad()
    logits = (h @ p["W2"] + p["b2"]).retain_grad()
    loss = mp.cross_entropy(logits, p["y"])
    return {"h_pre": h_pre, "h": h, "logits": logits, "loss": loss}


def by_hand(p):
    """The same forward and backward in plain NumPy, one formula per line (module docstring)."""
    x, y = p["x"].numpy(), p["y"]
    W1, b1, W2, b2 = (p[k].numpy() for k in ("W1", "b1", "W2", "b2"))
    # forward
    h_pre = x @ W1 + b1
    h = np.tanh(h_pre)
    logits = h @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)           # softmax is unchanged by a shift
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    # backward
    onehot = np.eye(C)[y]
    dlogits = (probs - onehot) / N
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ W2.T
    dh_pre = dh * (1 - h ** 2)
    dW1 = x.T @ dh_pre
    db1 = dh_pre.sum(axis=0)
    dx = dh_pre @ W1.T
    return dict(h_pre=h_pre, h=h, logits=logits, probs=probs, loss=loss, dlogits=dlogits, dW2=dW2,
                db2=db2, dh=dh, dh_pre=dh_pre, dW1=dW1, db1=db1, dx=dx)


def test_forward_pass_matches_numpy(net):
    engine, hand = forward(net), by_hand(net)
    for name in ("h_pre", "h", "logits"):
        np.testing.assert_allclose(engine[name].numpy(), hand[name], **TIGHT, err_msg=name)
    np.testing.assert_allclose(engine["loss"].item(), hand["loss"], **TIGHT)
    # a sanity check on the loss itself: -log(1/C) when the network knows nothing; near it here
    assert 0.5 < engine["loss"].item() < 2.0


def test_output_layer_gradients(net):
    engine, hand = forward(net), by_hand(net)
    engine["loss"].backward()

    # dlogits = (softmax - onehot) / N: push up the right class, push down the others
    np.testing.assert_allclose(engine["logits"].grad, hand["dlogits"], **TIGHT)
    np.testing.assert_allclose(hand["dlogits"].sum(axis=1), 0.0, atol=1e-15)  # each row sums to 0

    # dW2 = h^T dlogits  (H, N) @ (N, C) -> (H, C)
    np.testing.assert_allclose(net["W2"].grad, hand["dW2"], **TIGHT)

    # db2 = sum over the N rows of dlogits
    np.testing.assert_allclose(net["b2"].grad, hand["db2"], **TIGHT)


def test_hidden_layer_gradients(net):
    engine, hand = forward(net), by_hand(net)
    engine["loss"].backward()

    # dh = dlogits W2^T  (N, C) @ (C, H) -> (N, H)
    np.testing.assert_allclose(engine["h"].grad, hand["dh"], **TIGHT)

    # dh_pre = dh * tanh'(h_pre) = dh * (1 - h^2), entry by entry
    np.testing.assert_allclose(engine["h_pre"].grad, hand["dh_pre"], **TIGHT)

    # dW1 = x^T dh_pre  (D, N) @ (N, H) -> (D, H)
    np.testing.assert_allclose(net["W1"].grad, hand["dW1"], **TIGHT)

    # db1 = sum over the N rows of dh_pre
    np.testing.assert_allclose(net["b1"].grad, hand["db1"], **TIGHT)

    # dx = dh_pre W1^T  (N, H) @ (H, D) -> (N, D): what a layer below x would receive
    np.testing.assert_allclose(net["x"].grad, hand["dx"], **TIGHT)


def test_hand_formulas_agree_with_central_differences(net):
    # the formulas themselves are right: nudge W1[0, 0] and watch the loss move
    hand, eps = by_hand(net), 1e-6
    W1 = net["W1"].data
    W1[0, 0] += eps
    plus = by_hand(net)["loss"]
    W1[0, 0] -= 2 * eps
    minus = by_hand(net)["loss"]
    W1[0, 0] += eps
    assert (plus - minus) / (2 * eps) == pytest.approx(hand["dW1"][0, 0], rel=1e-6, abs=1e-10)

    # and the engine agrees with central differences on every parameter at once
    def loss_of(x, W1, b1, W2, b2):
        return forward({"x": x, "y": net["y"], "W1": W1, "b1": b1, "W2": W2, "b2": b2})["loss"]
    assert mp.gradcheck(loss_of, net["x"], net["W1"], net["b1"], net["W2"], net["b2"])


def test_trace_shows_the_same_gradients_step_by_step(net):
    hand = by_hand(net)
    norm = np.linalg.norm
    with mp.trace() as t:
        forward(net)["loss"].backward()
    assert [r.op for r in t.forward] == ["MatMul", "Add", "Tanh", "MatMul", "Add", "CrossEntropy"]

    # backward visits the ops in reverse; each row: the gradient arriving at the op's output,
    # and the gradients it sends to each of its inputs
    expected = [  # (op, |grad at output|, [|grad to each input|])
        ("CrossEntropy", 1.0, [norm(hand["dlogits"])]),                 # dL/dL = 1
        ("Add", norm(hand["dlogits"]), [norm(hand["dlogits"]), norm(hand["db2"])]),
        ("MatMul", norm(hand["dlogits"]), [norm(hand["dh"]), norm(hand["dW2"])]),
        ("Tanh", norm(hand["dh"]), [norm(hand["dh_pre"])]),
        ("Add", norm(hand["dh_pre"]), [norm(hand["dh_pre"]), norm(hand["db1"])]),
        ("MatMul", norm(hand["dh_pre"]), [norm(hand["dx"]), norm(hand["dW1"])]),
    ]
    assert len(t.backward) == len(expected)
    for row, (op, grad_norm, input_norms) in zip(t.backward, expected):
        assert row.op == op
        assert row.grad_norm == pytest.approx(grad_norm, rel=1e-12), op
        assert row.input_grad_norms[:len(input_norms)] == pytest.approx(input_norms, rel=1e-12), op
    assert np.isnan(t.backward[0].input_grad_norms[1])  # the integer targets get no gradient
