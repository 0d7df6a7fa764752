"""How ``backward()`` walks the graph: ordering, accumulation, freeing, and what it skips.

The engine visits tensors in topological order (each before the tensors it was made
from), adds every gradient into the inputs' gradients, keeps ``.grad`` on leaves only
(unless retain_grad()), and frees each node once used. A frozen input
(requires_grad=False) costs nothing in backward: no gradient, no weight-gradient
matrix product, no activation kept for it. ``count_gemms`` counts the matrix products.
"""
import numpy as np
import pytest

import minipeft as mp
from minipeft.autograd import topological_order
from minipeft.kernels.matmul import count_gemms


def leaf(*shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return mp.tensor(data, requires_grad=requires_grad, dtype="float64")


# ---- depth and order ------------------------------------------------------------------------
def test_a_10000_step_chain_needs_no_recursion():
    # y = x * c * c * ... * c (10,000 times): dy/dx = c^10000. An unrolled RNN is this deep;
    # a recursive graph walk would hit Python's recursion limit (1000) long before.
    x = mp.tensor(2.0, requires_grad=True, dtype="float64")
    c = 1.0001
    y = x
    for _ in range(10_000):
        y = y * c
    y.backward()
    assert y.item() == pytest.approx(2.0 * c ** 10_000, rel=1e-9)
    assert x.grad == pytest.approx(c ** 10_000, rel=1e-9)


def test_topological_order_puts_each_tensor_before_its_inputs():
    # a diamond: a = 2x, b = e^x, y = a * b. y first, x last, a and b in between.
    x = leaf(3)
    a, b = x * 2, x.exp()
    y = (a * b).sum()
    order = topological_order(y)
    position = {id(t): i for i, t in enumerate(order)}
    assert order[0] is y and order[-1] is x
    assert len(order) == 5  # y, a * b, a, b, x
    for t in order:
        for parent in (t._node.inputs if t._node else ()):
            if parent is not None:
                assert position[id(t)] < position[id(parent)]


# ---- freeing the graph --------------------------------------------------------------------
def test_backward_frees_the_graph_and_a_second_backward_says_retain_graph():
    x = leaf(3)
    loss = (x.tanh() * x).sum()
    nodes = [t._node for t in topological_order(loss) if t._node is not None]
    assert len(nodes) == 3 and not any(node.freed for node in nodes)
    loss.backward()
    assert all(node.ctx is None and node.inputs is None for node in nodes)  # activations released
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_and_gradients_add_up():
    x = leaf(3)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    once = x.grad.copy()
    np.testing.assert_allclose(once, 2 * x.numpy())
    loss.backward()  # through the same graph again: x.grad += 2x
    np.testing.assert_allclose(x.grad, 2 * once)
    with pytest.raises(RuntimeError, match="already been freed"):
        loss.backward()  # the second backward did not say retain_graph, so now it is gone


def test_leaf_gradients_accumulate_across_separate_backward_calls():
    # gradient accumulation over two mini-batches: nothing resets .grad in between
    w = leaf(3)
    (w * 3).sum().backward()
    (w * 4).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full(3, 7.0))
    w.grad = None  # what an optimizer's zero_grad() does
    (w * 4).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full(3, 4.0))


def test_two_leaves_never_share_one_gradient_array():
    # Add passes the same incoming gradient to both inputs; each leaf must still own its .grad,
    # or an in-place update of one (gradient clipping) would silently change the other
    x, y = leaf(3, seed=1), leaf(3, seed=2)
    c = mp.tensor([1.0, 2.0, 3.0], dtype="float64")
    ((x + y) * c).sum().backward()
    assert x.grad is not y.grad
    x.grad *= 0.0
    np.testing.assert_array_equal(y.grad, [1.0, 2.0, 3.0])
    g = np.ones(3)
    z, w = leaf(3, seed=3), leaf(3, seed=4)
    (z + w).backward(g)
    assert z.grad is not g  # nor the gradient array the caller passed in


# ---- what backward refuses -----------------------------------------------------------------
def test_backward_on_a_non_scalar_needs_a_gradient_and_names_the_shape():
    y = leaf(2, 3) * 2
    with pytest.raises(RuntimeError, match=r"single number.*shape \(2, 3\).*\.sum\(\)"):
        y.backward()


def test_backward_with_an_explicit_gradient():
    x = leaf(2, 3)
    y = x * 2
    y.backward(np.arange(6.0).reshape(2, 3))  # dL/dy given: dL/dx = 2 dL/dy
    np.testing.assert_array_equal(x.grad, 2 * np.arange(6.0).reshape(2, 3))


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = leaf(2, 3) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected the tensor's shape \(2, 3\)"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad():
    y = (leaf(3, requires_grad=False) * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


# ---- no_grad, detach, retain_grad ----------------------------------------------------------
def test_no_grad_records_nothing():
    x = leaf(3)
    with mp.no_grad():
        y = (x * 2).exp()
        assert not mp.autograd.is_grad_enabled()
    assert not y.requires_grad and y._node is None and y.is_leaf
    assert mp.autograd.is_grad_enabled()  # restored on exit
    z = x * 2
    assert z.requires_grad and z._node is not None


def test_no_grad_as_a_decorator_and_enable_grad_inside_it():
    x = leaf(3)

    @mp.no_grad()
    def evaluate(t):
        return t * 2

    @mp.enable_grad()
    def train_step(t):
        return t * 2

    assert not evaluate(x).requires_grad
    assert evaluate.__name__ == "evaluate"
    with mp.no_grad():
        assert train_step(x).requires_grad  # enable_grad switches recording back on
        with mp.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with mp.no_grad():
            1 / 0
    assert mp.autograd.is_grad_enabled()


def test_detach_stops_the_gradient():
    # z = detach(2x) * 3 + x: the first path is a constant, so dz/dx = 1, not 7
    x = leaf(3)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), y.numpy())
    (d * 3 + x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf(3)
    h = x * 2
    h.retain_grad()
    g = x * 3  # another intermediate, not retained
    (h * h + g).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.numpy())          # d(h^2)/dh = 2h
    np.testing.assert_allclose(x.grad, 2 * 2 * h.numpy() + 3)  # chain rule: dh/dx = 2, plus 3
    assert g.grad is None  # intermediates drop their gradient unless asked to keep it


def test_frozen_inputs_receive_no_gradient():
    x, w, b = leaf(4, 3, seed=1), leaf(3, 2, seed=2, requires_grad=False), leaf(2, seed=3)
    gamma, beta = leaf(2, seed=4, requires_grad=False), leaf(2, seed=5, requires_grad=False)
    loss = mp.layer_norm((x @ w + b).tanh(), gamma, beta).sum()
    loss.backward()
    assert x.grad is not None and b.grad is not None
    assert w.grad is None and gamma.grad is None and beta.grad is None


# ---- a frozen weight costs no weight-gradient product -------------------------------------------
LINEAR_CASES = [  # (x requires grad, W requires grad, GEMMs for forward + backward)
    pytest.param(True, True, 3, id="both-train:fwd+dx+dW"),
    pytest.param(True, False, 2, id="frozen-W:fwd+dx"),
    pytest.param(False, True, 2, id="frozen-x:fwd+dW"),
    pytest.param(False, False, 1, id="both-frozen:fwd-only"),
]


@pytest.mark.parametrize("x_grad, w_grad, gemms", LINEAR_CASES)
@pytest.mark.parametrize("op", ["linear", "matmul"])
def test_gemm_count_depends_on_what_wants_a_gradient(op, x_grad, w_grad, gemms):
    # forward: z = x W (1 GEMM);  backward: dx = dz W^T (1 GEMM, if x wants it), dW = x^T dz (1, if W does)
    x = leaf(2, 5, 4, seed=1, requires_grad=x_grad)  # (batch, tokens, in): folded into one GEMM per product
    w = leaf(4, 3, seed=2, requires_grad=w_grad)
    b = leaf(3, seed=3, requires_grad=False)
    with count_gemms() as count:
        out = mp.linear(x, w, b) if op == "linear" else x @ w
        if out.requires_grad:
            out.sum().backward()
    assert count.calls == gemms
    assert count.flops == gemms * 2 * 10 * 4 * 3  # each product: 2 * (10 rows) * (4 in) * (3 out)
    assert out.requires_grad == (x_grad or w_grad)
    assert (w.grad is not None) == w_grad and (x.grad is not None) == x_grad


def test_a_trainable_bias_alone_needs_no_gemm_in_backward():
    x, w, b = leaf(6, 4, seed=1, requires_grad=False), leaf(4, 3, seed=2, requires_grad=False), leaf(3)
    with count_gemms() as count:
        mp.linear(x, w, b).sum().backward()
    assert count.calls == 1
    np.testing.assert_array_equal(b.grad, np.full(3, 6.0))


def test_a_frozen_weight_keeps_no_activation_for_its_gradient():
    # Linear keeps x's rows only to compute dW = x^T dz, and W only to compute dx = dz W^T
    x, w_frozen = leaf(5, 4, seed=1), leaf(4, 3, seed=2, requires_grad=False)
    ctx = mp.linear(x, w_frozen)._node.ctx
    assert ctx.needs_input_grad == (True, False, False)
    assert ctx.rows is None and ctx.weight is not None

    x_frozen, w = leaf(5, 4, seed=1, requires_grad=False), leaf(4, 3, seed=2)
    ctx = mp.linear(x_frozen, w)._node.ctx
    assert ctx.rows is not None and ctx.weight is None

    ctx = (x @ w_frozen)._node.ctx  # matmul: a kept only for db, b only for da
    assert ctx.a is None and ctx.b is not None
    ctx = (x * w_frozen[0, 0])._node.ctx  # mul keeps the input only the other gradient needs
    assert ctx.a is None and ctx.b is not None

    assert mp.linear(x_frozen, w_frozen)._node is None  # nothing wants a gradient: no node at all
