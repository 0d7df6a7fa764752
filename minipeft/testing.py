"""Assertions for comparing an implementation with its reference (like ``numpy.testing``).

Used by the kernel tests: a CUDA kernel (or its CPU emulation) against the NumPy reference
of the same math, output by output.
"""
from __future__ import annotations

import numpy as np

from .backend import to_numpy


def assert_outputs_close(got, want, rtol: float, atol: float, what: str) -> None:
    """Each array in ``got`` equals the one in ``want``: the same shape and dtype, integers
    exactly, floats within ``rtol`` and ``atol`` times the reference's largest entry (at least 1).
    ``None`` in ``want`` (an output not asked for) must be ``None`` in ``got``."""
    assert len(got) == len(want), f"{what}: {len(got)} outputs, reference has {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, f"{what}: output {i} should be None"
            continue
        g, w = to_numpy(g) if hasattr(g, "shape") else np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what}: output {i} has shape {g.shape}, reference {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"{what}: output {i}")
            continue
        assert g.dtype == w.dtype, f"{what}: output {i} is {g.dtype}, reference {w.dtype}"
        scale = max(float(np.abs(w).max()), 1.0) if w.size else 1.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale, err_msg=f"{what}: output {i}")
