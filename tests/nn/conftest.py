"""Shared helpers for the nn tests: a fixed seed, and modules in float64 for gradient checks."""
import numpy as np
import pytest

import minipeft as mp


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same seed, so weights and dropout masks are reproducible."""
    mp.manual_seed(0)


@pytest.fixture
def float64():
    """``float64(module)`` converts the module's weights to float64 in place (and returns it):
    gradient checks need float64, while modules are built in float32."""

    def convert(module):
        for param in module.parameters():
            param.data = param.data.astype(np.float64)
        return module

    return convert


@pytest.fixture
def randn():
    """``randn(*shape, seed=0, requires_grad=False)``: a float64 tensor of standard normal values."""

    def make(*shape, seed=0, requires_grad=False):
        data = np.random.default_rng(seed).standard_normal(shape)
        return mp.tensor(data, requires_grad=requires_grad, dtype="float64")

    return make
