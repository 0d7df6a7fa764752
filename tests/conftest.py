"""Hooks for the whole test suite.

Tests marked ``gpu`` (``@pytest.mark.gpu``) run CUDA kernels, so they need CuPy and a
CUDA GPU. Where either is missing they are skipped, and the skip says which one:

    pytest -m gpu -rs        # run only the GPU tests, and show why any were skipped

It also holds the fixtures that several test folders share (``randn``).
"""
import numpy as np
import pytest

import minipeft as mp


def gpu_missing_reason():
    """None when CuPy can use a GPU here, else why not (in words)."""
    try:
        import cupy
    except ImportError as err:
        return f"needs CuPy and a CUDA GPU; CuPy is not installed ({err})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CuPy raises its own CUDARuntimeError when there is no driver
        return f"needs a CUDA GPU; CuPy finds no usable GPU ({type(err).__name__}: {err})"
    if count == 0:
        return "needs a CUDA GPU; CuPy found none"
    return None


def pytest_collection_modifyitems(config, items):
    gpu_tests = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_tests:
        return
    reason = gpu_missing_reason()
    if reason is not None:
        for item in gpu_tests:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def randn():
    """``randn(*shape, seed=0, requires_grad=False)``: a float64 tensor of standard normal values."""

    def make(*shape, seed=0, requires_grad=False):
        data = np.random.default_rng(seed).standard_normal(shape)
        return mp.tensor(data, requires_grad=requires_grad, dtype="float64")

    return make
