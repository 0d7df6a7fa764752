"""Matrix products: every GEMM in minipeft goes through ``gemm`` so that it can be counted.

Counting shows what ``ctx.needs_input_grad`` buys: a linear layer whose weight is frozen
does two matrix products per step (forward, and the gradient for its input) instead of three.

    with count_gemms() as count:
        loss.backward()
    print(count.calls, count.flops, count.seconds)

``count.seconds`` is the time spent inside the products, read on the host clock: right
on the CPU; on a GPU a product returns before it has run, so there it means little.

On a GPU ``gemm`` is CuPy's matmul, i.e. cuBLAS. ``tiled_matmul`` at the end of this file
is a hand-written shared-memory kernel to read and time against it (it is not used by
default: cuBLAS is many times faster).
"""
from __future__ import annotations

import time

from ..backend import array_module
from . import cuda

_counters: list["GemmCount"] = []


class GemmCount:
    """How many matrix products ran, how many floating-point operations they did, and how long they took."""

    def __init__(self):
        self.calls = 0
        self.flops = 0
        self.seconds = 0.0

    def add(self, a, out, seconds: float) -> None:
        self.calls += 1
        self.flops += 2 * out.size * a.shape[-1]
        self.seconds += seconds


class count_gemms:
    """Context manager: count the matrix products run inside it (see the module docstring)."""

    def __enter__(self) -> GemmCount:
        self.count = GemmCount()
        _counters.append(self.count)
        return self.count

    def __exit__(self, *exc):
        _counters.remove(self.count)


def gemm(a, b):
    """a @ b (batched and broadcasting like numpy.matmul), counted."""
    if not _counters:
        return a @ b
    start = time.perf_counter()
    out = a @ b
    seconds = time.perf_counter() - start
    for counter in _counters:
        counter.add(a, out, seconds)
    return out


# ---- a tiled matrix product on the GPU, written for learning ----------------------------
# C = A @ B for A (M, K), B (K, N), C (M, N), row-major; a stack of `batch` of them.
#
# Layout: blocks of TILE x TILE threads (16 x 16 = 256); block (bx, by) computes the TILE x
# TILE output tile with rows by*TILE .. by*TILE + TILE - 1 and columns bx*TILE .. + TILE - 1,
# and thread (tx, ty) in it owns the one output C[row, col], row = by*TILE + ty,
# col = bx*TILE + tx. blockIdx.z is the matrix in the stack. (Grid-stride loops over all
# three, for grids smaller than the output.)
#
# A naive kernel would read a whole row of A and column of B from global memory for every
# output: 2K loads per 2K flops. Here the block walks the K axis in steps of TILE: at each
# step its 256 threads each load ONE entry of A's tile and ONE of B's tile into shared
# memory, wait (__syncthreads), and then every thread does TILE multiply-adds reading only
# shared memory. Each loaded number is used TILE times: TILE times less global traffic.
# Entries outside the matrices load as 0 (edges where M, N or K is not a multiple of TILE).
# cuBLAS goes much further (each thread computes many outputs from registers, larger
# tiles, loads overlapped with arithmetic), which is why it stays the default.
TILE = 16

MATMUL_SOURCE = r"""
extern "C" __global__ void tiled_matmul(const real* A, const real* B, real* C,
                                        long long M, long long N, long long K, long long batch) {
    __shared__ real As[TILE][TILE];  // As[ty][k] = A[row of thread ty, k0 + k]
    __shared__ real Bs[TILE][TILE];  // Bs[k][tx] = B[k0 + k, column of thread tx]
    const unsigned tx = threadIdx.x, ty = threadIdx.y;
    for (long long b = blockIdx.z; b < batch; b += gridDim.z) {
        const real* Ab = A + b * M * K;  // this matrix of the stack
        const real* Bb = B + b * K * N;
        real* Cb = C + b * M * N;
        for (long long tile_row = blockIdx.y; tile_row * TILE < M; tile_row += gridDim.y) {
            for (long long tile_col = blockIdx.x; tile_col * TILE < N; tile_col += gridDim.x) {
                const long long row = tile_row * TILE + ty;
                const long long col = tile_col * TILE + tx;
                real acc = 0;
                for (long long k0 = 0; k0 < K; k0 += TILE) {
                    As[ty][tx] = (row < M && k0 + tx < K) ? Ab[row * K + k0 + tx] : (real)0;
                    Bs[ty][tx] = (k0 + ty < K && col < N) ? Bb[(k0 + ty) * N + col] : (real)0;
                    __syncthreads();  // both tiles loaded
                    for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
                    __syncthreads();  // everyone done with the tiles before the next load
                }
                if (row < M && col < N) Cb[row * N + col] = acc;
            }
        }
    }
}
"""
SOURCE = cuda.register("matmul", MATMUL_SOURCE, ["tiled_matmul"], defines={"TILE": TILE})


def tiled_matmul(a, b):
    """a @ b by the tiled kernel above on CuPy arrays, numpy.matmul otherwise (not counted,
    not used by the models). Shapes (M, K) @ (K, N) or (batch, M, K) @ (batch, K, N)."""
    if (cuda.wants(a, b) and a.ndim == b.ndim and a.ndim in (2, 3) and a.shape[:-2] == b.shape[:-2]
            and a.shape[-1] == b.shape[-2]):
        return tiled_matmul_cuda(a, b)
    return a @ b


def tiled_matmul_cuda(a, b):
    a, b = cuda.contiguous(a), cuda.contiguous(b)
    m, k = a.shape[-2:]
    n = b.shape[-1]
    batch = a.shape[0] if a.ndim == 3 else 1
    out = array_module(a).empty(a.shape[:-1] + (n,), dtype=a.dtype)
    limit = cuda.max_blocks()
    grid = (min(-(-n // TILE), limit), min(-(-m // TILE), limit, 65535), min(batch, 65535))
    cuda.launch(SOURCE, "tiled_matmul", a.dtype, grid, (TILE, TILE),
                (a, b, out, cuda.i64(m), cuda.i64(n), cuda.i64(k), cuda.i64(batch)))
    return out
