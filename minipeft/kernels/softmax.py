"""Softmax and log-softmax over the last axis: the math every attention and classifier uses.

    softmax(x)_i     = e^(x_i - m) / sum_j e^(x_j - m)       m = max_j x_j (for stability)
    log_softmax(x)_i = x_i - m - log sum_j e^(x_j - m)

Backward, with y the forward output and dy the incoming gradient (one row at a time):
    softmax:      dx = y * (dy - sum_j dy_j y_j)
    log_softmax:  dx = dy - e^y * sum_j dy_j

These functions take NumPy or CuPy arrays alike (``xp`` is the array's own module).
On CuPy arrays they launch the CUDA kernels below instead (see kernels/cuda.py): one
block per row, and the row's max and sum are block reductions in shared memory.
"""
from __future__ import annotations

from ..backend import array_module
from . import cuda
from .rows import row_sum


def softmax_forward(x):
    if cuda.wants(x) and x.ndim >= 1:
        return softmax_forward_cuda(x)
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = xp.exp(shifted, out=shifted)  # reuse the buffer: one temporary instead of two
    e /= row_sum(e)
    return e


def softmax_backward(y, dy):
    if _same_shape_on_gpu(y, dy):
        return softmax_backward_cuda(y, dy)
    return y * (dy - row_sum(dy * y))


def log_softmax_forward(x):
    if cuda.wants(x) and x.ndim >= 1:
        return log_softmax_forward_cuda(x)
    xp = array_module(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    log_sum = xp.log(row_sum(xp.exp(shifted)))
    shifted -= log_sum
    return shifted


def log_softmax_backward(y, dy):
    if _same_shape_on_gpu(y, dy):
        return log_softmax_backward_cuda(y, dy)
    xp = array_module(y)
    return dy - xp.exp(y) * row_sum(dy)


# ---- CUDA kernels ------------------------------------------------------------------------
# Layout (all four kernels): the input is viewed as `rows` rows of `cols` entries, C order.
# One block per row (a grid-stride loop over rows when rows > gridDim.x); the block's
# blockDim.x threads (a power of two) stride along the row: thread t reads columns
# t, t + blockDim.x, t + 2 blockDim.x, ... so neighbouring threads read neighbouring
# addresses (coalesced). A row's max or sum is combined across the block with
# block_max / block_sum (shared memory, kernels/cuda.py), which every thread gets back.
# Each row is read two or three times; a row of a few thousand floats stays in L1/L2.
CUDA_SOURCE = r"""
// y = softmax(x) per row:  m = max_j x_j,  s = sum_j exp(x_j - m),  y_j = exp(x_j - m) / s
extern "C" __global__ void softmax_forward(const real* x, real* y, long long rows, long long cols) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {  // same row for the whole block
        const real* xr = x + row * cols;                                // this row's first entry
        real* yr = y + row * cols;
        real m = xr[0];                                                 // a real entry: max starts there
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, xr[j]);
        m = block_max(m, buf);
        real s = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += exp(xr[j] - m);
        s = block_sum(s, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = exp(xr[j] - m) / s;
    }
}

// dx = y * (dy - sum_j dy_j y_j) per row
extern "C" __global__ void softmax_backward(const real* y, const real* dy, real* dx, long long rows, long long cols) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = row * cols;
        real dot = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) dot += dy[start + j] * y[start + j];
        dot = block_sum(dot, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            dx[start + j] = y[start + j] * (dy[start + j] - dot);
    }
}

// y = x - m - log(sum_j exp(x_j - m)) per row
extern "C" __global__ void log_softmax_forward(const real* x, real* y, long long rows, long long cols) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const real* xr = x + row * cols;
        real* yr = y + row * cols;
        real m = xr[0];
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, xr[j]);
        m = block_max(m, buf);
        real s = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += exp(xr[j] - m);
        const real log_sum = log(block_sum(s, buf));
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) yr[j] = (xr[j] - m) - log_sum;
    }
}

// dx = dy - exp(y) * sum_j dy_j per row
extern "C" __global__ void log_softmax_backward(const real* y, const real* dy, real* dx,
                                                long long rows, long long cols) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = row * cols;
        real total = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) total += dy[start + j];
        total = block_sum(total, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            dx[start + j] = dy[start + j] - exp(y[start + j]) * total;
    }
}
"""
SOURCE = cuda.register("softmax", CUDA_SOURCE,
                       ["softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward"])


def _same_shape_on_gpu(y, dy) -> bool:
    return cuda.wants(y, dy) and y.ndim >= 1 and y.shape == dy.shape


def _row_kernel(name: str, inputs):
    """Run row kernel ``name`` on same-shaped inputs (last axis = row); returns the new output."""
    inputs = [cuda.contiguous(a) for a in inputs]
    cols = inputs[0].shape[-1]
    rows = inputs[0].size // cols
    out = array_module(inputs[0]).empty_like(inputs[0])
    grid, block = cuda.row_launch(rows, cols)
    cuda.launch(SOURCE, name, out.dtype, grid, block, (*inputs, out, cuda.i64(rows), cuda.i64(cols)))
    return out


def softmax_forward_cuda(x):
    return _row_kernel("softmax_forward", [x])


def softmax_backward_cuda(y, dy):
    return _row_kernel("softmax_backward", [y, dy])


def log_softmax_forward_cuda(x):
    return _row_kernel("log_softmax_forward", [x])


def log_softmax_backward_cuda(y, dy):
    return _row_kernel("log_softmax_backward", [y, dy])
