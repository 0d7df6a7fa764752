"""Layer normalisation over the last axis (each token's vector on its own).

Forward, for one row x of length D:
    mu = mean(x),  rstd = 1 / sqrt(var(x) + eps),  xhat = (x - mu) * rstd
    y  = xhat * gamma + beta
Backward, with g = dy * gamma:
    dx     = rstd * (g - mean(g) - xhat * mean(g * xhat))
    dgamma = sum over rows of dy * xhat,   dbeta = sum over rows of dy

On CuPy arrays the functions launch the CUDA kernels at the end of this file instead.
"""
from __future__ import annotations

from ..backend import array_module
from . import cuda
from .rows import row_mean


def layer_norm_forward(x, gamma, beta, eps: float):
    """Returns y and what backward needs: (y, xhat, rstd)."""
    if cuda.wants(x, gamma, beta) and x.ndim >= 1 and gamma.shape == beta.shape == x.shape[-1:]:
        return layer_norm_forward_cuda(x, gamma, beta, eps)
    xp = array_module(x)
    mu = row_mean(x)
    xhat = x - mu
    var = row_mean(xhat * xhat)
    rstd = 1.0 / xp.sqrt(var + eps)  # (..., 1)
    xhat *= rstd
    y = xhat * gamma
    y += beta
    return y, xhat, rstd


def layer_norm_backward(dy, xhat, rstd, gamma, need_x=True, need_gamma=True, need_beta=True):
    """Returns (dx, dgamma, dbeta); each is None when not asked for."""
    if (cuda.wants(dy, xhat, rstd, gamma) and dy.ndim >= 1 and dy.shape == xhat.shape
            and gamma.shape == dy.shape[-1:] and rstd.size * dy.shape[-1] == dy.size):
        return layer_norm_backward_cuda(dy, xhat, rstd, gamma, need_x, need_gamma, need_beta)
    dx = dgamma = dbeta = None
    if need_x:
        g = dy * gamma
        dx = g - row_mean(g)
        g *= xhat
        dx -= xhat * row_mean(g)
        dx *= rstd
    rows_dy = dy.reshape(-1, dy.shape[-1])
    if need_gamma:
        dgamma = (rows_dy * xhat.reshape(rows_dy.shape)).sum(axis=0)
    if need_beta:
        dbeta = rows_dy.sum(axis=0)
    return dx, dgamma, dbeta


# ---- CUDA kernels ------------------------------------------------------------------------
# x is viewed as `rows` rows of `cols` (= D) entries, C order.
#
# layer_norm_forward, layer_norm_backward_x: one block per row (grid-stride over rows); the
#   block's threads stride along the row (thread t: columns t, t + blockDim.x, ...), and the
#   row's sums are block reductions (block_sum, kernels/cuda.py). The forward makes two
#   passes for the statistics, exactly like the reference: mu first, then the variance of
#   x - mu (steadier than E[x^2] - mu^2, which cancels badly when |mu| >> std).
#
# layer_norm_backward_params: dgamma and dbeta are sums over *rows*, one per column. Blocks
#   of PG_COLS x PG_ROWS (32 x 8) threads: threadIdx.x is a column inside a tile of 32
#   neighbouring columns (a warp reads 32 neighbouring numbers of a row: coalesced),
#   blockIdx.x the tile (grid-stride over tiles); blockIdx.y a chunk of rows_per_chunk rows,
#   down which the block's 8 rows of threads (threadIdx.y) stride. The 8 partial sums of each
#   column meet in shared memory, and the block writes partial[chunk, col]; the caller adds
#   the chunks with one small (chunks, D) reduction. No atomics, so the result is the same
#   from run to run.
PG_COLS, PG_ROWS = 32, 8  # block shape of layer_norm_backward_params
ROWS_PER_CHUNK = 64       # rows each block of layer_norm_backward_params sums (about)
MAX_CHUNKS = 1024         # so the partial sums stay small: (chunks, D)

CUDA_SOURCE = r"""
// mu = sum_j x_j / D;  var = sum_j (x_j - mu)^2 / D;  r = 1 / sqrt(var + eps)
// xhat_j = (x_j - mu) r;  y_j = xhat_j gamma_j + beta_j;  rstd[row] = r
extern "C" __global__ void layer_norm_forward(const real* x, const real* gamma, const real* beta,
                                              real* y, real* xhat, real* rstd,
                                              long long rows, long long cols, real eps) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = row * cols;  // index of the row's first entry
        real s = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) s += x[start + j];
        const real mu = block_sum(s, buf) / (real)cols;
        real ss = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
            const real c = x[start + j] - mu;
            ss += c * c;
        }
        const real var = block_sum(ss, buf) / (real)cols;
        const real r = (real)1 / sqrt(var + eps);
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
            const real h = (x[start + j] - mu) * r;
            xhat[start + j] = h;
            y[start + j] = h * gamma[j] + beta[j];
        }
        if (threadIdx.x == 0) rstd[row] = r;
    }
}

// g_j = dy_j gamma_j;  dx_j = r (g_j - mean(g) - xhat_j mean(g * xhat))
extern "C" __global__ void layer_norm_backward_x(const real* dy, const real* xhat, const real* rstd,
                                                 const real* gamma, real* dx, long long rows, long long cols) {
    __shared__ real buf[MAX_THREADS];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long start = row * cols;
        real sum_g = 0, sum_gx = 0;
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
            const real g = dy[start + j] * gamma[j];
            sum_g += g;
            sum_gx += g * xhat[start + j];
        }
        const real mean_g = block_sum(sum_g, buf) / (real)cols;
        const real mean_gx = block_sum(sum_gx, buf) / (real)cols;
        const real r = rstd[row];
        for (long long j = threadIdx.x; j < cols; j += blockDim.x) {
            const real g = dy[start + j] * gamma[j];
            dx[start + j] = ((g - mean_g) - xhat[start + j] * mean_gx) * r;
        }
    }
}

// partial_gamma[chunk, col] = sum over the chunk's rows of dy * xhat;  partial_beta: of dy
// (launched with blockDim = (PG_COLS, PG_ROWS); see the layout notes in layernorm.py)
extern "C" __global__ void layer_norm_backward_params(const real* dy, const real* xhat,
                                                      real* partial_gamma, real* partial_beta,
                                                      long long rows, long long cols,
                                                      long long rows_per_chunk, long long chunks) {
    __shared__ real sum_g[PG_ROWS][PG_COLS];
    __shared__ real sum_b[PG_ROWS][PG_COLS];
    for (long long chunk = blockIdx.y; chunk < chunks; chunk += gridDim.y) {
        const long long first = chunk * rows_per_chunk;  // rows first .. last - 1
        const long long last = (first + rows_per_chunk < rows) ? first + rows_per_chunk : rows;
        for (long long tile = (long long)blockIdx.x * PG_COLS; tile < cols; tile += (long long)gridDim.x * PG_COLS) {
            const long long col = tile + threadIdx.x;
            real g = 0, b = 0;
            if (col < cols) {
                for (long long r = first + threadIdx.y; r < last; r += blockDim.y) {
                    const real d = dy[r * cols + col];
                    g += d * xhat[r * cols + col];
                    b += d;
                }
            }
            sum_g[threadIdx.y][threadIdx.x] = g;
            sum_b[threadIdx.y][threadIdx.x] = b;
            __syncthreads();  // all 8 partial sums of every column are in shared memory
            if (threadIdx.y == 0 && col < cols) {
                real total_g = 0, total_b = 0;
                for (unsigned k = 0; k < blockDim.y; ++k) {
                    total_g += sum_g[k][threadIdx.x];
                    total_b += sum_b[k][threadIdx.x];
                }
                partial_gamma[chunk * cols + col] = total_g;
                partial_beta[chunk * cols + col] = total_b;
            }
            __syncthreads();  // read before the next tile overwrites sum_g, sum_b
        }
    }
}
"""
SOURCE = cuda.register("layernorm", CUDA_SOURCE,
                       ["layer_norm_forward", "layer_norm_backward_x", "layer_norm_backward_params"],
                       defines={"PG_COLS": PG_COLS, "PG_ROWS": PG_ROWS})


def layer_norm_forward_cuda(x, gamma, beta, eps: float):
    x, gamma, beta = (cuda.contiguous(a) for a in (x, gamma, beta))
    xp = array_module(x)
    cols = x.shape[-1]
    rows = x.size // cols
    y, xhat = xp.empty_like(x), xp.empty_like(x)
    rstd = xp.empty(x.shape[:-1] + (1,), dtype=x.dtype)  # (..., 1), as the reference returns it
    grid, block = cuda.row_launch(rows, cols)
    cuda.launch(SOURCE, "layer_norm_forward", x.dtype, grid, block,
                (x, gamma, beta, y, xhat, rstd, cuda.i64(rows), cuda.i64(cols), cuda.scalar(eps, x.dtype)))
    return y, xhat, rstd


def layer_norm_backward_cuda(dy, xhat, rstd, gamma, need_x=True, need_gamma=True, need_beta=True):
    dy, xhat, rstd, gamma = (cuda.contiguous(a) for a in (dy, xhat, rstd, gamma))
    xp = array_module(dy)
    cols = dy.shape[-1]
    rows = dy.size // cols
    dx = dgamma = dbeta = None
    if need_x:
        dx = xp.empty_like(dy)
        grid, block = cuda.row_launch(rows, cols)
        cuda.launch(SOURCE, "layer_norm_backward_x", dy.dtype, grid, block,
                    (dy, xhat, rstd, gamma, dx, cuda.i64(rows), cuda.i64(cols)))
    if need_gamma or need_beta:
        chunks = min(-(-rows // ROWS_PER_CHUNK), MAX_CHUNKS)
        rows_per_chunk = -(-rows // chunks)  # ceil: the chunks cover every row
        partial_gamma = xp.empty((chunks, cols), dtype=dy.dtype)
        partial_beta = xp.empty((chunks, cols), dtype=dy.dtype)
        grid = (min(-(-cols // PG_COLS), cuda.max_blocks()), chunks)
        cuda.launch(SOURCE, "layer_norm_backward_params", dy.dtype, grid, (PG_COLS, PG_ROWS),
                    (dy, xhat, partial_gamma, partial_beta, cuda.i64(rows), cuda.i64(cols),
                     cuda.i64(rows_per_chunk), cuda.i64(chunks)))
        dgamma = partial_gamma.sum(axis=0) if need_gamma else None
        dbeta = partial_beta.sum(axis=0) if need_beta else None
    return dx, dgamma, dbeta
