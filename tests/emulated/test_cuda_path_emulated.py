"""The ``cuda`` code path, run on a CPU: ``fake_cupy`` stands in for CuPy (device arrays that
NumPy refuses to read, so any host array slipped into device math fails as it would on a GPU),
and the CUDA kernels run in the g++ emulator (``cuda_emulator``) on those device arrays.

What this shows without a GPU: every op, model, optimizer, training loop and lesson runs with
``device="cuda"`` through the same code as on a GPU, keeps its arrays on the device, and
computes what the CPU computes. What it cannot show: GPU speed, and the last-bit differences
of GPU math libraries (the ``gpu`` tests in tests/kernels do, on a GPU).
"""
import json
import operator
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fake_cupy
import minipeft as mp
from cuda_emulator import GXX, emulate
from minipeft import backend
from minipeft.autograd import Function
from minipeft.bench import TrainingStep
from minipeft.kernels import cuda
from minipeft.testing import assert_same_training, run_training_steps

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.py"))


@pytest.fixture
def fake_gpu(monkeypatch):
    """Device 'cuda' is fake_cupy during the test; the real CuPy (if imported) and the
    device come back afterwards."""
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    for key, value in (("cupy", None), ("rngs", {}), ("device", backend.get_device())):
        monkeypatch.setitem(backend._state, key, value)
    monkeypatch.setattr(cuda, "_sm_count", [])
    backend.set_device("cuda")
    yield fake_cupy


@pytest.fixture
def emulated_kernels(fake_gpu, monkeypatch):
    """...and the CUDA kernels run, emulated, on its device arrays (launch sizes shrunk so that
    rows outgrow blocks and grids are smaller than the data)."""
    if GXX is None:
        pytest.skip("needs g++ to build the CPU emulation of the CUDA kernels")
    monkeypatch.setitem(cuda.settings, "row_threads", 32)
    monkeypatch.setitem(cuda.settings, "elementwise_threads", 32)
    monkeypatch.setitem(cuda.settings, "max_blocks", 2)
    with cuda.use_launcher(emulate):
        yield


# ---- the stand-in is as strict as CuPy, so the tests below can fail -----------------------------
def test_the_stand_in_refuses_to_mix_host_and_device_arrays(fake_gpu):
    device = fake_gpu.asarray(np.arange(6.0).reshape(2, 3))
    host = np.ones((2, 3))
    mistakes = {
        "np.asarray(device)": lambda: np.asarray(device),
        "device + host": lambda: device + host,
        "host += device": lambda: operator.iadd(host, device),
        "cupy.exp(host)": lambda: fake_gpu.exp(host),
        "operator.index(device scalar)": lambda: operator.index(device[0, 0]),
    }
    for what, mistake in mistakes.items():
        with pytest.raises(TypeError):
            mistake()
            pytest.fail(f"{what} went through")
    total = device.sum()
    assert isinstance(total, fake_gpu.ndarray) and total.shape == (), "a reduction gives a 0-d device array"
    assert float(total) == 15.0 and isinstance(device.get(), np.ndarray)
    np.testing.assert_array_equal(device[np.array([1, 0])].get(), [[3, 4, 5], [0, 1, 2]])


def test_the_stand_in_has_only_the_names_cupy_has(fake_gpu):
    if fake_gpu._REAL is None:
        pytest.skip("needs CuPy installed (no GPU needed) to read its API from: pip install -e '.[cuda13]'")
    device = fake_gpu.asarray(np.ones(3))
    assert device.sum() == 3 and fake_gpu.add.at is not None  # NumPy names CuPy has pass
    with pytest.raises(AttributeError, match="normal"):
        fake_gpu.random.default_rng(0).normal(0.0, 1.0, 3)  # NumPy's generator has it, CuPy's does not
    with pytest.raises(TypeError, match="device"):
        fake_gpu.zeros(3, device="cpu")  # numpy.zeros takes device=, cupy.zeros does not


class _ScaleWithAHostBuffer(Function):
    """y = 2x, with the mistake a port to the GPU makes: a NumPy buffer in the backward."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, dy):
        grad = np.zeros(dy.shape, dtype=dy.dtype)  # should be xp.zeros: lives on the host
        grad += 2 * dy
        return (grad,)


def test_a_host_array_in_an_op_passes_on_the_cpu_and_fails_on_the_cuda_path(fake_gpu):
    for device in ("cpu", "cuda"):
        x = mp.tensor(np.ones(3), requires_grad=True, device=device)
        y = _ScaleWithAHostBuffer.apply(x)
        if device == "cpu":
            y.sum().backward()
            np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
        else:
            with pytest.raises(TypeError, match="cupy"):
                y.sum().backward()


# ---- models, optimizers and training steps -------------------------------------------------------
def test_a_training_step_on_cuda_keeps_every_array_on_the_device(fake_gpu, emulated_kernels):
    step = TrainingStep("bench-tiny")
    loss = step()
    assert isinstance(loss, float) and np.isfinite(loss)
    for name, param in step.model.named_parameters():
        assert param.device == "cuda", name
        assert isinstance(param.data, fake_gpu.ndarray), f"{name}: weights on the host"
        assert isinstance(param.grad, fake_gpu.ndarray), f"{name}: gradient on the host"
    for i, state in enumerate(step.optimizer.state.values()):
        for key, value in state.items():
            if hasattr(value, "shape"):
                assert isinstance(value, fake_gpu.ndarray), f"Adam state {i} {key!r} on the host"


@pytest.mark.parametrize("adapters", [False, True], ids=["full", "adapters"])
def test_training_steps_on_the_cuda_path_match_the_cpu(fake_gpu, adapters):
    """bench-small, kernels off: every op's array math on device arrays."""
    with cuda.kernels_disabled():
        on_cuda = run_training_steps("cuda", "bench-small", adapters)
    on_cpu = run_training_steps("cpu", "bench-small", adapters)
    # The same NumPy arithmetic but for the row and column sums (BLAS on host arrays only).
    assert_same_training(on_cuda, on_cpu, loss_rtol=1e-6, grad_rtol=3e-5, weight_atol=5e-4,
                         what="cuda path vs CPU")


@pytest.mark.parametrize("adapters", [False, True], ids=["full", "adapters"])
def test_training_steps_with_the_cuda_kernels_match_the_cpu(emulated_kernels, adapters):
    """bench-tiny with every CUDA kernel on (emulated): the kernels' launch glue on device
    arrays, inside a whole model, forward, backward and the Adam update."""
    before = cuda.launches.copy()
    on_cuda = run_training_steps("cuda", "bench-tiny", adapters)
    launched = {name for name, count in cuda.launches.items() if count > before[name]}
    for family in ("attention", "layer_norm", "gelu", "cross_entropy", "adam"):
        assert any(family in name for name in launched), f"no {family} kernel ran: {sorted(launched)}"
    on_cpu = run_training_steps("cpu", "bench-tiny", adapters)
    assert_same_training(on_cuda, on_cpu, loss_rtol=1e-5, grad_rtol=3e-4, weight_atol=5e-4,
                         what="emulated CUDA kernels vs CPU")


# ---- every lesson, as a learner runs it with --device cuda ---------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_quick_on_the_cuda_path(lesson, tmp_path):
    env = {**os.environ, "MINIPEFT_CUDA_KERNELS": "0", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(HERE / "run_on_fake_gpu.py"), str(lesson), "--quick",
                           "--device", "cuda", "--out", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, f"{lesson.name} on the cuda path failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    results = json.loads((tmp_path / f"{lesson.stem[:2]}_results.json").read_text())
    assert results["device"] == "cuda" and results["quick"] is True
    assert list(tmp_path.glob(f"{lesson.stem[:2]}_*.png")), f"{lesson.name} drew no figure"
