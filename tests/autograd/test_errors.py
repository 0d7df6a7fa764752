"""Every mistake a learner can make says what was expected and what came.

Each test makes one mistake and checks that the message names the op and the
offending shapes, dtypes or values, so that the fix can be read off the error.
"""
import numpy as np
import pytest

import minipeft as mp


def t(*shape, dtype="float32", requires_grad=False):
    return mp.tensor(np.ones(shape), dtype=dtype, requires_grad=requires_grad)


# ---- shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    pytest.param(lambda a, b: a @ b, id="@"),
    pytest.param(mp.matmul, id="matmul"),
])
def test_matmul_shape_mismatch_names_both_shapes_and_the_op(op):
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit.*\(3\).*\(4\)"):
        op(t(2, 3), t(4, 5))


def test_matmul_with_a_vector_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4,\).*only axis"):
        t(2, 3) @ t(4)


def test_linear_shape_mismatches():
    with pytest.raises(ValueError, match=r"linear: shapes \(2, 3\) and \(4, 5\) do not fit"):
        mp.linear(t(2, 3), t(4, 5))
    with pytest.raises(ValueError, match=r"linear: the bias must have shape \(5,\), got \(3,\)"):
        mp.linear(t(2, 4), t(4, 5), t(3))


@pytest.mark.parametrize("op, fn", [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
])
def test_broadcasting_mismatch_names_both_shapes_and_the_op(op, fn):
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(2,\) do not broadcast"):
        fn(t(2, 3), t(2))


def test_where_condition_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"where: the condition of shape \(4,\) does not broadcast "
                                         r"with a of shape \(2, 3\)"):
        mp.where(np.ones(4, dtype=bool), t(2, 3), t(2, 3))


def test_reshape_to_an_incompatible_shape():
    with pytest.raises(ValueError, match=r"cannot view a tensor of shape \(2, 3\) \(6 entries\) as shape \(4, 2\)"):
        t(2, 3).reshape(4, 2)


def test_permute_with_a_wrong_axis_order():
    with pytest.raises(ValueError, match=r"permute: \(0, 0, 1\) is not an order of the 3 axes"):
        t(2, 3, 4).permute(0, 0, 1)


def test_reduction_over_an_axis_that_does_not_exist():
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor with 2 dimensions"):
        t(2, 3).sum(axis=2)


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"getitem: .*\(tensor of shape \(5, 3\)\)"):
        t(5, 3)[mp.tensor([1, 7])]


def test_joining_tensors_of_different_shapes():
    with pytest.raises(ValueError, match=r"concatenate: shapes \[\(2, 3\), \(2, 4\)\] differ outside axis 0"):
        mp.concatenate([t(2, 3), t(2, 4)])
    with pytest.raises(ValueError, match=r"stack: all tensors need the same shape"):
        mp.stack([t(2, 3), t(3, 2)])
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] add up to 4, expected 5"):
        mp.split(t(5, 2), [2, 2])
    with pytest.raises(ValueError, match=r"split: axis 0 of length 5 does not split into 2 equal parts"):
        mp.split(t(5, 2), 2)


# ---- dtypes ---------------------------------------------------------------------------------
def test_float32_plus_float64_names_both_dtypes():
    with pytest.raises(TypeError, match=r"Add: inputs have different float dtypes \(float32 \(2,\), float64 \(2,\)\)"
                                        r".*astype"):
        t(2) + t(2, dtype="float64")


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="only floating tensors can require grad, got dtype int64"):
        mp.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="only floating tensors can require grad, got dtype int64"):
        mp.tensor([1, 2, 3]).requires_grad_()


def test_tensor_of_strings():
    with pytest.raises(TypeError, match="expected numbers or booleans"):
        mp.tensor(["a", "b"])


def test_pow_needs_a_number_exponent():
    with pytest.raises(TypeError, match="pow: the exponent must be a Python number, got Tensor"):
        t(3) ** t(3)


def test_masks_must_be_boolean():
    with pytest.raises(TypeError, match="masked_fill: the mask must be boolean, got float32"):
        t(2, 3).masked_fill(t(2, 3), 0.0)


# ---- fused ops ------------------------------------------------------------------------------
def test_cross_entropy_target_out_of_range():
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 3\) or equal ignore_index=-100; found 3"):
        mp.cross_entropy(t(2, 3), [0, 3])
    with pytest.raises(ValueError, match="found -1"):
        mp.cross_entropy(t(2, 3), [-1, 0])


def test_cross_entropy_targets_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"logits of shape \(4, 3\) need targets of shape \(4,\), got \(2, 2\)"):
        mp.cross_entropy(t(4, 3), [[0, 1], [2, 0]])


@pytest.mark.parametrize("logits_dtype", ["float32", "float64"])
def test_cross_entropy_float_targets(logits_dtype):
    # a learner passes probabilities or float labels: the message must say "integer class indices",
    # not complain about mixing float dtypes
    with pytest.raises(TypeError, match="targets must be integer class indices, got dtype float"):
        mp.cross_entropy(t(2, 3, dtype=logits_dtype), [0.0, 1.0])


def test_layer_norm_gamma_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 4\) needs gamma and beta of shape "
                                         r"\(4,\), got \(3,\) and \(4,\)"):
        mp.layer_norm(t(2, 4), t(3), t(4))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_a_non_last_axis(op):
    with pytest.raises(ValueError, match=rf"{op}: works over the last axis \(axis=-1\), got axis=0.*transpose"):
        getattr(mp, op)(t(2, 3), axis=0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_p_out_of_range(p):
    with pytest.raises(ValueError, match=rf"dropout: p must be in \[0, 1\), got {p}"):
        mp.dropout(t(3), p=p)


# ---- tensors and gradcheck -------------------------------------------------------------------
def test_item_on_a_tensor_with_more_than_one_element():
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element, got shape \(2, 3\)"):
        t(2, 3).item()
    assert t(1, 1).item() == 1.0


def test_gradcheck_refuses_float32():
    x = t(3, requires_grad=True)
    with pytest.raises(TypeError, match="gradcheck: input 0 is float32; use float64"):
        mp.gradcheck(lambda x: x * 2, x)


def test_unknown_device():
    with pytest.raises(ValueError, match=r"unknown device 'tpu': expected one of \('cpu', 'cuda'\)"):
        mp.tensor([1.0], device="tpu")
