"""``mp.trace()`` records a forward and backward pass, one row per op.

The graph used throughout: x (2, 3) and W (3, 4) ->  h = x @ W  ->  y = tanh(h)  ->  loss = sum(y).
Forward runs MatMul, Tanh, Sum; backward runs them in reverse: Sum, Tanh, MatMul.
"""
import importlib

import numpy as np
import pytest

import minipeft as mp


def small_graph(w_requires_grad=True):
    rng = np.random.default_rng(0)
    x = mp.tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype="float64", name="x")
    w = mp.tensor(rng.standard_normal((3, 4)), requires_grad=w_requires_grad, dtype="float64", name="W")
    return x, w


def run(x, w, **trace_options):
    with mp.trace(**trace_options) as t:
        h = x @ w
        y = h.tanh()
        loss = y.sum()
        loss.backward()
    return t, (h, y, loss)


def test_forward_rows_name_each_op_with_its_shapes_and_value_norm():
    x, w = small_graph()
    t, (h, y, loss) = run(x, w)
    assert [r.op for r in t.forward] == ["MatMul", "Tanh", "Sum"]
    assert [r.input_shapes for r in t.forward] == [[(2, 3), (3, 4)], [(2, 4)], [(2, 4)]]
    assert [r.output_shape for r in t.forward] == [(2, 4), (2, 4), ()]
    assert t.forward[0].input_names == ["x", "W"]
    for record, tensor in zip(t.forward, (h, y, loss)):
        assert record.output_id == id(tensor)
        assert record.value_norm == pytest.approx(np.linalg.norm(tensor.numpy()))
    assert t.forward[1].input_ids == [id(h)]  # links rows into a graph: Tanh consumed MatMul's output


def test_backward_rows_run_in_reverse_with_gradient_norms():
    x, w = small_graph()
    t, (h, y, loss) = run(x, w)
    assert [r.op for r in t.backward] == ["Sum", "Tanh", "MatMul"]
    assert [r.output_id for r in t.backward] == [id(loss), id(y), id(h)]
    # the gradient that arrives at each op's output, computed by hand:
    dy = np.ones((2, 4))                              # d sum / dy = 1
    dh = dy * (1 - y.numpy() ** 2)                    # tanh' = 1 - y^2
    sum_row, tanh_row, matmul_row = t.backward
    assert sum_row.grad_norm == 1.0 and sum_row.input_grad_norms == [pytest.approx(np.linalg.norm(dy))]
    assert tanh_row.grad_norm == pytest.approx(np.linalg.norm(dy))
    assert tanh_row.input_grad_norms == [pytest.approx(np.linalg.norm(dh))]
    assert matmul_row.grad_norm == pytest.approx(np.linalg.norm(dh))
    assert matmul_row.input_grad_norms == [pytest.approx(np.linalg.norm(dh @ w.numpy().T)),  # to x
                                           pytest.approx(np.linalg.norm(x.numpy().T @ dh))]  # to W
    assert t.leaf_grads[id(x)] == pytest.approx(x.grad)
    assert t.leaf_grads[id(w)] == pytest.approx(w.grad)


def test_a_frozen_input_gets_no_gradient_norm():
    x, w = small_graph(w_requires_grad=False)
    t, _ = run(x, w)
    matmul_row = t.backward[-1]
    assert matmul_row.input_grad_norms[0] > 0 and np.isnan(matmul_row.input_grad_norms[1])
    assert id(w) not in t.leaf_grads
    assert "MatMul" in t.table().splitlines()[-1] and t.table().splitlines()[-1].endswith(", -")


def test_table_has_a_header_and_one_line_per_op():
    x, w = small_graph()
    t, _ = run(x, w)
    table = str(t)
    assert table == t.table()
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["#", "pass", "op", "shapes"] and "|grad| to inputs" in lines[0]
    assert set(lines[1]) == {"-"}
    assert len(lines) == 2 + 3 + 3
    assert "forward   MatMul  (2,3), (3,4) -> (2,4)" in table
    assert [line.split()[2] for line in lines[2:]] == ["MatMul", "Tanh", "Sum", "Sum", "Tanh", "MatMul"]
    assert [line.split()[1] for line in lines[2:]] == ["forward"] * 3 + ["backward"] * 3


def test_small_values_and_gradients_are_kept_as_copies():
    x, w = small_graph()
    t, (h, y, loss) = run(x, w, keep_values=8)  # (2, 4) = 8 entries: kept
    kept = t.forward[0].value
    np.testing.assert_array_equal(kept, h.numpy())
    h.data[...] = 0.0  # changing the tensor afterwards does not change what the trace saw
    assert np.abs(kept).sum() > 0
    assert t.forward[2].value == pytest.approx(loss.item())
    np.testing.assert_array_equal(t.backward[1].grad, np.ones((2, 4)))  # dloss/dy, the gradient into Tanh


def test_large_values_are_not_kept():
    x, w = small_graph()
    t, _ = run(x, w, keep_values=4)
    assert t.forward[0].value is None and t.backward[1].grad is None  # 8 entries > 4
    assert t.forward[2].value is not None                               # the loss: 1 entry


def test_nothing_is_recorded_outside_the_block():
    x, w = small_graph()
    with mp.trace() as t:
        h = x @ w
    (h * 2).sum().backward()
    assert [r.op for r in t.forward] == ["MatMul"] and t.backward == []
    assert not importlib.import_module("minipeft.autograd.trace").active()


def test_nested_traces_both_record():
    x, w = small_graph()
    with mp.trace() as outer:
        x.tanh()
        with mp.trace() as inner:
            x @ w
    assert [r.op for r in outer.forward] == ["Tanh", "MatMul"]
    assert [r.op for r in inner.forward] == ["MatMul"]
