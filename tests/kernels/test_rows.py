"""rows.py: the BLAS matrix-vector forms of row sums, row means and column sums equal NumPy's reductions."""
import numpy as np
import pytest

from minipeft.kernels.rows import column_sum, row_mean, row_sum

SHAPES = [(5,), (4, 7), (2, 3, 64), (3, 0), (0, 4)]


def normal(*shape, dtype=np.float64):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sum_and_mean_match_numpy(shape, dtype):
    x = normal(*shape, dtype=dtype)
    np.testing.assert_allclose(row_sum(x), x.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)
    assert row_sum(x).shape == x.shape[:-1] + (1,)
    if shape[-1] > 0:
        np.testing.assert_allclose(row_mean(x), x.mean(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)



@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_sum_adds_every_row_into_one(shape, dtype):
    x = normal(*shape, dtype=dtype)
    expected = x.reshape(-1, shape[-1]).sum(axis=0) if x.size else np.zeros(shape[-1], dtype)
    np.testing.assert_allclose(column_sum(x), expected, rtol=1e-5, atol=1e-6)
    assert column_sum(x).shape == (shape[-1],) and column_sum(x).dtype == dtype


def test_column_sum_of_a_strided_view_takes_numpys_path():
    x = normal(6, 4)[::2]  # every other row: not C-contiguous
    np.testing.assert_allclose(column_sum(x), x.sum(axis=0))
