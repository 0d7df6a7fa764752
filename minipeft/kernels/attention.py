"""Scaled dot-product attention, fused: scores, mask, softmax and the weighted sum in one op.

For queries q (..., Tq, dh), keys k (..., Tk, dh) and values v (..., Tk, dv):

    S = q k^T / sqrt(dh)                 (..., Tq, Tk)  how well each query matches each key
    S[~mask] = MASKED                    a position that may not be attended gets a huge
                                         negative score, so its weight below is exactly 0
    P = softmax(S) over the keys         (..., Tq, Tk)  each row sums to 1
    O = P v                              (..., Tq, dv)  each query's weighted mix of the values

Backward, given dO = dL/dO (the chain rule through each line above, in reverse):

    dV = P^T dO                          (..., Tk, dv)
    dP = dO V^T                          (..., Tq, Tk)
    dS = P * (dP - rowsum(dP * P))       softmax's backward, row by row
    dS[~mask] = 0                        masked scores are constants, not functions of q, k
    dQ = dS K / sqrt(dh)                 (..., Tq, dh)
    dK = dS^T Q / sqrt(dh)               (..., Tk, dh)

Masked scores are set to ``MASKED = finfo(dtype).min / 2`` rather than -inf: then a row
whose keys are *all* masked has equal scores everywhere and attends uniformly (its output
is the mean of v, and no gradient reaches q or k) instead of dividing 0 by 0 into NaN.
In a row with at least one open key, exp(MASKED - max) underflows to exactly 0.

Keeping the op fused stores only P for backward (plus q, k, v as the gradients asked for
need them), where separate ops would also keep S and the masked S. Every product goes
through ``gemm`` so it is counted. Works for NumPy and CuPy arrays alike; on CuPy arrays
the steps between the products (scale, mask, softmax; and softmax's backward with the
mask and scale) are one CUDA kernel each (end of this file), the products stay cuBLAS.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from . import cuda
from .matmul import gemm
from .rows import row_sum
from .softmax import softmax_forward


def _swap_last(x):
    return x.swapaxes(-1, -2)


def masked_score(dtype) -> float:
    """The score given to positions that may not be attended: half the most negative float."""
    return float(np.finfo(dtype).min) / 2


def attention_forward(q, k, v, mask=None):
    """O = softmax(q k^T / sqrt(dh), masked) v. Returns (O, P); backward needs P.

    ``mask`` is boolean, broadcastable to (..., Tq, Tk); True means "may attend".
    """
    if _kernel_fits(mask, q, k, v):
        return attention_forward_cuda(q, k, v, mask)
    xp = array_module(q)
    scores = gemm(q, _swap_last(k))  # (..., Tq, Tk)
    scores *= 1.0 / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = xp.where(mask, scores, scores.dtype.type(masked_score(scores.dtype)))  # (..., Tq, Tk)
    probs = softmax_forward(scores)  # (..., Tq, Tk), rows sum to 1
    return gemm(probs, v), probs  # (..., Tq, dv), (..., Tq, Tk)


def attention_backward(dout, probs, q=None, k=None, v=None, mask=None,
                       need_q=True, need_k=True, need_v=True):
    """Returns (dQ, dK, dV) from dO and P (see the module docstring); None where not asked.

    dV needs only P; dQ needs k and v; dK needs q and v.
    """
    if (need_q or need_k) and _kernel_fits(mask, dout, probs, v, k if k is not None else q):
        return attention_backward_cuda(dout, probs, q, k, v, mask, need_q, need_k, need_v)
    dq = dk = dv = None
    if need_v:
        dv = gemm(_swap_last(probs), dout)  # (..., Tk, dv)
    if need_q or need_k:
        dscores = gemm(dout, _swap_last(v))  # dP: (..., Tq, Tk)
        dscores -= row_sum(dscores * probs)  # dP - rowsum(dP * P)
        dscores *= probs  # dS = P * (dP - rowsum(dP * P))
        if mask is not None:
            dscores *= mask  # a masked score was a constant: no gradient flows through it
        head_dim = (k if k is not None else q).shape[-1]
        dscores *= 1.0 / math.sqrt(head_dim)
        if need_q:
            dq = gemm(dscores, k)  # (..., Tq, dh)
        if need_k:
            dk = gemm(_swap_last(dscores), q)  # (..., Tk, dh)
    return dq, dk, dv


# ---- CUDA kernels ------------------------------------------------------------------------
# Between its matrix products (cuBLAS), attention does row work on the (..., Tq, Tk) scores:
# forward  S * scale -> mask -> softmax;  backward  dP -> P (dP - rowsum(dP P)) -> mask -> scale.
# Each is one kernel here, laid out like softmax_forward: one block per row of Tk scores
# (grid-stride over rows), threads striding along the row, block_max / block_sum for the
# row's max and sums. Both work in place (the output may be the input buffer): every entry
# is read by the thread that later writes it, and all reads for the row's sums finish
# before the block reduction's __syncthreads, so no thread overwrites a value another
# still needs.
#
# The mask is read where it lies, never copied to the scores' size: scores are viewed as
# 4-D (n0, n1, Tq, Tk) (e.g. batch, heads), and the mask by its strides in that view, with
# stride 0 along broadcast axes; a (B, 1, 1, Tk) padding mask has strides (Tk, 0, 0, 1).
# Row r of the scores is (i0, i1, q) = (r / (n1 Tq), (r / Tq) % n1, r % Tq).
ATTENTION_SOURCE = r"""
// The mask entries of score row `row` start here (j-th at [j * ms3]).
__device__ const bool* mask_row(const bool* mask, long long row, long long n1, long long tq,
                                long long ms0, long long ms1, long long ms2) {
    const long long q = row % tq;
    const long long i1 = (row / tq) % n1;
    const long long i0 = row / (tq * n1);
    return mask + i0 * ms0 + i1 * ms1 + q * ms2;
}

// Score j of a row after scaling and masking: s_j * scale where the mask allows, else `masked`.
__device__ real scaled_score(const real* s, const bool* mr, long long j, long long ms3,
                             int has_mask, real scale, real masked) {
    return (!has_mask || mr[j * ms3]) ? s[j] * scale : masked;
}

// P = softmax(mask ? S * scale : masked) over each row; `probs` may be `scores` (in place)
extern "C" __global__ void attention_softmax_forward(const real* scores, real* probs, const bool* mask,
                                                     long long rows, long long cols, long long n1, long long tq,
                                                     long long ms0, long long ms1, long long ms2, long long ms3,
                                                     int has_mask, real scale, real masked) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const real* s = scores + row * cols;
        real* p = probs + row * cols;
        const bool* mr = has_mask ? mask_row(mask, row, n1, tq, ms0, ms1, ms2) : mask;
        real m = scaled_score(s, mr, 0, ms3, has_mask, scale, masked);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            m = fmax(m, scaled_score(s, mr, j, ms3, has_mask, scale, masked));
        m = block_max(m, buf);
        real total = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            total += exp(scaled_score(s, mr, j, ms3, has_mask, scale, masked) - m);
        total = block_sum(total, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x)
            p[j] = exp(scaled_score(s, mr, j, ms3, has_mask, scale, masked) - m) / total;
    }
}

// dS = P (dP - rowsum(dP P)), 0 where masked, times scale; `dscores` may be `dprobs` (in place)
extern "C" __global__ void attention_softmax_backward(const real* dprobs, const real* probs, real* dscores,
                                                      const bool* mask, long long rows, long long cols,
                                                      long long n1, long long tq,
                                                      long long ms0, long long ms1, long long ms2, long long ms3,
                                                      int has_mask, real scale) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = row * cols;
        const bool* mr = has_mask ? mask_row(mask, row, n1, tq, ms0, ms1, ms2) : mask;
        real dot = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) dot += dprobs[start + j] * probs[start + j];
        dot = block_sum(dot, buf);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
            real ds = (dprobs[start + j] - dot) * probs[start + j];
            if (has_mask && !mr[j * ms3]) ds = 0;  // a masked score was a constant
            dscores[start + j] = ds * scale;
        }
    }
}
"""
SOURCE = cuda.register("attention", ATTENTION_SOURCE, ["attention_softmax_forward", "attention_softmax_backward"])


def _kernel_fits(mask, *arrays) -> bool:
    """The kernels take float arrays of 2 to 4 axes and a boolean mask (or None)."""
    return (cuda.wants(*arrays) and 2 <= arrays[0].ndim <= 4
            and (mask is None or (cuda.on_device(mask) and mask.dtype == bool and mask.ndim <= arrays[0].ndim)))


def _mask_layout(mask, scores_shape, xp):
    """(mask array, has_mask, n1, Tq, four strides in entries) for the kernels (see above)."""
    shape4 = (1,) * (4 - len(scores_shape)) + tuple(scores_shape)  # (n0, n1, Tq, Tk)
    if mask is None:
        return xp.ones(1, dtype=bool), 0, shape4[1], shape4[2], (0, 0, 0, 0)
    mask = cuda.contiguous(mask)
    view = xp.broadcast_to(mask, scores_shape)  # strides 0 on broadcast axes; same memory as mask
    strides = (0,) * (4 - len(scores_shape)) + tuple(s // mask.itemsize for s in view.strides)
    return mask, 1, shape4[1], shape4[2], strides


def _row_softmax_kernel(name, scores_shape, dtype, arrays, mask, extra):
    xp = array_module(arrays[0])
    mask, has_mask, n1, tq, strides = _mask_layout(mask, scores_shape, xp)
    cols = scores_shape[-1]
    rows = math.prod(scores_shape) // cols
    grid, block = cuda.row_launch(rows, cols)
    cuda.launch(SOURCE, name, dtype, grid, block,
                (*arrays, mask, cuda.i64(rows), cuda.i64(cols), cuda.i64(n1), cuda.i64(tq),
                 *(cuda.i64(s) for s in strides), cuda.i32(has_mask), *extra))


def attention_forward_cuda(q, k, v, mask=None):
    """attention_forward with the scale, mask and softmax in one kernel, in place on S."""
    scores = cuda.contiguous(gemm(q, _swap_last(k)))  # (..., Tq, Tk), a fresh array
    scale = 1.0 / math.sqrt(q.shape[-1])
    _row_softmax_kernel("attention_softmax_forward", scores.shape, scores.dtype, (scores, scores), mask,
                        (cuda.scalar(scale, scores.dtype), cuda.scalar(masked_score(scores.dtype), scores.dtype)))
    probs = scores  # overwritten in place
    return gemm(probs, v), probs


def attention_backward_cuda(dout, probs, q=None, k=None, v=None, mask=None,
                            need_q=True, need_k=True, need_v=True):
    """attention_backward with softmax's backward, the mask and the scale in one kernel."""
    dq = dk = dv = None
    if need_v:
        dv = gemm(_swap_last(probs), dout)  # (..., Tk, dv)
    if need_q or need_k:
        probs = cuda.contiguous(probs)
        dscores = cuda.contiguous(gemm(dout, _swap_last(v)))  # dP: (..., Tq, Tk), a fresh array
        head_dim = (k if k is not None else q).shape[-1]
        _row_softmax_kernel("attention_softmax_backward", dscores.shape, dscores.dtype,
                            (dscores, probs, dscores), mask,
                            (cuda.scalar(1.0 / math.sqrt(head_dim), dscores.dtype),))
        if need_q:
            dq = gemm(dscores, k)  # (..., Tq, dh)
        if need_k:
            dk = gemm(_swap_last(dscores), q)  # (..., Tk, dh)
    return dq, dk, dv
