"""``gradcheck``: compare backward's gradients with the slope measured by central differences.

For each input x and each entry x_i:
    numeric_i  = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      (error ~ eps^2)
    analytic_i = what backward() put in x.grad
where f is the op's output contracted with a fixed random tensor r (f = sum(out * r)),
so every entry of the output's Jacobian takes part. They must agree within
``atol + rtol * |numeric|``. Run it in float64: float32 rounding (~1e-7) divided by a
small eps would swamp the comparison.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """backward disagrees with central differences; the message names the worst entry."""


def _contract(fn, inputs, weights):
    out = fn(*inputs)
    if weights[0] is None:
        rng = np.random.default_rng(1234)
        weights[0] = backend.to_device(rng.standard_normal(out.shape), out.device).astype(out.dtype)
    return out, weights[0]


def gradcheck(fn, *inputs: Tensor, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """True if backward matches central differences for every input with requires_grad.

    ``fn(*inputs)`` must return a Tensor and be deterministic (seed any dropout inside it).
    Raises GradcheckError naming the input, the worst entry, and both values.
    """
    checked = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")
    for i, x in checked:
        if x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {x.dtype}; use float64 (float32 is too coarse for "
                            f"central differences)")
        x.grad = None
    weights = [None]
    out, r = _contract(fn, inputs, weights)
    (out * Tensor(r)).sum().backward()
    for i, x in checked:
        analytic = np.zeros(x.shape) if x.grad is None else backend.to_numpy(x.grad)
        numeric = _numeric_grad(fn, inputs, x, weights, eps)
        _compare(i, x, analytic, numeric, atol, rtol)
    return True


@no_grad()
def numerical_gradient(scalar_fn, x: Tensor, eps: float = 1e-6) -> np.ndarray:
    """d(scalar_fn())/dx by central differences: nudge each entry of x by +-eps in place,
    call ``scalar_fn()`` (which reads x) twice, and take the slope. Returns a NumPy array."""
    numeric = np.zeros(x.shape)
    flat = x.data.reshape(-1)  # a view: writing into it perturbs x
    for j in range(flat.size):
        original = float(flat[j])
        flat[j] = original + eps
        plus = float(scalar_fn())
        flat[j] = original - eps
        minus = float(scalar_fn())
        flat[j] = original
        numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
    return numeric


def _numeric_grad(fn, inputs, x: Tensor, weights, eps: float) -> np.ndarray:
    return numerical_gradient(lambda: (_contract(fn, inputs, weights)[0].data * weights[0]).sum(), x, eps)


def _compare(index: int, x: Tensor, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> None:
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if (error > 0).any():
        worst = np.unravel_index(int(np.argmax(error)), x.shape) if x.shape else ()
        name = f" ({x.name})" if x.name else ""
        raise GradcheckError(
            f"gradcheck: input {index}{name} of shape {x.shape}: backward disagrees with central differences "
            f"at entry {tuple(int(k) for k in worst)}: backward gave {analytic[worst]:.6g}, numeric "
            f"{numeric[worst]:.6g} (|diff| {abs(analytic[worst] - numeric[worst]):.3g} > "
            f"atol {atol:g} + rtol {rtol:g} * |numeric|); {int((error > 0).sum())} of {error.size} entries fail")
