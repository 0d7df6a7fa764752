"""Assertions for comparing an implementation with its reference (like ``numpy.testing``).

Used by the kernel and device tests: a CUDA kernel (or its CPU emulation) against the NumPy
reference of the same math, output by output; training steps on one device against the
same steps on another.
"""
from __future__ import annotations

import numpy as np

from . import backend
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


def run_training_steps(device: str, config: str = "bench-small", adapters: bool = False, steps: int = 2) -> dict:
    """Take ``steps`` optimizer steps of ``bench.TrainingStep(config)`` on ``device`` (the whole
    model, or adapters with the base frozen) and return what they left, as NumPy arrays:
    ``{"losses": [...], "grads": {name: array}, "weights": {name: array}}``.

    The weights and the batch are drawn on the CPU, so every device starts from the same ones.
    """
    from .bench.steps import CONFIGS, TrainingStep, with_adapters

    previous = backend.get_device()
    backend.set_device(device)
    try:
        prepare = with_adapters(CONFIGS[config]["adapter_bottleneck"]) if adapters else None
        step = TrainingStep(config, prepare=prepare, seed=0)
        losses = [step() for _ in range(steps)]
        params = dict(step.model.named_parameters())
        return {"losses": losses,
                "grads": {name: to_numpy(p.grad) for name, p in params.items() if p.grad is not None},
                "weights": {name: p.numpy() for name, p in params.items()}}
    finally:
        backend.set_device(previous)


def assert_gradients_close(got: dict, want: dict, rtol: float, what: str) -> None:
    """Two sets of gradients ({parameter name: array}) agree: the same names, and each
    gradient within ``rtol`` in relative L2 norm.

    A gradient is measured against its own norm, or against 1e-4 of the largest gradient norm
    in ``want`` when its own is smaller: the gradient of an attention key's bias is zero in
    exact arithmetic (softmax ignores a shift shared by every key), so what two computations
    hold there is rounding noise of about 1e-9, which no relative bound can compare.
    """
    assert set(got) == set(want), f"{what}: different parameters got gradients"
    floor = 1e-4 * max(np.linalg.norm(g) for g in want.values())
    for name, reference in want.items():
        error = np.linalg.norm(got[name] - reference) / max(np.linalg.norm(reference), floor)
        assert error < rtol, f"{what}: {name}'s gradient differs by {error:.2e} (relative L2)"


def assert_same_training(got: dict, want: dict, loss_rtol: float, grad_rtol: float, weight_atol: float,
                         what: str) -> None:
    """Two ``run_training_steps`` results agree: losses within ``loss_rtol``, gradients as in
    ``assert_gradients_close``, each weight within ``weight_atol``.

    Weights get an absolute bound: Adam's first steps move each weight by about its learning
    rate whatever the gradient's size, so a gradient near 0 whose sign differs in the last
    bits moves its weight the other way.
    """
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=loss_rtol, err_msg=f"{what}: losses")
    assert_gradients_close(got["grads"], want["grads"], grad_rtol, what)
    for name, reference in want["weights"].items():
        np.testing.assert_allclose(got["weights"][name], reference, rtol=0, atol=weight_atol,
                                   err_msg=f"{what}: {name}")
