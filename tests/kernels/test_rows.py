"""rows.py: the BLAS matrix-vector forms of row sums and means equal NumPy's reductions."""
import numpy as np
import pytest

from minipeft.kernels.rows import row_mean, row_sum

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

