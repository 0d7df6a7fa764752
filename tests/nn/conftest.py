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
