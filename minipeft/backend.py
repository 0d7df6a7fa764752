"""Which array library does the work: NumPy on the CPU, CuPy on a CUDA GPU.

Every array in minipeft lives on one *device*. The device decides the array module,
called ``xp`` throughout the code (``numpy`` or ``cupy``); an op asks its input
``xp = array_module(x)`` and then writes ``xp.exp(x)``, so one piece of code runs on both.

    set_device("cuda")     # new tensors go to the GPU (CuPy is imported only now)
    manual_seed(0)         # one seed for initialisation and dropout, on every device
    synchronize()          # wait for the GPU before reading a clock

The device can also be chosen with the environment variable ``MINIPEFT_DEVICE``.
"""
from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

DEVICES = ("cpu", "cuda")

_state = {"device": None, "cupy": None, "seed": 0, "rngs": {}}


def _check_device_name(name: str) -> str:
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}: expected one of {DEVICES}")
    return name


def _import_cupy():
    """Import CuPy on first use and check that a GPU is there, with a clear error if not."""
    if _state["cupy"] is None:
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install -e '.[cuda12]' (or '.[cuda13]') to match your CUDA version"
            ) from err
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # CuPy raises its own CUDARuntimeError when no driver exists
            raise RuntimeError(f"device 'cuda' needs an NVIDIA GPU and driver: {err}") from err
        if count == 0:
            raise RuntimeError("device 'cuda' needs an NVIDIA GPU: CuPy found none")
        _state["cupy"] = cupy
    return _state["cupy"]


def get_device() -> str:
    """The device new tensors are made on: 'cpu' unless set otherwise."""
    if _state["device"] is None:
        set_device(os.environ.get("MINIPEFT_DEVICE", "cpu"))
    return _state["device"]


def set_device(name: str) -> None:
    """Make ``name`` ('cpu' or 'cuda') the device for new tensors."""
    _check_device_name(name)
    if name == "cuda":
        _import_cupy()
    _state["device"] = name


def xp_for(device: str):
    """The array module of a device: numpy for 'cpu', cupy for 'cuda'."""
    return _import_cupy() if _check_device_name(device) == "cuda" else np


def array_module(array):
    """The array module an array belongs to (numpy or cupy)."""
    cupy = sys.modules.get("cupy")  # CuPy arrays can only exist once cupy has been imported
    if cupy is None or isinstance(array, np.ndarray) or np.isscalar(array):
        return np
    return cupy.get_array_module(array)


def device_of(array) -> str:
    """'cuda' for a CuPy array, 'cpu' for anything else."""
    return "cpu" if array_module(array) is np else "cuda"


def to_device(array, device: str):
    """Copy an array to ``device`` (no copy if it is there already)."""
    if device_of(array) == device:
        return array
    if device == "cuda":
        return _import_cupy().asarray(array)
    return array.get()


def to_numpy(array) -> np.ndarray:
    """A NumPy copy (or view) of any array, for printing, plotting and saving."""
    return array.get() if device_of(array) == "cuda" else np.asarray(array)


def manual_seed(seed: int) -> None:
    """Seed every random number generator minipeft uses (init, dropout, data order)."""
    _state["seed"] = int(seed)
    _state["rngs"] = {}


def rng(device: str | None = None):
    """The random generator of a device (numpy.random.Generator or cupy's), seeded by manual_seed."""
    device = device or get_device()
    if device not in _state["rngs"]:
        if device == "cuda":
            _state["rngs"][device] = _import_cupy().random.default_rng(_state["seed"])
        else:
            _state["rngs"][device] = np.random.default_rng(_state["seed"])
    return _state["rngs"][device]


def synchronize(device: str | None = None) -> None:
    """Wait until the device has finished its queued work (a no-op on the CPU)."""
    if (device or get_device()) == "cuda":
        _import_cupy().cuda.Device().synchronize()


def keep_freed_memory_for_reuse() -> bool:
    """Ask glibc to keep large freed blocks instead of returning them to the OS.

    Every NumPy op allocates its result. By default glibc gives each large block (over
    ~128 KB-32 MB) back to the operating system when it is freed, so the next op's array
    of the same size is mapped afresh and page-faults on every 4 KB page it touches. A
    training step frees and re-allocates megabyte-sized activations hundreds of times;
    keeping them for reuse made the bench-small step about 15% faster on a 2-core CPU
    (``python -m minipeft.bench``). The price: the process keeps its peak memory.
    Returns False where this is not glibc (macOS, Windows, musl), which is harmless.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold, one_gib = -1, -3, 1 << 30
    return bool(libc.mallopt(m_mmap_threshold, one_gib)) and bool(libc.mallopt(m_trim_threshold, one_gib))


keep_freed_memory_for_reuse()
