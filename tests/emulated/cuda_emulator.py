"""The CPU emulation of CUDA that the tests run the kernels on: each kernel source compiled
with g++ against a tiny CUDA (one OS thread per CUDA thread, a real barrier for
``__syncthreads()``, ``__shared__`` memory shared by the block's threads), launched by the
package's own Python code through ``minipeft.kernels.cuda.use_launcher(emulate)``.

``emulate`` also checks every argument against the kernel's C signature, which is what CuPy
will pass on a GPU (a Python float would arrive as a double). Device arrays of the
``fake_cupy`` stand-in are read through their NumPy buffer, so kernels launched on them
write where the caller's arrays live, as on a GPU.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import fake_cupy
from minipeft.kernels import cuda

GXX = shutil.which("g++")

EMULATION_HEADER = r"""
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
using namespace std;  // exp(float), fmax(float, float), ...: the float overloads, as in CUDA

struct dim3 { unsigned x, y, z; };
static thread_local dim3 threadIdx, blockIdx;  // each emulated thread has its own
static dim3 blockDim, gridDim;

struct Barrier {  // __syncthreads(): every thread of the block waits until all have arrived
    mutex m; condition_variable cv; unsigned count, waiting = 0, generation = 0;
    explicit Barrier(unsigned n) : count(n) {}
    void wait() {
        unique_lock<mutex> lock(m);
        unsigned gen = generation;
        if (++waiting == count) { waiting = 0; ++generation; cv.notify_all(); }
        else cv.wait(lock, [&] { return gen != generation; });
    }
};
static Barrier* block_barrier = nullptr;
static void __syncthreads() { block_barrier->wait(); }

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static  // one copy for the block's threads (blocks run one after another)

// Blocks run one at a time; inside a block, one OS thread per CUDA thread.
static void run_grid(dim3 grid, dim3 block, const function<void()>& body) {
    gridDim = grid; blockDim = block;
    const unsigned n = block.x * block.y * block.z;
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        Barrier barrier(n);
        block_barrier = &barrier;
        vector<thread> threads;
        for (unsigned tz = 0; tz < block.z; ++tz)
        for (unsigned ty = 0; ty < block.y; ++ty)
        for (unsigned tx = 0; tx < block.x; ++tx)
            threads.emplace_back([=, &body] { threadIdx = {tx, ty, tz}; blockIdx = {bx, by, bz}; body(); });
        for (auto& t : threads) t.join();
    }
}
"""

KERNEL = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', re.S)
SCALAR_TYPES = {"long long": (np.int64, ctypes.c_longlong), "int": (np.int32, ctypes.c_int),
                "bool": (np.bool_, ctypes.c_bool)}


def signatures(code: str) -> dict:
    """kernel name -> [(C type, parameter name)] read from the source."""
    found = {}
    for name, params in KERNEL.findall(code):
        found[name] = []
        for param in (p.strip() for p in params.split(",")):
            ctype, pname = re.match(r"(.*?)(\w+)$", param, re.S).groups()
            found[name].append((" ".join(ctype.split()), pname))
    return found


_built: dict = {}


def build(source, dtype):
    """Compile ``source`` for ``dtype`` with g++ (cached); returns (library, signatures)."""
    key = (source.family, np.dtype(dtype))
    if key not in _built:
        code = source.full(dtype)
        sigs = signatures(code)
        assert set(sigs) == set(source.kernels), f"{source.family}: kernels {sorted(sigs)} vs {source.kernels}"
        trampolines = []
        for name, params in sigs.items():
            args = ", ".join(f"*({ctype}*)args[{i}]" for i, (ctype, _) in enumerate(params))
            trampolines.append(f'extern "C" void launch_{name}(unsigned gx, unsigned gy, unsigned gz, unsigned bx, '
                               f'unsigned by, unsigned bz, void** args) {{ run_grid({{gx, gy, gz}}, {{bx, by, bz}}, '
                               f'[&] {{ {name}({args}); }}); }}')
        text = EMULATION_HEADER + code + "\n" + "\n".join(trampolines) + "\n"
        folder = Path(tempfile.gettempdir()) / "minipeft-emulated-kernels"
        folder.mkdir(exist_ok=True)
        digest = hashlib.sha1(text.encode()).hexdigest()[:16]
        lib = folder / f"{source.family}-{np.dtype(dtype).name}-{digest}.so"
        if not lib.exists():
            tmp = lib.with_suffix(f".{os.getpid()}.tmp")  # then renamed: parallel runs never see half a file
            proc = subprocess.run([GXX, "-std=c++17", "-O1", "-shared", "-fPIC", "-pthread", "-x", "c++", "-",
                                   "-o", str(tmp)], input=text, capture_output=True, text=True)
            assert proc.returncode == 0, f"g++ failed on {source.family} ({dtype}):\n{proc.stderr[:4000]}"
            tmp.replace(lib)
        _built[key] = (ctypes.CDLL(str(lib)), sigs)
    return _built[key]


def _pointee(ctype: str, dtype):
    base = ctype.replace("const", "").replace("*", "").strip()
    return np.dtype(dtype) if base == "real" else np.dtype(SCALAR_TYPES[base][0])


def emulate(source, name, dtype, grid, block, args):
    """A launcher for ``cuda.use_launcher``: checks each argument against the C signature
    (as CuPy would need it), then runs the kernel on the CPU."""
    lib, sigs = build(source, dtype)
    params = sigs[name]
    assert len(args) == len(params), f"{name}: {len(args)} arguments for {len(params)} parameters"
    assert 1 <= len(grid) <= 3 and 1 <= len(block) <= 3, (grid, block)
    assert all(isinstance(n, int) and n >= 1 for n in tuple(grid) + tuple(block)), (grid, block)
    threads = int(np.prod(block))
    assert threads <= cuda.MAX_THREADS, f"{name}: {threads} threads in a block"
    if len(block) == 1:
        assert threads & (threads - 1) == 0, f"{name}: block reductions need a power of two, got {threads}"
    keep = []
    for value, (ctype, pname) in zip(args, params):
        if "*" in ctype:
            if isinstance(value, fake_cupy.ndarray):
                value = value._host  # a device array of the stand-in: the kernel works on its buffer
            else:
                assert cuda.on_device(value), f"{name}({pname}): a host array passed to a kernel"
            assert isinstance(value, np.ndarray), f"{name}({pname}): expected an array, got {type(value)}"
            assert value.dtype == _pointee(ctype, dtype), f"{name}({pname}): {value.dtype} for {ctype}"
            assert value.flags.c_contiguous, f"{name}({pname}): not C-contiguous"
            if "const" not in ctype:
                assert value.flags.writeable, f"{name}({pname}) is written but read-only"
            keep.append(ctypes.c_void_p(value.ctypes.data))
        else:
            want = np.dtype(dtype) if ctype == "real" else np.dtype(SCALAR_TYPES[ctype][0])
            assert isinstance(value, np.generic) and value.dtype == want, \
                f"{name}({pname}): pass a {want} scalar for {ctype}, got {type(value).__name__}"
            ctor = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}.get(want)
            keep.append((ctor or SCALAR_TYPES[ctype][1])(value.item()))
    pointers = (ctypes.c_void_p * len(keep))(*[ctypes.cast(ctypes.pointer(k), ctypes.c_void_p) for k in keep])
    g = tuple(grid) + (1,) * (3 - len(grid))
    b = tuple(block) + (1,) * (3 - len(block))
    getattr(lib, f"launch_{name}")(*(ctypes.c_uint(n) for n in g + b), pointers)
