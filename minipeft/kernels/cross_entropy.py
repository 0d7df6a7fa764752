"""Cross-entropy of logits against class indices, fused with the softmax.

For one row of logits x and its target class t:
    loss = -log softmax(x)_t = log sum_j e^(x_j) - x_t
    dloss/dx = softmax(x) - onehot(t)
Rows whose target equals ``ignore_index`` (padding, unmasked tokens) add nothing, and the
loss is the mean over the remaining n rows, so each row's gradient is divided by n.
Fusing keeps one (rows, classes) array alive instead of four (exp, sum, log, gather).
On CuPy arrays the forward is one CUDA kernel (softmax, pick, log: one block per row) and
the backward another (end of this file).
"""
from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import cuda
from .softmax import softmax_forward


def cross_entropy_forward(logits, targets, ignore_index: int = -100):
    """Mean loss over rows with a target, and what backward needs: (loss, probs, valid, count).

    logits: (N, C) float; targets: (N,) int with values in [0, C) or ignore_index.
    """
    if (cuda.wants(logits) and logits.ndim == 2 and cuda.on_device(targets)
            and targets.dtype.kind in "iu" and targets.shape == logits.shape[:1]):
        return cross_entropy_forward_cuda(logits, targets, ignore_index)
    xp = array_module(logits)
    valid = targets != ignore_index  # (N,)
    safe_targets = xp.where(valid, targets, 0)
    probs = softmax_forward(logits)  # (N, C)
    rows = xp.arange(logits.shape[0])
    picked = probs[rows, safe_targets]  # (N,) probability of the right class
    count = max(int(valid.sum()), 1)
    tiny = xp.finfo(logits.dtype).tiny  # log(0) would be -inf
    loss = -(xp.log(xp.maximum(picked, tiny)) * valid).sum() / count
    return loss.astype(logits.dtype), probs, safe_targets, valid, count


def cross_entropy_backward(probs, safe_targets, valid, count: int, dloss):
    """dL/dlogits = dloss * (probs - onehot(target)) / count on valid rows, 0 elsewhere."""
    if (cuda.wants(probs) and probs.ndim == 2 and cuda.on_device(safe_targets) and cuda.on_device(valid)
            and safe_targets.shape == valid.shape == probs.shape[:1]):
        return cross_entropy_backward_cuda(probs, safe_targets, valid, count, dloss)
    xp = array_module(probs)
    grad = probs.copy()  # (N, C)
    grad[xp.arange(grad.shape[0]), safe_targets] -= 1
    grad *= (valid * (dloss / count)).astype(grad.dtype)[:, None]
    return grad


# ---- CUDA kernels ------------------------------------------------------------------------
# cross_entropy_forward: one block per row of logits (grid-stride over rows), threads
#   striding along the C classes, block_max / block_sum (kernels/cuda.py) for the row's max
#   and sum of exponentials, exactly as softmax_forward. Thread 0 of the block then writes
#   the row's bookkeeping: safe target, valid flag and the row's loss, -log max(p_t, tiny)
#   (0 for an ignored row). The mean over valid rows is one small sum afterwards.
# cross_entropy_backward: the same layout, one block per row (no reduction this time):
#   each thread writes its columns of the row, whose target and valid flag it reads once.
CUDA_SOURCE = r"""
extern "C" __global__ void cross_entropy_forward(const real* logits, const long long* targets,
                                                 real* probs, real* row_loss, long long* safe_targets,
                                                 bool* valid, long long rows, long long cols,
                                                 long long ignore_index, real tiny) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const real* x = logits + row * cols;  // this row's logits
        real* p = probs + row * cols;
        real m = x[0];
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) m = fmax(m, x[j]);
        m = block_max(m, buf);
        real s = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += exp(x[j] - m);
        s = block_sum(s, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) p[j] = exp(x[j] - m) / s;
        if (threadIdx.x == 0) {
            const long long target = targets[row];
            // the caller checked targets; an index outside [0, C) is never read, only ignored
            const bool ok = target != ignore_index && target >= 0 && target < cols;
            const long long safe = ok ? target : 0;
            const real picked = exp(x[safe] - m) / s;  // = p[safe], recomputed: another thread wrote it
            safe_targets[row] = safe;
            valid[row] = ok;
            row_loss[row] = ok ? -log(fmax(picked, tiny)) : (real)0;
        }
    }
}

// grad = (probs - onehot(safe target)) * dloss / count on valid rows, 0 on ignored rows
extern "C" __global__ void cross_entropy_backward(const real* probs, const long long* safe_targets,
                                                  const bool* valid, const real* dloss, real* grad,
                                                  long long rows, long long cols, real count) {
    const real scale = dloss[0] / count;  // dL/dloss is on the device: no copy to the host
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const real* p = probs + row * cols;
        real* g = grad + row * cols;
        const long long target = safe_targets[row];
        const bool ok = valid[row];
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            g[j] = ok ? (p[j] - (j == target ? (real)1 : (real)0)) * scale : (real)0;
    }
}
"""
SOURCE = cuda.register("cross_entropy", CUDA_SOURCE, ["cross_entropy_forward", "cross_entropy_backward"])


def cross_entropy_forward_cuda(logits, targets, ignore_index: int = -100):
    logits = cuda.contiguous(logits)
    targets = cuda.contiguous(targets, dtype=np.int64)
    xp = array_module(logits)
    rows, cols = logits.shape
    probs = xp.empty_like(logits)
    row_loss = xp.empty(rows, dtype=logits.dtype)
    safe_targets = xp.empty(rows, dtype=np.int64)
    valid = xp.empty(rows, dtype=bool)
    grid, block = cuda.row_launch(rows, cols)
    cuda.launch(SOURCE, "cross_entropy_forward", logits.dtype, grid, block,
                (logits, targets, probs, row_loss, safe_targets, valid, cuda.i64(rows), cuda.i64(cols),
                 cuda.i64(ignore_index), cuda.scalar(np.finfo(logits.dtype).tiny, logits.dtype)))
    count = max(int(valid.sum()), 1)  # one number back to the host, as in the reference
    loss = (row_loss.sum() / count).astype(logits.dtype)
    return loss, probs, safe_targets, valid, count


def cross_entropy_backward_cuda(probs, safe_targets, valid, count: int, dloss):
    probs = cuda.contiguous(probs)
    xp = array_module(probs)
    safe_targets = cuda.contiguous(safe_targets, dtype=np.int64)
    valid = cuda.contiguous(valid, dtype=bool)
    dloss = xp.asarray(dloss, dtype=probs.dtype).reshape(1)  # a number on the device: no copy back
    rows, cols = probs.shape
    grad = xp.empty_like(probs)
    grid, block = cuda.row_launch(rows, cols)
    cuda.launch(SOURCE, "cross_entropy_backward", probs.dtype, grid, block,
                (probs, safe_targets, valid, dloss, grad, cuda.i64(rows), cuda.i64(cols),
                 cuda.scalar(count, probs.dtype)))
    return grad
