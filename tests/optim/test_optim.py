"""Optimizers against hand-written NumPy formulas, frozen parameters, clipping and the schedule."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.adam import adam_step
from minipeft.optim import SGD, Adam, AdamW, LinearWarmupDecay, clip_grad_norm, linear_warmup_decay

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.5, 0.0, 0.7])]
START = np.array([1.0, -2.0, 0.5])


def param(values=START):
    return mp.nn.Parameter(mp.tensor(values.copy(), dtype="float64"))  # tensor() may share the array


def run(optimizer_class, steps=3, **options):
    """Apply `steps` updates with the fixed gradients GRADS; return the parameter values."""
    p = param()
    optimizer = optimizer_class([p], **options)
    for grad in GRADS[:steps]:
        p.grad = grad.copy()
        optimizer.step()
    return p.data


# ---- each rule against its formula ---------------------------------------------------

def test_sgd_plain_and_with_weight_decay():
    p, expected = run(SGD, lr=0.1, weight_decay=0.01), START.copy()
    for g in GRADS:
        expected = expected - 0.1 * (g + 0.01 * expected)
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_sgd_momentum():
    p, expected, buffer = run(SGD, lr=0.1, momentum=0.9), START.copy(), None
    for g in GRADS:
        buffer = g if buffer is None else 0.9 * buffer + g
        expected = expected - 0.1 * buffer
    np.testing.assert_allclose(p, expected, rtol=1e-12)


def numpy_adam(lr, b1, b2, eps, wd, decoupled):
    p, m, v = START.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        if not decoupled:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        if decoupled:
            p = p - lr * wd * p
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_matches_the_formula_with_bias_correction(wd):
    p = run(Adam, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=wd)
    np.testing.assert_allclose(p, numpy_adam(0.01, 0.8, 0.9, 1e-6, wd, decoupled=False), rtol=1e-12)


def test_first_adam_step_moves_each_weight_by_about_lr():
    """Bias correction makes step 1 exactly lr * g / (|g| + eps): a move of lr in the sign of g."""
    p = run(Adam, steps=1, lr=0.01)
    np.testing.assert_allclose(START - p, 0.01 * np.sign(GRADS[0]), rtol=1e-6)


def test_adamw_matches_the_formula_and_differs_from_adam_with_l2():
    adamw = run(AdamW, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    np.testing.assert_allclose(adamw, numpy_adam(0.01, 0.8, 0.9, 1e-6, 0.1, decoupled=True), rtol=1e-12)
    adam_l2 = run(Adam, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    assert not np.allclose(adamw, adam_l2)


def test_adamw_decay_is_decoupled_from_the_gradient():
    """With a zero gradient Adam's L2 decay is normalised to a full lr-sized step; AdamW's is lr * wd * p."""
    for cls in (Adam, AdamW):
        p = param(np.array([2.0]))
        optimizer = cls([p], lr=0.01, weight_decay=0.1)
        p.grad = np.zeros(1)
        optimizer.step()
        shrink = 2.0 - float(p.data[0])
        expected = 0.01 if cls is Adam else 0.01 * 0.1 * 2.0
        assert shrink == pytest.approx(expected, rel=1e-6)


def test_adam_kernel_updates_in_place_and_leaves_the_gradient_alone():
    p, g = START.copy(), GRADS[0].copy()
    m, v = np.zeros(3), np.zeros(3)
    ids = id(p), id(m), id(v)
    adam_step(p, g, m, v, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, step=1, decoupled=False)
    assert (id(p), id(m), id(v)) == ids
    np.testing.assert_array_equal(g, GRADS[0])
    np.testing.assert_allclose(m, 0.1 * (GRADS[0] + 0.1 * START))


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_step_never_writes_into_the_gradient(cls):
    p = param()
    shared = GRADS[0].copy()
    p.grad = shared  # the same array might be another tensor's gradient too
    optimizer = cls([p], lr=0.1, **({"momentum": 0.9, "weight_decay": 0.1} if cls is SGD else {"weight_decay": 0.1}))
    optimizer.step()
    optimizer.step()
    np.testing.assert_array_equal(shared, GRADS[0])


# ---- which parameters are touched ------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_frozen_parameters_get_no_state_and_never_change(cls):
    model = mp.nn.Sequential(mp.nn.Linear(3, 4), mp.nn.Linear(4, 2))
    model[0].freeze()
    frozen = model[0].parameters()
    before = [p.data.copy() for p in frozen]
    optimizer = cls(model, lr=0.1, **({"momentum": 0.9} if cls is SGD else {}))
    assert len(optimizer.params) == 2
    for p in model.parameters():
        p.grad = np.ones(p.shape, dtype=np.float32)  # even a stray gradient on a frozen weight
    optimizer.step()
    for p, b in zip(frozen, before):
        assert p not in optimizer.state
        np.testing.assert_array_equal(p.data, b)
    assert all(p in optimizer.state for p in model[1].parameters())


def test_parameters_without_gradient_are_skipped():
    a, b = param(), param()
    optimizer = Adam([a, b], lr=0.1)
    a.grad = GRADS[0].copy()
    optimizer.step()
    assert a in optimizer.state and b not in optimizer.state
    np.testing.assert_array_equal(b.data, START)


def test_zero_grad_and_state_size():
    model = mp.nn.Linear(10, 5)  # 55 float32 numbers
    optimizer = Adam(model.parameters(), lr=0.1)
    assert optimizer.state_size_bytes() == 0
    for p in model.parameters():
        p.grad = np.ones(p.shape, dtype=np.float32)
    optimizer.step()
    assert optimizer.state_size_bytes() == 2 * 55 * 4  # m and v
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    sgd = SGD(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = np.ones(p.shape, dtype=np.float32)
    sgd.step()
    assert sgd.state_size_bytes() == 0  # plain SGD keeps nothing


def test_a_parameter_listed_twice_is_updated_once():
    p = param()
    optimizer = SGD([p, p], lr=0.1)
    p.grad = np.ones(3)
    optimizer.step()
    np.testing.assert_allclose(p.data, START - 0.1)


# ---- they minimise something --------------------------------------------------------------

@pytest.mark.parametrize("cls, lr", [(SGD, 0.1), (Adam, 0.05), (AdamW, 0.05)])
def test_each_optimizer_solves_linear_regression(cls, lr):
    rng = np.random.default_rng(0)
    X = mp.tensor(rng.standard_normal((64, 5)))
    y = mp.tensor(X.numpy() @ rng.standard_normal((5, 1)) + 0.5)
    model = mp.nn.Linear(5, 1)
    optimizer = cls(model, lr=lr, **({"momentum": 0.9} if cls is SGD else {}))
    losses = []
    for _ in range(200):
        optimizer.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]


# ---- clipping --------------------------------------------------------------------------

def test_clip_grad_norm_scales_to_exactly_max_norm():
    a, b = param(), param(np.zeros(2))
    a.grad, b.grad = np.array([3.0, 0.0, 4.0]), np.array([0.0, 12.0])
    original = a.grad
    total = clip_grad_norm([a, b], max_norm=1.0)
    assert total == pytest.approx(13.0)
    new_norm = np.sqrt((a.grad ** 2).sum() + (b.grad ** 2).sum())
    assert new_norm == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(a.grad, np.array([3.0, 0.0, 4.0]) / 13)
    np.testing.assert_array_equal(original, [3.0, 0.0, 4.0])  # a new array, not written in place


def test_clip_grad_norm_leaves_small_gradients_alone_and_skips_missing_ones():
    a, b = param(), param()
    a.grad = np.array([0.3, 0.0, 0.4])
    before = a.grad
    assert clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(0.5)
    assert a.grad is before and b.grad is None


def test_clip_grad_norm_errors():
    a = param()
    a.grad = np.array([np.nan, 0.0, 1.0])
    with pytest.raises(FloatingPointError, match="NaN"):
        clip_grad_norm([a], 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([a], 0.0)


# ---- schedule --------------------------------------------------------------------------

def test_linear_warmup_decay_values():
    f = lambda step: linear_warmup_decay(step, total_steps=100, warmup_fraction=0.1)  # noqa: E731
    assert f(0) == 0.0
    assert f(5) == pytest.approx(0.5)
    assert f(10) == 1.0  # end of warm-up
    assert f(55) == pytest.approx(0.5)  # half-way through the decay
    assert f(100) == 0.0 and f(150) == 0.0
    assert linear_warmup_decay(0, 10, warmup_steps=0) == 1.0
    assert linear_warmup_decay(3, 10, warmup_steps=4) == 0.75


def test_linear_warmup_decay_errors():
    with pytest.raises(ValueError, match="not both"):
        linear_warmup_decay(0, 10, warmup_steps=2, warmup_fraction=0.1)
    with pytest.raises(ValueError, match="total_steps"):
        linear_warmup_decay(0, 0)
    with pytest.raises(ValueError, match="warmup_steps"):
        linear_warmup_decay(0, 10, warmup_steps=11)


def test_scheduler_object_sets_optimizer_lr():
    optimizer = Adam([param()], lr=0.01)
    schedule = LinearWarmupDecay(optimizer, total_steps=10, warmup_steps=2)
    lrs = [optimizer.lr]
    for _ in range(10):
        schedule.step()
        lrs.append(optimizer.lr)
    np.testing.assert_allclose(lrs, 0.01 * np.array([0, 0.5, 1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8, 2 / 8, 1 / 8, 0]))


# ---- bad input -------------------------------------------------------------------------

def test_clear_errors():
    with pytest.raises(ValueError, match="learning rate"):
        SGD([param()], lr=0.0)
    with pytest.raises(ValueError, match="betas"):
        Adam([param()], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        Adam([], lr=0.1)
    frozen = param()
    frozen.requires_grad = False
    with pytest.raises(ValueError, match="none of the 1 parameters"):
        Adam([frozen])
    with pytest.raises(TypeError, match="expected a Tensor"):
        Adam([np.zeros(3)])


class ParameterOnGPU(mp.nn.Parameter):
    @property
    def device(self):
        return "cuda"


def test_parameters_on_different_devices_are_refused():
    with pytest.raises(RuntimeError, match="on cuda but the other parameters are on cpu"):
        Adam([param(), ParameterOnGPU(np.zeros(3))])
