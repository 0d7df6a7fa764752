"""The CUDA kernels, run on the CPU: each kernel source is compiled with g++ against a tiny
emulation of CUDA (one OS thread per CUDA thread, a real barrier for ``__syncthreads()``,
``__shared__`` memory shared by the block's threads), launched by the package's own
Python code (grid sizes, argument order and types), and compared with the NumPy reference.

It is not a GPU: no warps, no memory model, no timing. But it runs the kernels' actual
index math, loops, bounds checks and block reductions, so a CPU machine catches the
logic errors that the NVRTC compile test (syntax and types only) cannot. Launch sizes are
shrunk (``cuda.settings``) so that grid-stride loops, rows longer than a block and
blocks handling several rows all happen on small inputs. Every argument is also checked
against the kernel's C signature, which is what CuPy will pass on a GPU (a Python float
would arrive as a double). Skipped without g++.
"""
import numpy as np
import pytest

from cuda_emulator import GXX, emulate
from minipeft.bench.kernel_timing import CASES_BY_NAME
from minipeft.kernels import cuda
from minipeft.testing import assert_outputs_close

pytestmark = pytest.mark.skipif(GXX is None, reason="needs g++ to build the CPU emulation of the CUDA kernels")


@pytest.fixture
def emulated(monkeypatch):
    """Kernels run by the emulator on NumPy arrays, with launch sizes small enough that
    rows are longer than blocks and grids smaller than the data."""
    monkeypatch.setitem(cuda.settings, "row_threads", 32)
    monkeypatch.setitem(cuda.settings, "elementwise_threads", 32)
    monkeypatch.setitem(cuda.settings, "max_blocks", 3)
    with cuda.use_launcher(emulate, numpy_arrays=True):
        yield


def copies(inputs):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


def compare(got, want, dtype, what):
    rtol, atol = (2e-5, 2e-6) if np.dtype(dtype) == np.float32 else (1e-12, 1e-13)
    assert_outputs_close(got, want, rtol, atol, what)


# Shapes chosen against the shrunk launch sizes: rows of 1, 5, 31, 32, 33, 100 columns
# (one row per block of 32 threads, or several strides of it), more rows than the 3 blocks.
SHAPES = {
    "softmax": [(1, 1), (3, 5), (7, 32), (4, 33), (5, 100), (2, 3, 17)],
    "log_softmax": [(1, 1), (3, 5), (7, 33), (5, 100)],
    "layer_norm": [(1, 1), (3, 5), (7, 33), (70, 40), (2, 3, 100)],
    "gelu": [(1,), (31,), (33, 3), (5, 100), (2, 3, 4, 5)],
    "cross_entropy": [(1, 1), (3, 2), (7, 33), (6, 100)],
    "attention": [((2, 3, 5, 4), "padding"), ((2, 2, 7, 3), "causal"), ((3, 6, 8), "none"),
                  ((2, 3, 6, 4), "random"), ((3, 7, 2), "random"), ((1, 2, 33, 5), "padding"),
                  ((9, 4), "causal")],
    "adam": [(1, "adam"), (100, "adam_l2"), (1000, "adamw")],
    "tiled_matmul": [(1, 1, 1), (17, 5, 33), (16, 16, 16), (2, 20, 35, 18)],
}


def _case_params():
    for name, specs in SHAPES.items():
        for spec in specs:
            yield pytest.param(name, spec, id=f"{name}-{spec}")


@pytest.mark.parametrize("name, spec", list(_case_params()))
def test_kernel_matches_reference_float32(emulated, name, spec):
    check_case(name, spec, np.float32)


@pytest.mark.parametrize("name", list(SHAPES))
def test_kernel_matches_reference_float64(emulated, name):
    check_case(name, SHAPES[name][-1], np.float64)


def check_case(name, spec, dtype):
    case = CASES_BY_NAME[name]
    inputs = case.inputs(np.random.default_rng(7), spec, dtype)
    before = dict(cuda.launches)
    kernel_in = copies(inputs)
    got = case.forward(kernel_in)
    assert sum(cuda.launches.values()) > sum(before.values()), f"{name}: no kernel was launched"
    with cuda.kernels_disabled():
        reference_in = copies(inputs)
        want = case.forward(reference_in)
    compare(got, want, dtype, f"{name} {spec} forward")
    if case.backward is not None:
        got_back = case.backward(kernel_in, got)
        with cuda.kernels_disabled():
            want_back = case.backward(reference_in, want)
        compare(got_back, want_back, dtype, f"{name} {spec} backward")


def test_layer_norm_backward_computes_only_what_is_asked(emulated):
    from minipeft.kernels import layernorm

    case = CASES_BY_NAME["layer_norm"]
    a = case.inputs(np.random.default_rng(1), (6, 10), np.float32)
    y, xhat, rstd = layernorm.layer_norm_forward(a["x"], a["gamma"], a["beta"], a["eps"])
    for need in [(True, False, False), (False, True, False), (False, False, True), (False, True, True)]:
        got = layernorm.layer_norm_backward(a["dy"], xhat, rstd, a["gamma"], *need)
        with cuda.kernels_disabled():
            want = layernorm.layer_norm_backward(a["dy"], xhat, rstd, a["gamma"], *need)
        compare(got, want, np.float32, f"need {need}")


def test_kernels_read_non_contiguous_inputs(emulated):
    from minipeft.kernels import gelu, softmax

    x = np.random.default_rng(2).standard_normal((40, 9)).astype(np.float32).T  # a transposed view
    got = softmax.softmax_forward(x)
    with cuda.kernels_disabled():
        want = softmax.softmax_forward(x)
    compare((got,), (want,), np.float32, "softmax of a transposed view")
    dy = np.broadcast_to(np.float32(0.5), x.shape)  # what Sum's backward hands on: strides 0
    y, t = gelu.gelu_forward(x)
    got = gelu.gelu_backward(x, t, dy)
    with cuda.kernels_disabled():
        want = gelu.gelu_backward(x, t, dy)
    compare((got,), (want,), np.float32, "gelu backward of a broadcast gradient")


def test_attention_in_a_model_runs_the_kernels_and_matches(emulated):
    """A whole encoder layer, forward and backward, with every kernel on, against the references."""
    import minipeft as mp

    def run():
        mp.manual_seed(0)
        layer = mp.nn.EncoderLayer(16, 4, 32)
        x = mp.tensor(np.random.default_rng(3).standard_normal((3, 5, 16)), requires_grad=True)
        mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=bool)
        layer(x, mask).sum().backward()
        return [x.grad] + [p.grad for p in layer.parameters()]

    before = sum(cuda.launches.values())
    got = run()
    launched = sum(cuda.launches.values()) - before
    assert launched >= 8, f"only {launched} kernel launches in an encoder layer's forward and backward"
    with cuda.kernels_disabled():
        want = run()
    compare(got, want, np.float32, "encoder layer gradients")
