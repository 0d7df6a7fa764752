"""GELU, the smooth ReLU of BERT's feed-forward layers, in its tanh form ("gelu_new").

    gelu(x)  = 0.5 x (1 + t),          t = tanh(c (x + A x^3)),   c = sqrt(2 / pi), A = 0.044715
    gelu'(x) = 0.5 (1 + t) + 0.5 c x (1 - t^2) (1 + 3 A x^2)

(The exact GELU uses the normal CDF, x * Phi(x); NumPy has no vectorised erf, and the
two differ by less than 1e-3.)

Written as a dozen in-place steps on one or two buffers: the feed-forward activations
are the largest arrays of a BERT step (B*T*4d numbers), and allocating a fresh array
for every intermediate result costs more than the arithmetic. Forward keeps t for
backward, so the tanh is computed once.

On CuPy arrays each direction is instead one fused CUDA kernel (end of this file): every
thread reads its entries once and writes the results once, where the dozen array steps
above each read and write the whole buffer.
"""
from __future__ import annotations

import math

from ..backend import array_module
from . import cuda

C = math.sqrt(2.0 / math.pi)
A = 0.044715


def gelu_forward(x):
    """Returns (y, t): the activation and the tanh term that backward reuses."""
    if cuda.wants(x):
        return gelu_forward_cuda(x)
    xp = array_module(x)
    t = xp.multiply(x, x)
    t *= A
    t += 1.0
    t *= x
    t *= C                    # c (x + A x^3)
    xp.tanh(t, out=t)         # t
    y = t + 1.0
    y *= x
    y *= 0.5                  # 0.5 x (1 + t)
    return y, t


def gelu_backward(x, t, dy):
    """dL/dx = dy * gelu'(x), given x and the forward's t."""
    if cuda.wants(x, t, dy) and x.shape == t.shape == dy.shape:
        return gelu_backward_cuda(x, t, dy)
    xp = array_module(x)
    dx = xp.multiply(x, x)
    dx *= 3.0 * A
    dx += 1.0
    dx *= 0.5 * C
    dx *= x                   # 0.5 c x (1 + 3 A x^2)
    one_minus_t2 = xp.multiply(t, t)
    xp.subtract(1.0, one_minus_t2, out=one_minus_t2)
    dx *= one_minus_t2        # 0.5 c x (1 - t^2) (1 + 3 A x^2)
    half_one_plus_t = xp.multiply(t, 0.5, out=one_minus_t2)
    half_one_plus_t += 0.5
    dx += half_one_plus_t     # + 0.5 (1 + t)
    dx *= dy
    return dx


# ---- CUDA kernels ------------------------------------------------------------------------
# Elementwise: one thread per entry i of the flattened arrays, blocks of
# settings["elementwise_threads"] threads, and a grid-stride loop (i += gridDim.x * blockDim.x)
# for arrays larger than the grid. Each line below is one in-place step of the reference,
# in the same order, on a number held in a register.
CUDA_SOURCE = r"""
// u = c (x + A x^3) written as ((x x) A + 1) x c;  t = tanh(u);  y = 0.5 x (1 + t)
extern "C" __global__ void gelu_forward(const real* x, real* y, real* t, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const real xi = x[i];
        real u = xi * xi;
        u = u * GELU_A;
        u = u + (real)1;
        u = u * xi;
        u = u * GELU_C;
        const real ti = tanh(u);
        t[i] = ti;
        y[i] = (ti + (real)1) * xi * (real)0.5;
    }
}

// dx = dy * (0.5 c x (1 - t^2) (1 + 3 A x^2) + 0.5 (1 + t))
extern "C" __global__ void gelu_backward(const real* x, const real* t, const real* dy, real* dx, long long n) {
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const real xi = x[i];
        const real ti = t[i];
        real d = xi * xi;
        d = d * GELU_3A;
        d = d + (real)1;
        d = d * GELU_HALF_C;
        d = d * xi;                          // 0.5 c x (1 + 3 A x^2)
        d = d * ((real)1 - ti * ti);         // * (1 - t^2)
        d = d + (ti * (real)0.5 + (real)0.5);  // + 0.5 (1 + t)
        dx[i] = d * dy[i];
    }
}
"""
SOURCE = cuda.register("gelu", CUDA_SOURCE, ["gelu_forward", "gelu_backward"],
                       defines={"GELU_A": A, "GELU_C": C, "GELU_3A": 3.0 * A, "GELU_HALF_C": 0.5 * C})


def gelu_forward_cuda(x):
    x = cuda.contiguous(x)
    xp = array_module(x)
    y, t = xp.empty_like(x), xp.empty_like(x)
    grid, block = cuda.elementwise_launch(x.size)
    cuda.launch(SOURCE, "gelu_forward", x.dtype, grid, block, (x, y, t, cuda.i64(x.size)))
    return y, t


def gelu_backward_cuda(x, t, dy):
    x, t, dy = (cuda.contiguous(a) for a in (x, t, dy))
    dx = array_module(x).empty_like(x)
    grid, block = cuda.elementwise_launch(x.size)
    cuda.launch(SOURCE, "gelu_backward", x.dtype, grid, block, (x, t, dy, dx, cuda.i64(x.size)))
    return dx
