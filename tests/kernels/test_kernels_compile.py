"""Every CUDA kernel source compiles with NVRTC for compute_90 (H100 / H200), without a GPU.

CuPy compiles the kernels at their first launch, on the GPU machine. Compiling them here
too, with the same NVRTC and the options CuPy adds, turns a typo or a type error in a
kernel into a failed test on any machine where CuPy and the CUDA NVRTC library are
installed (``pip install -e '.[cuda13]'``; CI does). Each source is compiled for float32
and float64 (``typedef ... real;``). Skipped, with the reason, where they are missing.
Whether the kernels compute the right thing is tested by tests/emulated/test_kernels_emulated.py (on
the CPU) and test_kernels_gpu.py (on a GPU).
"""
import pytest

import minipeft.kernels  # noqa: F401  (importing the families registers their sources)
from minipeft.kernels import cuda

ARCH = "compute_90"
FAMILIES = {"adam", "attention", "cross_entropy", "gelu", "layernorm", "matmul", "softmax"}


def _nvrtc():
    """(nvrtc module, None) when CuPy's NVRTC bindings and the NVRTC library load, else (None, reason)."""
    try:
        from cupy_backends.cuda.libs import nvrtc
    except ImportError as err:
        return None, f"CuPy is not installed ({err}); pip install -e '.[cuda13]' to compile-check the kernels"
    try:
        nvrtc.getVersion()
    except Exception as err:  # the NVRTC shared library is missing or does not load
        return None, (f"the CUDA NVRTC library is not available ({type(err).__name__}: {err}); "
                      f"pip install 'nvidia-cuda-nvrtc>=13,<14'")
    return nvrtc, None


NVRTC, MISSING = _nvrtc()
needs_nvrtc = pytest.mark.skipif(NVRTC is None, reason=MISSING or "")


def compile_to_ptx(source, dtype) -> str:
    """Compile like CuPy's RawModule does, for ARCH; raise with NVRTC's log on an error."""
    program = NVRTC.createProgram(source.full(dtype), f"{source.family}.cu", [], [])
    options = list(cuda.COMPILE_OPTIONS + cuda.CUPY_ADDED_OPTIONS) + [f"-arch={ARCH}"]
    try:
        NVRTC.compileProgram(program, options)
    except Exception as err:
        raise AssertionError(f"NVRTC could not compile the {source.family} kernels ({dtype}):\n"
                             f"{NVRTC.getProgramLog(program)}") from err
    log = NVRTC.getProgramLog(program)
    log = log.decode() if isinstance(log, bytes) else log
    assert "warning" not in log.lower(), f"{source.family} ({dtype}) compiles with warnings:\n{log}"
    ptx = NVRTC.getPTX(program)
    return ptx.decode() if isinstance(ptx, bytes) else ptx


def test_every_kernel_family_registers_its_source():
    assert set(cuda.SOURCES) == FAMILIES


@needs_nvrtc
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_kernel_source_compiles_for_compute_90(family, dtype):
    source = cuda.SOURCES[family]
    ptx = compile_to_ptx(source, dtype)
    for name in source.kernels:
        assert f".entry {name}(" in ptx, f"kernel {name} is missing from the compiled {family} module"
    if dtype == "float32":  # a stray double constant would make float32 kernels compute in double
        assert ".f64" not in ptx, f"the float32 {family} kernels do double-precision arithmetic"
