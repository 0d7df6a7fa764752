"""The CUDA kernels on a real GPU: each one, forward and backward, against its NumPy
reference, and a whole training step on the GPU against the same step on the CPU.

Marked ``gpu``: skipped (with the reason) where CuPy or a GPU is missing; see tests/conftest.py.
Run them with ``python -m pytest -m gpu -rs``.
"""
import numpy as np
import pytest

import minipeft as mp
from minipeft import backend
from minipeft.bench.kernel_timing import CASES_BY_NAME, to_device
from minipeft.kernels import cuda
from minipeft.testing import assert_outputs_close, assert_same_training, run_training_steps

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpu():
    """The current device is cuda during the test and is put back afterwards."""
    before = backend.get_device()
    mp.set_device("cuda")
    yield backend.xp_for("cuda")
    mp.set_device(before)


# Shapes around the default launch sizes (512 threads per row block, 256 per elementwise
# block): 1, 31, 513, 1000, 2049 columns, rows from 1 to several thousand.
SHAPES = {
    "softmax": [(1, 1), (3, 1000), (1000, 7), (257, 513), (5, 2049), (2, 3, 128)],
    "log_softmax": [(1, 1), (3, 1000), (257, 513), (5, 2049)],
    "layer_norm": [(1, 1), (3, 5), (4096, 768), (300, 1025), (2, 7, 64)],
    "gelu": [(1,), (1000,), (4096, 3072), (3, 5, 7)],
    "cross_entropy": [(1, 1), (3, 2), (257, 1000), (64, 30522)],
    "attention": [((2, 3, 5, 4), "padding"), ((4, 12, 128, 64), "padding"), ((2, 4, 33, 16), "causal"),
                  ((3, 70, 8), "none"), ((2, 3, 17, 8), "random")],
    "adam": [(1, "adam"), (1001, "adam_l2"), (3_000_001, "adamw")],
    "tiled_matmul": [(1, 1, 1), (17, 5, 33), (128, 768, 256), (3, 65, 31, 47)],
}
FLOAT32 = (1e-4, 1e-5)  # rtol, atol (times the output's largest entry): GPU exp/tanh differ in the last bits
FLOAT64 = (1e-10, 1e-12)


def _params():
    for name, specs in SHAPES.items():
        for spec in specs:
            yield pytest.param(name, spec, id=f"{name}-{spec}")


def compare(got, want, tolerances, what):
    assert_outputs_close(got, want, *tolerances, what)


def check_case(name, spec, dtype, tolerances):
    case = CASES_BY_NAME[name]
    host = case.inputs(np.random.default_rng(11), spec, dtype)
    device_inputs = to_device(host, "cuda")
    launched = sum(cuda.launches.values())
    got = case.forward(device_inputs)
    assert sum(cuda.launches.values()) > launched, f"{name}: no CUDA kernel ran"
    reference_inputs = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in host.items()}
    want = case.forward(reference_inputs)  # NumPy arrays: the reference
    compare(got, want, tolerances, f"{name} {spec} forward")
    if case.backward is not None:
        compare(case.backward(device_inputs, got), case.backward(reference_inputs, want), tolerances,
                f"{name} {spec} backward")


@pytest.mark.parametrize("name, spec", list(_params()))
def test_kernel_matches_numpy_reference(gpu, name, spec):
    check_case(name, spec, np.float32, FLOAT32)


@pytest.mark.parametrize("name", list(SHAPES))
def test_kernel_matches_numpy_reference_float64(gpu, name):
    check_case(name, SHAPES[name][2], np.float64, FLOAT64)


@pytest.mark.parametrize("name", list(SHAPES))
def test_kernel_with_a_small_grid_strides_over_the_data(gpu, name, monkeypatch):
    """Two blocks per launch: every block must loop over many rows (or entries)."""
    monkeypatch.setitem(cuda.settings, "max_blocks", 2)
    check_case(name, SHAPES[name][2], np.float32, FLOAT32)


def test_naive_composition_on_the_gpu_matches_too(gpu):
    """The benchmark's "naive" side (references on CuPy arrays) computes the same thing."""
    with cuda.kernels_disabled():
        launched = sum(cuda.launches.values())
        for name in SHAPES:
            check_case_naive(name)
        assert sum(cuda.launches.values()) == launched, "a kernel ran although kernels were disabled"


def check_case_naive(name):
    case = CASES_BY_NAME[name]
    host = case.inputs(np.random.default_rng(5), SHAPES[name][1], np.float32)
    got = case.forward(to_device(host, "cuda"))
    want = case.forward({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in host.items()})
    compare(got, want, FLOAT32, f"{name} naive forward")


@pytest.mark.parametrize("adapters", [False, True], ids=["full", "adapters"])
def test_a_training_step_on_the_gpu_matches_the_cpu(gpu, adapters):
    launched = sum(cuda.launches.values())
    on_gpu = run_training_steps("cuda", "bench-small", adapters)
    assert sum(cuda.launches.values()) - launched > 50, "the GPU training step ran few CUDA kernels"
    on_cpu = run_training_steps("cpu", "bench-small", adapters)
    assert_same_training(on_gpu, on_cpu, loss_rtol=1e-4, grad_rtol=2e-3, weight_atol=5e-4, what="GPU vs CPU")
