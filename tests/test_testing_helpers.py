"""The comparison helpers in ``minipeft.testing`` catch what they are there to catch (the GPU,
emulated-GPU and PyTorch tests lean on them, so they must be able to fail)."""
import numpy as np
import pytest

from minipeft.testing import assert_gradients_close, assert_outputs_close, assert_same_training


def _grads(seed=0):
    rng = np.random.default_rng(seed)
    return {"weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3),
            "key.bias": rng.standard_normal(3) * 1e-9}  # zero in exact arithmetic: rounding noise only


def test_gradients_that_differ_by_rounding_pass_even_where_they_are_only_noise():
    want = _grads()
    got = {name: g * (1 + 1e-7) for name, g in want.items()}
    got["key.bias"] = _grads(seed=1)["key.bias"]  # different noise, 100% relative error
    assert_gradients_close(got, want, rtol=1e-5, what="rounding")


def test_a_wrong_gradient_or_a_missing_one_fails():
    want = _grads()
    wrong = dict(want, bias=want["bias"] * 1.01)
    with pytest.raises(AssertionError, match="bias's gradient differs by 1.00e-02"):
        assert_gradients_close(wrong, want, rtol=1e-3, what="test")
    missing = {name: g for name, g in want.items() if name != "weight"}
    with pytest.raises(AssertionError, match="different parameters"):
        assert_gradients_close(missing, want, rtol=1e-3, what="test")


def test_training_runs_must_agree_in_losses_and_weights_too():
    want = {"losses": [0.7, 0.6], "grads": _grads(), "weights": {"weight": np.zeros(3)}}
    assert_same_training(want, want, loss_rtol=1e-6, grad_rtol=1e-6, weight_atol=1e-6, what="same")
    with pytest.raises(AssertionError, match="losses"):
        assert_same_training(dict(want, losses=[0.7, 0.61]), want, 1e-6, 1e-6, 1e-6, "test")
    with pytest.raises(AssertionError, match="weight"):
        assert_same_training(dict(want, weights={"weight": np.full(3, 1e-3)}), want, 1e-6, 1e-6, 1e-4, "test")


def test_outputs_must_match_in_shape_dtype_and_value():
    want = (np.ones((2, 3), np.float32), None)
    assert_outputs_close((np.ones((2, 3), np.float32), None), want, 1e-6, 1e-6, "same")
    for got, message in [((np.ones((3, 2), np.float32), None), "shape"),
                         ((np.ones((2, 3), np.float64), None), "float64"),
                         ((np.full((2, 3), 1.1, np.float32), None), "output 0"),
                         ((np.ones((2, 3), np.float32), np.ones(1)), "should be None")]:
        with pytest.raises(AssertionError, match=message):
            assert_outputs_close(got, want, 1e-6, 1e-6, "test")
