"""How the hand-written CUDA kernels are compiled, configured and launched.

Every kernel family (softmax.py, layernorm.py, gelu.py, cross_entropy.py, adam.py,
attention.py, matmul.py) holds two versions of its math side by side:

    the reference   array math that NumPy and CuPy both run: the specification
    a CUDA source   C++ for the GPU, compiled by CuPy (NVRTC) the first time it is used

and its public functions pick one:

    CuPy arrays in, kernels enabled  ->  the CUDA kernel (one launch, one pass over memory)
    anything else                    ->  the reference (NumPy on the CPU)

CUDA in five lines, for reading the kernels
    thread     runs the kernel's body once; ``threadIdx.x`` is its number inside its block
    block      ``blockDim.x`` threads (at most 1024) that share fast ``__shared__`` memory and
               can wait for each other with ``__syncthreads()``; ``blockIdx.x`` numbers it
    grid       all the blocks of one launch (``gridDim.x`` of them), spread over the GPU's SMs
    launch     ``kernel((blocks,), (threads,), args)``: returns at once; the GPU runs it later
    coalesced  neighbouring threads reading neighbouring addresses: one memory transaction

The layouts used here
    row kernels         softmax, layer norm, cross-entropy, attention's softmax: one block per
                        row; its threads stride along the row (thread t takes columns t,
                        t + blockDim.x, ...), and a row's max or sum is a *block reduction*
                        in shared memory (``block_sum``/``block_max`` in PRELUDE below)
    elementwise kernels GELU, Adam: one thread per entry
    grid-stride loops   every kernel loops ``for (i = first; i < n; i += stride)``, so a grid
                        smaller than the data (``settings["max_blocks"]``) still covers it all

Each source is written with ``real`` for its floating type; ``typedef float real;`` (or
``double``) goes in front, so one source serves float32 and float64 arrays, compiled once per
dtype. ``with kernels_disabled():`` (or ``MINIPEFT_CUDA_KERNELS=0``) runs the references on
CuPy instead: the "naive composition" that ``python -m minipeft.bench --device cuda`` times
each kernel against.
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..backend import array_module

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
MAX_THREADS = 1024  # the most threads a CUDA block may have; shared buffers are this long

# Launch sizes. The tests shrink them to reach the grid-stride and row-stride paths.
settings = {
    "row_threads": 512,          # most threads per block for a row kernel (a power of two)
    "elementwise_threads": 256,  # threads per block for an elementwise kernel
    "max_blocks": None,          # most blocks per launch; None: 32 per SM of the GPU
}

# Options NVRTC compiles with. CuPy adds "-std=c++17" (RawModule's default), "-ftz=true",
# "--device-as-default-execution-space" and "-arch=compute_XX" for the current GPU; the
# compile test passes the same set with -arch=compute_90 (H100/H200).
COMPILE_OPTIONS = ("-std=c++17",)
CUPY_ADDED_OPTIONS = ("-ftz=true", "--device-as-default-execution-space")

# Shared by every source: block-wide reductions in shared memory.
PRELUDE = r"""
#define MAX_THREADS 1024

// ---- block reductions ------------------------------------------------------------------
// Every thread of a block calls block_sum(v, buf) with its own partial value v and gets back
// the total over the whole block. blockDim.x must be a power of two (the launch helpers make
// it so) and buf a __shared__ array of at least blockDim.x entries. Every thread of the block
// must call it (it waits at __syncthreads), so call it only where the whole block goes.
//
//   buf[t] = v                          each thread t parks its value
//   for s = blockDim.x/2, /4, ..., 1:   threads t < s add buf[t + s] into buf[t]
//                                       (a __syncthreads() after each halving, so every
//                                        write is seen before the next round reads it)
//   return buf[0]                       and a last __syncthreads(), so that no thread
//                                       overwrites buf (next reduction) before all have read
__device__ real block_sum(real value, real* buf) {
    const unsigned t = threadIdx.x;
    buf[t] = value;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
    }
    const real total = buf[0];
    __syncthreads();
    return total;
}

// The same with max instead of +.
__device__ real block_max(real value, real* buf) {
    const unsigned t = threadIdx.x;
    buf[t] = value;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (t < s) buf[t] = fmax(buf[t], buf[t + s]);
        __syncthreads();
    }
    const real best = buf[0];
    __syncthreads();
    return best;
}
"""


@dataclass
class Source:
    """One family's CUDA C source: the kernels it defines and the constants it needs."""

    family: str
    code: str
    kernels: tuple[str, ...]
    defines: dict = field(default_factory=dict)  # name -> Python number, written as #define lines

    def full(self, dtype) -> str:
        """The complete text NVRTC compiles for arrays of ``dtype`` (float32 or float64)."""
        dtype = np.dtype(dtype)
        if dtype not in C_TYPES:
            raise TypeError(f"CUDA kernels ({self.family}) handle float32 and float64, got {dtype}")
        lines = [f"typedef {C_TYPES[dtype]} real;"]
        for name, value in self.defines.items():
            text = repr(value) if isinstance(value, float) else str(value)
            lines.append(f"#define {name} ((real){text})" if isinstance(value, float) else f"#define {name} {text}")
        return "\n".join(lines) + "\n" + PRELUDE + self.code


SOURCES: dict[str, Source] = {}  # family -> Source; the compile test walks all of them


def register(family: str, code: str, kernels, defines=None) -> Source:
    """Record a family's source (called once at import by each family file)."""
    source = Source(family, code, tuple(kernels), dict(defines or {}))
    SOURCES[family] = source
    return source


# ---- on or off --------------------------------------------------------------------------
_enabled = [os.environ.get("MINIPEFT_CUDA_KERNELS", "1") != "0"]


class kernels_disabled:
    """Inside this block the family functions run their references, even on CuPy arrays."""

    def __enter__(self):
        _enabled.append(False)

    def __exit__(self, *exc):
        _enabled.pop()


def enabled() -> bool:
    return _enabled[-1]


def is_cupy(array) -> bool:
    """True for a cupy.ndarray (without importing CuPy: no CuPy module, no CuPy arrays)."""
    cupy = sys.modules.get("cupy")
    return cupy is not None and isinstance(array, cupy.ndarray)


_numpy_is_device = [False]  # True only inside use_launcher(..., numpy_arrays=True): the CPU emulator


def on_device(array) -> bool:
    """True for an array the kernels can read: a CuPy array (or, under the tests' CPU
    emulator, a NumPy array)."""
    return is_cupy(array) or (_numpy_is_device[-1] and isinstance(array, np.ndarray))


def wants(*arrays) -> bool:
    """Should the CUDA kernel run? Kernels on, and every array a non-empty CuPy array of
    float32 or float64, all of one dtype. Otherwise the caller runs its reference."""
    if not _enabled[-1] or not arrays:
        return False
    dtype = getattr(arrays[0], "dtype", None)
    return dtype in FLOAT_DTYPES and all(
        on_device(a) and a.dtype == dtype and a.size > 0 for a in arrays)


# ---- launch sizes -----------------------------------------------------------------------
_sm_count = []


def max_blocks() -> int:
    """The most blocks one launch uses: settings["max_blocks"], else 32 per SM (several waves
    of blocks on every SM; a grid-stride loop inside the kernel covers the rest)."""
    if settings["max_blocks"] is not None:
        return settings["max_blocks"]
    if not _sm_count:
        import cupy

        device = cupy.cuda.Device()
        _sm_count.append(cupy.cuda.runtime.getDeviceProperties(device.id)["multiProcessorCount"])
    return 32 * _sm_count[0]


def row_threads(cols: int) -> int:
    """Threads per block for a row kernel: the smallest power of two >= the row length,
    between 32 (one warp) and settings["row_threads"]; longer rows are strided over."""
    threads = 32
    while threads < cols and threads < settings["row_threads"]:
        threads *= 2
    return threads


def row_launch(rows: int, cols: int):
    """(grid, block) for a row kernel: one block per row, up to max_blocks blocks."""
    return (min(rows, max_blocks()),), (row_threads(cols),)


def elementwise_launch(n: int):
    """(grid, block) for an elementwise kernel over n entries, one thread per entry."""
    threads = settings["elementwise_threads"]
    return (min((n + threads - 1) // threads, max_blocks()),), (threads,)


# ---- compiling and launching --------------------------------------------------------------
_kernels: dict = {}  # (family, kernel, dtype) -> cupy.RawKernel
launches: Counter = Counter()  # kernel name -> how many times it was launched (tests read it)


def get_kernel(source: Source, name: str, dtype):
    """The compiled kernel ``name`` of ``source`` for ``dtype``; compiled on first use."""
    key = (source.family, name, np.dtype(dtype))
    if key not in _kernels:
        import cupy

        module = cupy.RawModule(code=source.full(dtype), options=COMPILE_OPTIONS)
        _kernels[key] = module.get_function(name)
    return _kernels[key]


def _cupy_launcher(source: Source, name: str, dtype, grid, block, args) -> None:
    get_kernel(source, name, dtype)(grid, block, args)


_launcher = [_cupy_launcher]


class use_launcher:
    """Run launches through another function ``launcher(source, name, dtype, grid, block, args)``
    inside this block. The tests use a CPU emulator of the kernels (one OS thread per CUDA
    thread); with ``numpy_arrays=True`` NumPy arrays then take the kernel path too."""

    def __init__(self, launcher, numpy_arrays: bool = False):
        self.launcher, self.numpy_arrays = launcher, numpy_arrays

    def __enter__(self):
        _launcher.append(self.launcher)
        _numpy_is_device.append(self.numpy_arrays)

    def __exit__(self, *exc):
        _launcher.remove(self.launcher)
        _numpy_is_device.pop()


def launch(source: Source, name: str, dtype, grid, block, args) -> None:
    """Launch kernel ``name`` over ``grid`` blocks of ``block`` threads with ``args``.

    Scalars must be NumPy scalars of the kernel's C type (np.float32 for ``real`` with
    float32 arrays, np.int64 for ``long long``, np.int32 for ``int``): CuPy passes a plain
    Python float as a double and a Python int as a 64-bit integer, whatever the kernel expects.
    """
    if source.family not in SOURCES or name not in source.kernels:
        raise KeyError(f"no CUDA kernel {name!r} in family {source.family!r}")
    launches[name] += 1
    _launcher[-1](source, name, np.dtype(dtype), tuple(grid), tuple(block), tuple(args))


def scalar(value, dtype):
    """``value`` as a NumPy scalar of ``dtype`` (how a ``real`` argument must be passed)."""
    return np.dtype(dtype).type(value)


def i64(value) -> np.int64:
    """``value`` as a ``long long`` kernel argument."""
    return np.int64(value)


def i32(value) -> np.int32:
    """``value`` as an ``int`` kernel argument."""
    return np.int32(value)


def contiguous(array, dtype=None):
    """``array`` in C order (the kernels index rows as ``row * cols + col``); no copy if it is."""
    out = array_module(array).ascontiguousarray(array, dtype=dtype)
    return out if out.shape == array.shape else out.reshape(array.shape)  # 0-d stays 0-d
