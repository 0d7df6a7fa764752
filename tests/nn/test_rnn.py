"""RNN and LSTM: gradient checks, the loop against a hand-written recurrence, and
truncated backprop through time (no gradient crosses a cut)."""
import numpy as np
import pytest

import minipeft as mp
from minipeft import functional as F
from minipeft.autograd import gradcheck
from minipeft.kernels.matmul import count_gemms

B, T, D, H = 2, 5, 3, 4  # batch, steps, input size, hidden size
# conftest.py seeds every test and provides the fixtures float64(module) and randn(*shape, seed=, requires_grad=).


def numpy_rnn(rnn, x, h0):
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b), written out in NumPy."""
    W_x, b = rnn.cell.input_proj.weight.numpy(), rnn.cell.input_proj.bias.numpy()
    W_h = rnn.cell.hidden_weight.numpy()
    h, states = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        states.append(h)
    return np.stack(states, axis=1)


# ---- the loop --------------------------------------------------------------------------

def test_rnn_loop_equals_numpy_recurrence(float64, randn):
    rnn = float64(mp.nn.RNN(D, H))
    x, h0 = randn(B, T, D), randn(B, H, seed=2)
    outputs, last = rnn(x, h0)
    expected = numpy_rnn(rnn, x.numpy(), h0.numpy())
    assert outputs.shape == (B, T, H) and last.shape == (B, H)
    np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(last.numpy(), expected[:, -1], rtol=1e-12)


def test_rnn_equals_its_cell_applied_step_by_step(float64, randn):
    rnn = float64(mp.nn.RNN(D, H))
    x = randn(B, T, D)
    h = mp.tensor(np.zeros((B, H)), dtype="float64")
    for t in range(T):
        h = rnn.cell(x[:, t], h)
    np.testing.assert_allclose(rnn(x)[1].numpy(), h.numpy(), rtol=1e-12)


def test_input_projection_is_one_gemm_and_the_loop_one_per_step():
    """x W_x for all steps is one matrix product (parallel); h W_h is one per step (sequential)."""
    rnn = mp.nn.RNN(D, H)
    with count_gemms() as count:
        rnn(mp.tensor(np.ones((B, T, D))))
    assert count.calls == 1 + T


def test_rnn_rejects_wrong_shapes():
    rnn = mp.nn.RNN(D, H)
    with pytest.raises(ValueError, match=r"\(B, T, 3\)"):
        rnn(mp.tensor(np.ones((B, T, D + 1))))
    with pytest.raises(ValueError, match="h0 must have shape"):
        rnn(mp.tensor(np.ones((B, T, D))), mp.tensor(np.ones((B, H + 1))))
    with pytest.raises(ValueError, match="bptt_window"):
        mp.nn.RNN(D, H, bptt_window=0)


# ---- gradient checks -------------------------------------------------------------------

def test_gradcheck_rnn_cell(float64, randn):
    cell = float64(mp.nn.RNNCell(D, H))
    x, h = randn(B, D, requires_grad=True), randn(B, H, requires_grad=True, seed=2)
    assert gradcheck(lambda x, h, *params: cell(x, h), x, h, *cell.parameters())


def test_gradcheck_rnn_over_five_steps(float64, randn):
    rnn = float64(mp.nn.RNN(D, H))
    x, h0 = randn(B, T, D, requires_grad=True), randn(B, H, requires_grad=True, seed=2)
    assert gradcheck(lambda x, h0, *params: rnn(x, h0)[0], x, h0, *rnn.parameters())


def test_gradcheck_lstm_cell_and_lstm(float64, randn):
    cell = float64(mp.nn.LSTMCell(D, H))
    x, h, c = randn(B, D, requires_grad=True), randn(B, H, requires_grad=True, seed=2), randn(B, H, seed=3)
    c.requires_grad = True
    assert gradcheck(lambda x, h, c, *params: F.concatenate(cell(x, (h, c)), axis=1), x, h, c, *cell.parameters())
    lstm = float64(mp.nn.LSTM(D, H))
    xs = randn(B, 4, D, requires_grad=True)
    assert gradcheck(lambda x, *params: lstm(x)[0], xs, *lstm.parameters())


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_gradcheck_rnn_classifier(cell, float64):
    model = float64(mp.nn.RNNClassifier(vocab_size=6, d=3, hidden=4, num_classes=2, cell=cell))
    ids = np.array([[1, 2, 3, 4], [5, 0, 2, 2]])
    assert gradcheck(lambda *params: model(ids), *model.parameters())


def test_gradcheck_rnn_language_model(float64):
    model = float64(mp.nn.RNNLanguageModel(vocab_size=5, d=3, hidden=4))
    ids = np.array([[1, 2, 3, 4], [4, 0, 2, 2]])
    logits = model(ids)
    assert logits.shape == (2, 4, 5)
    assert gradcheck(lambda *params: F.cross_entropy(model(ids)[:, :-1], ids[:, 1:]), *model.parameters())


def test_language_model_reads_only_the_past():
    """Changing the token at step 3 leaves the logits at steps 0..2 unchanged."""
    model = mp.nn.RNNLanguageModel(vocab_size=5, d=3, hidden=4)
    a, b = np.array([[1, 2, 3, 4, 0]]), np.array([[1, 2, 3, 0, 0]])
    np.testing.assert_array_equal(model(a).numpy()[:, :3], model(b).numpy()[:, :3])
    assert not np.allclose(model(a).numpy()[:, 3], model(b).numpy()[:, 3])


# ---- truncated backprop through time ---------------------------------------------------

@pytest.mark.parametrize("model", [mp.nn.RNN, mp.nn.LSTM])
def test_truncated_bptt_gives_zero_gradient_beyond_the_window(model, float64, randn):
    k, steps = 2, 6
    rnn = float64(model(D, H, bptt_window=k))
    x = randn(B, steps, D, requires_grad=True)
    _, last = rnn(x)
    h = last[0] if isinstance(last, tuple) else last
    h.sum().backward()  # a loss on the last step only
    norms = np.abs(x.grad).sum(axis=(0, 2))  # (T,) gradient reaching each input step
    assert np.all(norms[:steps - k] == 0.0), norms
    assert np.all(norms[steps - k:] > 0.0), norms


def test_truncated_bptt_equals_a_fresh_run_over_the_last_window(float64, randn):
    """Past the last cut, the gradient is that of an RNN started from the (constant) state there."""
    k, steps = 3, 6
    rnn = float64(mp.nn.RNN(D, H, bptt_window=k))
    x = randn(B, steps, D, requires_grad=True)
    outputs, last = rnn(x)
    last.sum().backward()
    grads = [p.grad.copy() for p in rnn.parameters()]
    rnn.zero_grad()
    start = outputs.numpy()[:, steps - k - 1]  # the state carried across the cut
    rnn.bptt_window = None
    tail = mp.tensor(x.numpy()[:, steps - k:], requires_grad=True, dtype="float64")
    rnn(tail, mp.tensor(start, dtype="float64"))[1].sum().backward()
    for g, p in zip(grads, rnn.parameters()):
        np.testing.assert_allclose(g, p.grad, rtol=1e-12)
    np.testing.assert_allclose(x.grad[:, steps - k:], tail.grad, rtol=1e-12)


def test_without_a_window_every_step_gets_gradient(float64, randn):
    rnn = float64(mp.nn.RNN(D, H))
    x = randn(B, T, D, requires_grad=True)
    rnn(x)[1].sum().backward()
    assert np.all(np.abs(x.grad).sum(axis=(0, 2)) > 0)


def test_step_states_hold_dloss_dh_for_each_step(float64, randn):
    """dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) @ W_h^T: the product that makes gradients vanish."""
    rnn = float64(mp.nn.RNN(D, H))
    x = randn(B, T, D)
    _, last, states = rnn(x, return_step_states=True)
    (last * randn(B, H, seed=5)).sum().backward()
    W_h = rnn.cell.hidden_weight.numpy()
    for t in range(T - 1, 0, -1):
        h_t = states[t].numpy()
        expected = (states[t].grad * (1 - h_t ** 2)) @ W_h.T
        np.testing.assert_allclose(states[t - 1].grad, expected, rtol=1e-10)


def test_classifier_returns_step_states_and_reads_each_row_at_its_last_real_token():
    model = mp.nn.RNNClassifier(vocab_size=6, d=3, hidden=4, num_classes=2)
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 1, 2, 3]])
    mask = np.array([[True, True, True, False, False], [True] * 5])
    logits, states = model(ids, mask=mask, return_step_states=True)
    assert len(states) == 5 and logits.shape == (2, 2)
    np.testing.assert_allclose(logits.numpy()[0], model(ids[:1, :3]).numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(logits.numpy()[1], model(ids[1:]).numpy()[0], rtol=1e-6)
    with pytest.raises(ValueError, match="mask"):
        model(ids, mask=mask[:, :3])


def test_no_grad_records_nothing():
    rnn = mp.nn.RNN(D, H)
    with mp.no_grad():
        outputs, last = rnn(mp.tensor(np.ones((B, T, D))))
    assert not outputs.requires_grad and last.is_leaf
