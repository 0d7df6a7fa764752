"""Every op's backward, checked against the slope measured by central differences.

How ``mp.gradcheck(fn, *inputs)`` works: it runs ``fn`` once and contracts the output
with a fixed random tensor r, f = sum(fn(inputs) * r), so that every entry of the
Jacobian takes part. backward() gives df/dx for each input with requires_grad; then each
entry x_i is nudged by +eps and -eps and the measured slope
(f(x + eps e_i) - f(x - eps e_i)) / (2 eps) must agree with it. Everything runs in
float64 (float32 rounding divided by a small eps would swamp the comparison).

Each test below names one op and the shapes it sees; ``leaf`` makes the inputs.
Broadcasting cases check that backward sums the gradient over the stretched axes, and
the "used twice" cases check that gradients from two paths add up.
"""
import re

import numpy as np
import pytest

import minipeft as mp
from minipeft.autograd import Function, GradcheckError


def leaf(*shape, seed=0, positive=False, away_from_zero=False, requires_grad=True, name=None):
    """A float64 leaf tensor of random values (optionally > 0.5, or with |x| > 0.1)."""
    data = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    if away_from_zero:  # for relu: central differences must not straddle the kink at 0
        data = np.sign(data) * (np.abs(data) + 0.1)
    return mp.tensor(data, requires_grad=requires_grad, dtype="float64", name=name)


def check(fn, *inputs, **tolerances):
    assert mp.gradcheck(fn, *inputs, **tolerances)


# ---- binary elementwise ops, with broadcasting -------------------------------------------
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
# (shape of a, shape of b): the second operand is broadcast in different ways
BROADCAST_SHAPES = [
    ((2, 3), (2, 3)),       # same shape: no broadcasting
    ((2, 3), (3,)),         # a row vector added to every row
    ((2, 1), (1, 3)),       # both stretched: an outer sum / product
    ((3,), (2, 3)),         # the first operand is the broadcast one
    ((4, 1, 3), (2, 1)),    # a missing leading axis and a size-1 axis at once
    ((2, 3), ()),           # a 0-d tensor (a scalar that wants a gradient)
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=lambda s: f"{s[0]}-{s[1]}".replace(" ", ""))
@pytest.mark.parametrize("op", list(BINARY), ids=str)
def test_binary_op_with_broadcasting(op, shapes):
    # dL/db is dL/dz summed over every axis along which b was stretched
    a = leaf(*shapes[0], seed=1)
    b = leaf(*shapes[1], seed=2, positive=(op == "div"))  # divide by numbers away from 0
    check(BINARY[op], a, b)


def test_broadcast_gradient_is_summed_over_the_stretched_axis():
    # z[i, j] = x[i, j] + b[j]: each b[j] is used by every row, so dL/db[j] = sum_i dL/dz[i, j]
    x = leaf(2, 3)
    b = leaf(3, seed=1)
    (x + b).sum().backward()
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))


@pytest.mark.parametrize("fn", [
    pytest.param(lambda x: x + 3, id="x+3"),
    pytest.param(lambda x: 3 + x, id="3+x"),
    pytest.param(lambda x: x - 1.5, id="x-1.5"),
    pytest.param(lambda x: 2 - x, id="2-x"),
    pytest.param(lambda x: x * 2.5, id="x*2.5"),
    pytest.param(lambda x: 2 * x, id="2*x"),
    pytest.param(lambda x: x / 4, id="x/4"),
    pytest.param(lambda x: 1 / x, id="1/x"),
    pytest.param(lambda x: np.full(3, 2.0) * x, id="ndarray*x"),
    pytest.param(lambda x: x - np.arange(3.0), id="x-ndarray"),
])
def test_python_numbers_and_arrays_as_operands(fn):
    # a plain number or array is a constant: only x gets a gradient (1/x: d/dx = -1/x^2)
    check(fn, leaf(2, 3, positive=True))


def test_number_on_the_left_gives_the_right_sign():
    x = leaf(3)
    (2 - x).sum().backward()                              # d(2 - x)/dx = -1
    np.testing.assert_array_equal(x.grad, -np.ones(3))
    x.grad = None
    (1 / x).sum().backward()                              # d(1/x)/dx = -1/x^2
    np.testing.assert_allclose(x.grad, -1 / x.numpy() ** 2)


def test_neg():
    check(lambda x: -x, leaf(2, 3))


@pytest.mark.parametrize("exponent", [2, 3, 1, 0, -1, 0.5, -1.5, 1 / 3],
                         ids=lambda p: f"p={p:.3g}")
def test_pow_with_a_constant_exponent(exponent):
    # d(x^p)/dx = p x^(p-1); negative and fractional p on positive x only
    check(lambda x: x ** exponent, leaf(2, 3, positive=True))


def test_pow_of_negative_numbers_with_an_integer_exponent():
    check(lambda x: x ** 3, leaf(2, 3))


# ---- unary elementwise ops -------------------------------------------------------------
UNARY = [
    pytest.param(mp.exp, {}, id="exp"),
    pytest.param(mp.log, {"positive": True}, id="log"),
    pytest.param(mp.tanh, {}, id="tanh"),
    pytest.param(mp.sigmoid, {}, id="sigmoid"),
    pytest.param(mp.relu, {"away_from_zero": True}, id="relu"),
    pytest.param(mp.gelu, {}, id="gelu"),
    pytest.param(lambda x: x.exp(), {}, id="method-exp"),
    pytest.param(lambda x: x.relu(), {"away_from_zero": True}, id="method-relu"),
]


@pytest.mark.parametrize("fn, kind", UNARY)
def test_unary_op(fn, kind):
    check(fn, leaf(3, 4, **kind))


def test_sigmoid_does_not_overflow_for_large_inputs():
    x = mp.tensor([-1000.0, 0.0, 1000.0], requires_grad=True, dtype="float64")
    y = mp.sigmoid(x)
    np.testing.assert_allclose(y.numpy(), [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.25, 0.0])  # sigma (1 - sigma)


def test_relu_passes_gradient_only_where_the_input_was_positive():
    x = mp.tensor([-2.0, -0.5, 0.5, 3.0], requires_grad=True, dtype="float64")
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 1.0])


def test_astype_returns_the_gradient_in_the_input_dtype():
    x = leaf(3)
    x.astype("float32").sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, np.ones(3))


# ---- matrix products --------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),          # matrix @ matrix
    ((2, 3, 4), (2, 4, 5)),    # a batch of matrices @ a batch of matrices
    ((2, 3, 4), (4, 5)),       # a batch @ one shared weight (the weight's gradient sums the batch)
    ((3, 4), (2, 4, 5)),       # one matrix @ a batch
    ((2, 1, 3, 4), (5, 4, 2)),  # batch axes (2, 1) and (5,) broadcast to (2, 5)
    ((4,), (4, 5)),            # vector @ matrix  (a row vector)
    ((3, 4), (4,)),            # matrix @ vector  (a column vector)
    ((2, 3, 4), (4,)),         # batch @ vector
    ((4,), (2, 4, 5)),         # vector @ batch
    ((4,), (4,)),              # vector @ vector: a dot product, a 0-d result
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}@{s[1]}".replace(" ", ""))
def test_matmul(shapes):
    # dL/da = dL/dz @ b^T,  dL/db = a^T @ dL/dz  (summed over broadcast batch axes)
    a, b = leaf(*shapes[0], seed=1), leaf(*shapes[1], seed=2)
    check(lambda a, b: a @ b, a, b)


def test_matmul_with_a_frozen_weight_checks_only_the_input():
    x, w = leaf(3, 4, seed=1), leaf(4, 5, seed=2, requires_grad=False)
    check(mp.matmul, x, w)
    assert w.grad is None


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)], ids=["2-D", "3-D", "1-D"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
def test_linear(x_shape, with_bias):
    # z = x @ W + b;  dW = x^T dz (all rows of all sequences),  db = dz summed over rows
    x, w = leaf(*x_shape, seed=1), leaf(4, 5, seed=2)
    if with_bias:
        check(mp.linear, x, w, leaf(5, seed=3))
    else:
        check(lambda x, w: mp.linear(x, w), x, w)


def test_linear_equals_matmul_plus_bias():
    x, w, b = leaf(2, 3, 4, seed=1), leaf(4, 5, seed=2), leaf(5, seed=3)
    np.testing.assert_allclose(mp.linear(x, w, b).numpy(), (x @ w + b).numpy(), rtol=1e-12)


# ---- reductions ---------------------------------------------------------------------------
REDUCE_AXES = [
    pytest.param(None, False, id="all"),
    pytest.param(None, True, id="all-keepdims"),
    pytest.param(0, False, id="axis0"),
    pytest.param(1, True, id="axis1-keepdims"),
    pytest.param(-1, False, id="axis-1"),
    pytest.param((0, 2), False, id="axes0,2"),
    pytest.param((-1, 0), True, id="axes-1,0-keepdims"),
]


@pytest.mark.parametrize("axis, keepdims", REDUCE_AXES)
@pytest.mark.parametrize("op", ["sum", "mean", "max"])
def test_reduction(op, axis, keepdims):
    # sum: copy the gradient to every summed entry; mean: divide it by their number;
    # max: send it only to the winner (random data: no ties)
    x = leaf(2, 3, 4)
    check(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), x)


def test_reductions_as_functions():
    x = leaf(2, 3)
    check(lambda x: mp.sum(x, axis=1) + mp.mean(x, axis=1) + mp.max(x, axis=1), x)


def test_max_shares_the_gradient_between_tied_entries():
    # two entries tie for the maximum: each gets half (the slope measured from either side)
    x = mp.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]], requires_grad=True, dtype="float64")
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    check(lambda x: x.max(axis=1), x)


def test_mean_divides_by_the_number_of_entries_averaged():
    x = leaf(2, 3, 4)
    x.mean(axis=(0, 2)).sum().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 3, 4), 1 / 8))


# ---- shape ops ----------------------------------------------------------------------------
SHAPE_OPS = [
    pytest.param(lambda x: x.reshape(6, 4), id="reshape(6,4)"),
    pytest.param(lambda x: x.reshape((4, -1)), id="reshape((4,-1))"),
    pytest.param(lambda x: mp.reshape(x, 24), id="reshape(24)"),
    pytest.param(lambda x: x.transpose(), id="transpose-last-two"),
    pytest.param(lambda x: x.transpose(0, 2), id="transpose(0,2)"),
    pytest.param(lambda x: mp.transpose(x, -3, -1), id="transpose(-3,-1)"),
    pytest.param(lambda x: x.T, id="T"),
    pytest.param(lambda x: x.permute(2, 0, 1), id="permute(2,0,1)"),
    pytest.param(lambda x: mp.permute(x, (-1, 0, 1)), id="permute((-1,0,1))"),
]


@pytest.mark.parametrize("fn", SHAPE_OPS)
def test_shape_op(fn):
    # every entry moves, none changes: backward moves each gradient entry back
    check(fn, leaf(2, 3, 4))


GETITEM = [
    pytest.param(lambda x: x[1:3], id="slice"),
    pytest.param(lambda x: x[:, ::2], id="strided-slice"),
    pytest.param(lambda x: x[0], id="int"),
    pytest.param(lambda x: x[-1, 1:], id="tuple(int,slice)"),
    pytest.param(lambda x: x[..., 1], id="ellipsis"),
    pytest.param(lambda x: x[[0, 2, 0, 0]], id="repeated-rows"),
    pytest.param(lambda x: x[np.array([[0, 1], [3, 3]])], id="2-D-ids"),
    pytest.param(lambda x: x[mp.tensor([2, 2, 1])], id="tensor-ids"),
    pytest.param(lambda x: x[[0, 0, 1], [1, 1, 2]], id="tuple-of-arrays-repeated"),
    pytest.param(lambda x: x[[3, 3], 1:], id="tuple(array,slice)"),
]


@pytest.mark.parametrize("fn", GETITEM)
def test_getitem(fn):
    check(fn, leaf(4, 3))


def test_embedding_lookup_of_the_same_word_twice_adds_both_gradients():
    # a table of 5 word vectors; the sentence uses word 2 twice: its row receives both gradients
    table = leaf(5, 3)
    ids = mp.tensor([2, 4, 2])
    upstream = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [100.0, 200.0, 300.0]])
    table[ids].backward(upstream)
    expected = np.zeros((5, 3))
    expected[2] = upstream[0] + upstream[2]
    expected[4] = upstream[1]
    np.testing.assert_array_equal(table.grad, expected)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    a, b, c = leaf(2, 3, seed=1), leaf(2, 3, seed=2), leaf(2, 3, seed=3)
    check(lambda a, b, c: mp.concatenate([a, b, c], axis=axis), a, b, c)


def test_concatenate_with_a_frozen_piece():
    a, b = leaf(2, 3, seed=1), leaf(4, 3, seed=2, requires_grad=False)
    check(lambda a, b: mp.concatenate([b, a, b]), a, b)
    assert b.grad is None


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(axis):
    a, b, c = leaf(2, 3, seed=1), leaf(2, 3, seed=2), leaf(2, 3, seed=3)
    check(lambda a, b, c: mp.stack([a, b, c], axis=axis), a, b, c)


@pytest.mark.parametrize("sections, axis", [(2, 0), ([1, 2, 1], 1), ([3, 1], -1)],
                         ids=["2-equal-axis0", "sizes-axis1", "sizes-axis-1"])
def test_split(sections, axis):
    def fn(x):
        # weight each piece differently so that a gradient sent to the wrong piece is caught
        parts = mp.split(x, sections, axis=axis)
        return mp.concatenate([p.reshape(-1) * (i + 1) for i, p in enumerate(parts)])
    check(fn, leaf(4, 4))


def test_where_and_masked_fill():
    cond = leaf(2, 3, seed=9).numpy() > 0
    a, b = leaf(2, 3, seed=1), leaf(2, 3, seed=2)
    check(lambda a, b: mp.where(cond, a, b), a, b)                      # same shapes
    check(lambda a, b: mp.where(mp.tensor(cond), a, b), leaf(3, seed=3), leaf(seed=4))  # broadcast
    check(lambda a: mp.where(cond, a, 0.0), a)                           # a number on one side
    check(lambda a: a.masked_fill(cond, -5.0), a)
    # a (1, 3) mask broadcast over rows (a fill value like 1e9 would swamp the central differences)
    check(lambda a: mp.masked_fill(a, np.array([[True, False, True]]), 100.0), a)


def test_masked_entries_get_no_gradient():
    x = leaf(2, 3)
    mask = np.array([[True, False, False], [False, False, True]])
    x.masked_fill(mask, -1e9).sum().backward()
    np.testing.assert_array_equal(x.grad, (~mask).astype(float))


# ---- fused ops ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(op, shape):
    # softmax: dx = y (dy - sum(dy y));  log_softmax: dx = dy - softmax(x) sum(dy)
    check(getattr(mp, op), leaf(*shape))


def test_cross_entropy():
    logits, targets = leaf(4, 5), mp.tensor([1, 0, 4, 2])
    check(lambda z: mp.cross_entropy(z, targets), logits)


def test_cross_entropy_ignores_rows_whose_target_is_ignore_index():
    # rows 1 and 3 are padding: they add nothing to the loss, which is the mean over rows 0 and 2
    logits = leaf(4, 5)
    targets = np.array([1, -100, 3, -100])
    check(lambda z: mp.cross_entropy(z, targets), logits)
    loss = mp.cross_entropy(logits, targets)
    z = logits.numpy()
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss.item(), -(log_probs[0, 1] + log_probs[2, 3]) / 2)
    loss.backward()
    np.testing.assert_array_equal(logits.grad[[1, 3]], 0.0)


def test_cross_entropy_on_3d_logits_with_a_custom_ignore_index():
    # (batch, time, classes) logits against (batch, time) targets; class 0 marks padding here
    logits, targets = leaf(2, 3, 4), mp.tensor([[1, 2, 0], [3, 0, 0]])
    check(lambda z: mp.cross_entropy(z, targets, ignore_index=0), logits)


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4)], ids=["2-D", "3-D"])
def test_layer_norm_all_three_inputs(x_shape):
    # dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma;  dgamma = sum dy xhat;  dbeta = sum dy
    x, gamma, beta = leaf(*x_shape, seed=1), leaf(4, seed=2), leaf(4, seed=3)
    check(mp.layer_norm, x, gamma, beta)


def test_layer_norm_with_frozen_gamma_and_beta():
    x = leaf(3, 4, seed=1)
    gamma, beta = leaf(4, seed=2, requires_grad=False), leaf(4, seed=3, requires_grad=False)
    check(mp.layer_norm, x, gamma, beta)


# ---- dropout ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fresh_seed_afterwards():
    yield
    mp.manual_seed(0)  # the dropout tests reseed; leave the generators as a new session finds them


def test_dropout_gradcheck_with_a_fixed_mask():
    def fn(x):
        mp.manual_seed(0)  # the same mask on every call, so the function is deterministic
        return mp.dropout(x, p=0.3)
    check(fn, leaf(4, 5))


def test_dropout_gradient_is_the_mask_scaled_by_one_over_keep():
    mp.manual_seed(1)
    x = leaf(50, 40)
    y = mp.dropout(x, p=0.25)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad[kept], 1 / 0.75)   # kept entries: scaled by 1 / (1 - p)
    np.testing.assert_array_equal(x.grad[~kept], 0.0)   # dropped entries: no gradient
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.75)


def test_dropout_keeps_about_one_minus_p_and_preserves_the_expectation():
    mp.manual_seed(2)
    p = 0.3
    ones = mp.tensor(np.ones(200_000), dtype="float64")
    y = mp.dropout(ones, p=p).numpy()
    assert abs((y != 0).mean() - (1 - p)) < 0.005   # the kept fraction is ~1 - p
    assert abs(y.mean() - 1.0) < 0.01               # E[y] = x: scaling by 1/(1-p) makes up for the zeros


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = leaf(3, 4)
    assert mp.dropout(x, p=0.5, training=False) is x
    assert mp.dropout(x, p=0.0) is x


def test_dropout_with_the_same_seed_draws_the_same_mask():
    x = leaf(6, 7)
    mp.manual_seed(5)
    first = mp.dropout(x, p=0.5).numpy()
    mp.manual_seed(5)
    np.testing.assert_array_equal(mp.dropout(x, p=0.5).numpy(), first)


# ---- a tensor used twice: gradients from both paths add up ---------------------------------
def test_tensor_used_twice_in_one_op():
    x = leaf(3)
    (x * x).sum().backward()                  # d(x^2)/dx = x + x = 2x: one term per use
    np.testing.assert_allclose(x.grad, 2 * x.numpy())
    x.grad = None
    (x + x).sum().backward()                  # 1 + 1
    np.testing.assert_array_equal(x.grad, np.full(3, 2.0))
    check(lambda x: x * x, x)
    check(lambda x: x + x, x)
    check(lambda x: x @ x, x)                 # a dot product of x with itself: 2x


def test_diamond_graph():
    # x feeds two branches that meet again: y = (2x) * e^x.  dy/dx = 2 e^x + 2x e^x
    x = leaf(4)
    y = (x * 2) * x.exp()
    y.sum().backward()
    e = np.exp(x.numpy())
    np.testing.assert_allclose(x.grad, 2 * e + 2 * x.numpy() * e)
    check(lambda x: (x * 2) * x.exp(), x)


def test_shared_intermediate_used_by_three_ops():
    # h is computed once and used three times; its gradient is the sum of the three paths
    def fn(x, w):
        h = (x @ w).tanh()
        return h.sum(axis=0) + (h * h).mean(axis=0) - h.max(axis=0)
    check(fn, leaf(3, 4, seed=1), leaf(4, 2, seed=2))


# ---- gradcheck itself can fail --------------------------------------------------------------
class SquareForgetsTheTwo(Function):
    """z = a^2, with a WRONG backward: it returns dz * a instead of dz * 2a."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return a * a

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.a  # the bug: d(a^2)/da is 2a


class MulWrongSecondGradient(Function):
    """z = a * b, with dz/da right and dz/db WRONG (it returns grad * b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.b, grad * ctx.b  # the bug: dL/db should be grad * a


def test_gradcheck_catches_a_backward_that_forgets_a_factor():
    x = mp.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype="float64", name="x")
    with pytest.raises(GradcheckError, match=r"input 0 \(x\) of shape \(3,\).*at entry \(\d,\)"
                                             r".*backward gave .* numeric"):
        mp.gradcheck(SquareForgetsTheTwo.apply, x)


def test_gradcheck_names_the_input_whose_gradient_is_wrong():
    a, b = leaf(2, 2, seed=1), leaf(2, 2, seed=2)
    with pytest.raises(GradcheckError, match=r"input 1 of shape \(2, 2\).*at entry \(\d, \d\)"):
        mp.gradcheck(MulWrongSecondGradient.apply, a, b)


def test_gradcheck_points_at_the_worst_entry():
    # backward gives a instead of 2a, so it is off by |a|, most of all where |a| is largest: entry 2
    x = mp.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype="float64")
    with pytest.raises(GradcheckError) as info:
        mp.gradcheck(lambda x: SquareForgetsTheTwo.apply(x).sum(), x)
    message = str(info.value)
    assert "at entry (2,)" in message
    assert "3 of 3 entries fail" in message
    # f = sum(x^2) * r for a random number r: backward's slope is exactly half the measured one
    gave, numeric = map(float, re.search(r"backward gave (\S+), numeric (\S+) ", message).groups())
    assert gave == pytest.approx(numeric / 2, rel=1e-4)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input has requires_grad=True"):
        mp.gradcheck(lambda x: x * 2, leaf(3, requires_grad=False))


def test_unbind_slices_and_gathers_gradients_into_one_array():
    """unbind(x, axis=1) gives the T time steps; their gradients come back to x in one array."""
    x = mp.tensor(np.random.default_rng(0).standard_normal((2, 4, 3)), dtype="float64", requires_grad=True)
    steps = mp.unbind(x, axis=1)
    assert len(steps) == 4 and all(s.shape == (2, 3) for s in steps)
    np.testing.assert_array_equal(steps[2].numpy(), x.numpy()[:, 2])
    # weight each step differently and skip some, so a wrong slot or a missed step shows
    assert mp.gradcheck(lambda x: mp.stack([s * (t + 1.0) for t, s in enumerate(mp.unbind(x, axis=1))][::2]), x)
