"""The Adam / AdamW update of one parameter, done in place on its arrays.

With gradient g, step number t (1 for the first update), and moments m, v (zeros at first):

    g  = g + wd * p                       (Adam only: L2 weight decay, added to the gradient)
    m  = b1 m + (1 - b1) g                running mean of the gradient
    v  = b2 v + (1 - b2) g^2              running mean of its square
    m^ = m / (1 - b1^t),  v^ = v / (1 - b2^t)     bias correction: m, v start at 0
    p  = p - lr * wd * p                  (AdamW only: decoupled weight decay)
    p  = p - lr * m^ / (sqrt(v^) + eps)

The two kinds of decay differ: Adam's L2 term goes through the division by sqrt(v^), so
weights with large gradients are barely decayed; AdamW shrinks every weight by the same
factor (1 - lr * wd). This file is the NumPy/CuPy reference (``xp`` is the arrays' own
module); on CuPy arrays the fused CUDA kernel at the end of this file runs instead: one
pass that reads p, g, m, v once and writes p, m, v once, where the reference makes about
a dozen passes over parameter-sized arrays.
"""
from __future__ import annotations

import math

from ..backend import array_module
from . import cuda


def adam_step(param, grad, m, v, *, lr: float, beta1: float, beta2: float, eps: float,
              weight_decay: float, step: int, decoupled: bool) -> None:
    """Update ``param``, ``m`` and ``v`` in place (see the module docstring); ``grad`` is only read.

    ``decoupled=False`` is Adam (L2 added to the gradient), ``True`` is AdamW.
    """
    if (cuda.wants(param, grad, m, v) and param.shape == grad.shape == m.shape == v.shape
            and param.flags.c_contiguous and m.flags.c_contiguous and v.flags.c_contiguous):
        return adam_step_cuda(param, grad, m, v, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                              weight_decay=weight_decay, step=step, decoupled=decoupled)
    xp = array_module(param)
    if weight_decay and not decoupled:
        grad = grad + weight_decay * param  # a new array: the caller's gradient stays untouched
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * (grad * grad)
    if weight_decay and decoupled:
        param *= 1.0 - lr * weight_decay
    # lr * m^ / (sqrt(v^) + eps), written with one temporary array
    denom = xp.sqrt(v)
    denom /= math.sqrt(1.0 - beta2 ** step)
    denom += eps
    update = xp.divide(m, denom, out=denom)
    update *= lr / (1.0 - beta1 ** step)
    param -= update


# ---- CUDA kernel -------------------------------------------------------------------------
# Elementwise: one thread per parameter entry (blocks of settings["elementwise_threads"],
# grid-stride loop). Each thread reads p, g, m, v once, runs the update above in registers
# with the same operations in the same order as the reference, and writes p, m, v back in
# place. The numbers that are the same for every entry (1 - b1, the bias corrections,
# lr / (1 - b1^t), 1 - lr wd) are computed once on the host, as the reference does.
CUDA_SOURCE = r"""
extern "C" __global__ void adam_step(real* p, const real* g, real* m, real* v, long long n,
                                     real beta1, real one_minus_beta1, real beta2, real one_minus_beta2,
                                     int use_l2, real weight_decay, int use_decay, real decay,
                                     real sqrt_bias_correction2, real eps, real step_size) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        real pi = p[i];
        real gi = g[i];
        if (use_l2) gi = gi + weight_decay * pi;                    // Adam: L2 into the gradient
        const real mi = m[i] * beta1 + one_minus_beta1 * gi;        // m = b1 m + (1 - b1) g
        const real vi = v[i] * beta2 + one_minus_beta2 * (gi * gi); // v = b2 v + (1 - b2) g^2
        m[i] = mi;
        v[i] = vi;
        if (use_decay) pi = pi * decay;                             // AdamW: p *= 1 - lr wd
        const real denom = sqrt(vi) / sqrt_bias_correction2 + eps;  // sqrt(v^) + eps
        p[i] = pi - mi / denom * step_size;                         // p -= lr m^ / (sqrt(v^) + eps)
    }
}
"""
SOURCE = cuda.register("adam", CUDA_SOURCE, ["adam_step"])


def adam_step_cuda(param, grad, m, v, *, lr: float, beta1: float, beta2: float, eps: float,
                   weight_decay: float, step: int, decoupled: bool) -> None:
    """adam_step as one kernel launch; param, m and v must be C-contiguous (updated in place)."""
    grad = cuda.contiguous(grad)
    dtype = param.dtype
    use_l2 = bool(weight_decay) and not decoupled
    use_decay = bool(weight_decay) and decoupled

    def real(value):
        return cuda.scalar(value, dtype)

    grid, block = cuda.elementwise_launch(param.size)
    cuda.launch(SOURCE, "adam_step", dtype, grid, block,
                (param, grad, m, v, cuda.i64(param.size),
                 real(beta1), real(1.0 - beta1), real(beta2), real(1.0 - beta2),
                 cuda.i32(use_l2), real(weight_decay), cuda.i32(use_decay), real(1.0 - lr * weight_decay),
                 real(math.sqrt(1.0 - beta2 ** step)), real(eps), real(lr / (1.0 - beta1 ** step))))
