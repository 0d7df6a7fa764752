"""A stand-in for CuPy that keeps its arrays in NumPy: minipeft's ``cuda`` code path on a CPU.

With no GPU, ``device="cuda"`` cannot run, so the code that only runs there (``xp`` being
CuPy, arrays that are not ``numpy.ndarray``, copies between host and device, the kernels'
launch glue) would go untested until a GPU is at hand. This module is imported *as*
``cupy`` (``install()``), and its ``ndarray`` is as strict as CuPy's about the one thing
that breaks most ports to the GPU, mixing host and device arrays:

    numpy.asarray(device_array)            TypeError (CuPy: "Implicit conversion ... not allowed")
    device_array + numpy_array             TypeError (CuPy: "Unsupported type")
    numpy_array += device_array            TypeError
    cupy.exp(numpy_array)                  TypeError: CuPy functions take device arrays only
    cupy.asarray(numpy_array), a.get()     the explicit copies, allowed
    device_array[numpy_index_array]        allowed (CuPy copies the index over)
    operator.index(device_scalar)          TypeError: CuPy has no __index__ (it would copy to the host)

and, like CuPy, a reduction gives a 0-d device array, not a NumPy scalar. Where the real
CuPy is installed (no GPU is needed to import it; CI installs it), only the names it has pass
through: a NumPy-only routine (``cupy.foo``), array method (``a.foo()``), ufunc method or
random-generator method (CuPy's ``Generator`` has no ``normal``) raises AttributeError here as
it would there, and the arguments of a routine must fit CuPy's signature where it publishes
one (``cupy.zeros(3, device="cpu")`` is a TypeError). Without CuPy every NumPy name passes.
Everything else is NumPy underneath, so results equal the CPU's to the last bit wherever the
code does the same arithmetic. ``RawModule`` is not emulated here: run kernels through
``minipeft.kernels.cuda.use_launcher`` (the tests use ``cuda_emulator.emulate``), or turn
them off with ``MINIPEFT_CUDA_KERNELS=0``.

It is not a GPU: no timing, no memory model, no float differences of GPU math libraries.
"""
from __future__ import annotations

import importlib
import inspect
import sys
import types

import numpy as np

__version__ = "fake (NumPy " + np.__version__ + ")"
DEVICE_NAME = "fake_cupy (NumPy on the CPU)"


def _find_real_cupy():
    """The installed CuPy module, to read its API from (None where CuPy is not installed)."""
    try:
        module = importlib.import_module("cupy")
    except ImportError:
        return None
    return None if module.__name__ == __name__ else module  # None if the stand-in is already in place


_REAL = _find_real_cupy()
# Read now, while ``import cupy`` still means CuPy (its random module loads Generator lazily).
_REAL_NDARRAY = _REAL and _REAL.ndarray
_REAL_GENERATOR = _REAL and _REAL.random.Generator


def install() -> None:
    """Make ``import cupy`` return this module (for the current process)."""
    sys.modules["cupy"] = sys.modules[__name__]


def _check_cupy_has(owner, name: str, what: str) -> None:
    """AttributeError unless the real CuPy's ``owner`` has ``name`` (no check without CuPy)."""
    if _REAL is not None and not hasattr(owner, name):
        raise AttributeError(f"{what} has no attribute {name!r} in CuPy {_REAL.__version__} "
                             f"(NumPy has it; the GPU would fail here)")


# ---- moving values between the two worlds ------------------------------------------------------
def _to_host(value, allow_numpy: bool = False):
    """The NumPy value behind ``value``: device arrays unwrapped, containers walked.

    A NumPy array met here is a host array passed where CuPy wants a device one: TypeError,
    unless ``allow_numpy`` (the explicit copies and index arrays)."""
    if isinstance(value, ndarray):
        return value._host
    if isinstance(value, np.ndarray) and not allow_numpy:
        raise TypeError(f"Unsupported type {type(value)}: a NumPy (host) array where CuPy needs a "
                        f"cupy.ndarray (shape {value.shape}, dtype {value.dtype}); copy it with cupy.asarray")
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v, allow_numpy) for v in value)
    if isinstance(value, dict):
        return {k: _to_host(v, allow_numpy) for k, v in value.items()}
    return value


def _to_device(value):
    """Wrap NumPy results as device arrays (NumPy scalars become 0-d arrays, as in CuPy)."""
    if isinstance(value, np.ndarray):
        return ndarray(value)
    if isinstance(value, np.generic):
        return ndarray(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v) for v in value)
    return value


def _device_call(function, cupy_function=None, bound: bool = False):
    """``function`` (a NumPy routine) taking and returning device arrays. Where CuPy's own
    ``cupy_function`` has a readable signature (its Python-level routines do), the arguments
    must fit it too: a keyword NumPy takes and CuPy does not is a TypeError, as on the GPU.
    ``bound``: ``cupy_function`` is a method read off the class (its ``self`` is not passed)."""
    try:
        signature = inspect.signature(cupy_function) if cupy_function is not None else None
    except (TypeError, ValueError):  # Cython methods and ufuncs publish none
        signature = None

    def call(*args, **kwargs):
        if signature is not None:
            try:
                signature.bind(*((None,) if bound else ()), *args, **kwargs)
            except TypeError as err:
                raise TypeError(f"cupy.{function.__name__}: CuPy {_REAL.__version__} takes {signature}, "
                                f"not these arguments ({err})") from None
        return _to_device(function(*_to_host(args), **_to_host(kwargs)))
    call.__name__ = getattr(function, "__name__", "call")
    return call


def _run_ufunc(function, args, kwargs):
    """A ufunc (or one of its methods) on device arrays; with ``out=``, the given outputs come back."""
    out = kwargs.get("out")
    result = function(*_to_host(args), **_to_host(kwargs))
    if out is not None:
        return out[0] if isinstance(out, tuple) and len(out) == 1 else out
    return _to_device(result)


def _in_place(ufunc):
    """``a op= b``: the ufunc writes into a's own NumPy buffer."""
    def method(self, other):
        ufunc(self._host, _to_host(other), out=self._host)
        return self
    return method


def _binary(ufunc, reflected: bool = False):
    def method(self, other):
        other = _to_host(other)
        return _to_device(ufunc(other, self._host) if reflected else ufunc(self._host, other))
    return method


def _unary(ufunc):
    return lambda self: _to_device(ufunc(self._host))


class ndarray:
    """A device array: a NumPy array that NumPy itself refuses to read (see the module docstring)."""

    __slots__ = ("_host",)
    __hash__ = None

    def __init__(self, host: np.ndarray):
        self._host = host

    # NumPy may not turn a device array into a host one behind the code's back.
    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _run_ufunc(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, function, kinds, args, kwargs):
        return _to_device(function(*_to_host(args), **_to_host(kwargs)))

    # the explicit copy to the host
    def get(self) -> np.ndarray:
        return self._host.copy()

    def __copy__(self):
        return ndarray(self._host.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._host.copy())

    def __getattr__(self, name):
        # Private and special names (__array_interface__ would let NumPy read the buffer) and
        # host-only ones do not pass through: CuPy arrays have none of them.
        if name.startswith("_") or name in ("ctypes", "tofile"):
            raise AttributeError(f"cupy.ndarray has no attribute {name!r}")
        _check_cupy_has(_REAL_NDARRAY, name, "cupy.ndarray")
        value = getattr(self._host, name)
        return _device_call(value) if callable(value) else _to_device(value)

    def __getitem__(self, index):
        return _to_device(self._host[_to_host(index, allow_numpy=True)])

    def __setitem__(self, index, value):
        self._host[_to_host(index, allow_numpy=True)] = _to_host(value, allow_numpy=True)

    def __len__(self):
        return len(self._host)

    def __iter__(self):
        return (_to_device(row) for row in self._host)

    def __bool__(self):
        return bool(self._host)

    def __float__(self):
        return float(self._host)

    def __int__(self):
        return int(self._host)

    def __repr__(self):
        return repr(self._host)

    def __str__(self):
        return str(self._host)

    def __format__(self, spec):
        return format(self._host.item() if self._host.ndim == 0 else self._host, spec)

    __add__, __radd__, __iadd__ = _binary(np.add), _binary(np.add, True), _in_place(np.add)
    __sub__, __rsub__, __isub__ = _binary(np.subtract), _binary(np.subtract, True), _in_place(np.subtract)
    __mul__, __rmul__, __imul__ = _binary(np.multiply), _binary(np.multiply, True), _in_place(np.multiply)
    __truediv__, __rtruediv__ = _binary(np.true_divide), _binary(np.true_divide, True)
    __itruediv__ = _in_place(np.true_divide)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True)
    __mod__, __rmod__ = _binary(np.remainder), _binary(np.remainder, True)
    __pow__, __rpow__, __ipow__ = _binary(np.power), _binary(np.power, True), _in_place(np.power)
    __matmul__, __rmatmul__ = _binary(np.matmul), _binary(np.matmul, True)
    __and__, __rand__, __iand__ = _binary(np.bitwise_and), _binary(np.bitwise_and, True), _in_place(np.bitwise_and)
    __or__, __ror__, __ior__ = _binary(np.bitwise_or), _binary(np.bitwise_or, True), _in_place(np.bitwise_or)
    __xor__, __rxor__ = _binary(np.bitwise_xor), _binary(np.bitwise_xor, True)
    __lt__, __le__, __gt__, __ge__ = _binary(np.less), _binary(np.less_equal), _binary(np.greater), \
        _binary(np.greater_equal)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)
    __neg__, __pos__, __abs__, __invert__ = _unary(np.negative), _unary(np.positive), _unary(np.absolute), \
        _unary(np.invert)


class _Ufunc:
    """A NumPy ufunc on device arrays, methods included (``cupy.add.at(a, index, values)``)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _run_ufunc(self._ufunc, args, kwargs)

    def __getattr__(self, name):
        _check_cupy_has(_REAL and getattr(_REAL, self._ufunc.__name__, None), name, f"cupy.{self._ufunc.__name__}")
        method = getattr(self._ufunc, name)
        if not callable(method):
            return method
        if name == "at":  # at(a, indices, b): a is written in place, indices may be host arrays
            def at(a, indices, b=None):
                args = (_to_host(a), _to_host(indices, allow_numpy=True)) + (() if b is None else (_to_host(b),))
                method(*args)
            return at
        return _device_call(method)


# ---- module level: cupy.asarray, cupy.exp, cupy.cuda, cupy.random, ... -------------------------
def asarray(value, dtype=None, order=None):
    """The explicit host-to-device copy (no copy if ``value`` is already a device array of ``dtype``)."""
    if isinstance(value, ndarray) and (dtype is None or np.dtype(dtype) == value.dtype):
        return value
    return ndarray(np.array(_to_host(value, allow_numpy=True), dtype=dtype, order=order or "K"))


def array(value, dtype=None, copy=True, order="K"):
    host = _to_host(value, allow_numpy=True)
    return ndarray(np.array(host, dtype=dtype, copy=True, order=order) if copy
                   else np.asarray(host, dtype=dtype, order=order))


def asnumpy(value) -> np.ndarray:
    return value.get() if isinstance(value, ndarray) else np.asarray(value)


def get_array_module(*arrays):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in arrays) else np


class RawModule:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("fake_cupy does not compile CUDA: launch kernels through "
                                  "minipeft.kernels.cuda.use_launcher, or set MINIPEFT_CUDA_KERNELS=0")


RawKernel = RawModule


class _Generator:
    """cupy.random.default_rng(seed): NumPy's generator, drawing device arrays."""

    def __init__(self, seed):
        self._numpy = np.random.default_rng(seed)

    def __getattr__(self, name):
        _check_cupy_has(_REAL_GENERATOR, name, "cupy.random.Generator")
        return _device_call(getattr(self._numpy, name), getattr(_REAL_GENERATOR, name, None), bound=True)


random = types.SimpleNamespace(default_rng=_Generator)


class _Device:
    def __init__(self, device_id: int = 0):
        self.id = device_id

    def synchronize(self) -> None:
        """Nothing to wait for: every operation has finished when it returns."""


_PROPERTIES = {"name": DEVICE_NAME.encode(), "multiProcessorCount": 2, "major": 9, "minor": 0,
               "totalGlobalMem": 24 * 2 ** 30}
cuda = types.SimpleNamespace(
    Device=_Device,
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDeviceProperties=lambda device_id: _PROPERTIES,
                                  runtimeGetVersion=lambda: 13000),
)


def __getattr__(name):
    """Every other name is NumPy's, on device arrays: types and constants as they are,
    ufuncs and routines wrapped."""
    _check_cupy_has(_REAL, name, "module 'cupy'")
    value = getattr(np, name)
    if isinstance(value, np.ufunc):
        return _Ufunc(value)
    if isinstance(value, type) or not callable(value):
        return value
    return _device_call(value, getattr(_REAL, name, None))
