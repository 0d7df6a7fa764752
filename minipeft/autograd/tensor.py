"""``Tensor``: an array that remembers how it was made, so gradients can flow back.

A Tensor holds
    data           the array (numpy.ndarray on the CPU, cupy.ndarray on a GPU)
    requires_grad  whether backward() should compute dL/d(this tensor)
    grad           after backward(): an array of data's shape holding dL/d(this), or None
    _node          the op that produced it (None for a leaf: an input or a parameter)

Operators (+, -, *, /, @, **, [...]) and methods (.sum(), .reshape(), ...) all call
Functions from ``minipeft.autograd.ops``; the same ops are public as ``minipeft.<op>``.
"""
from __future__ import annotations

import numpy as np

from .. import backend

DEFAULT_FLOAT = np.float32


def _normalise_dtype(data, dtype):
    """float32 by default for floating data, int64 for integers, or the dtype asked for."""
    if dtype is not None:
        return np.dtype(dtype)
    kind = np.asarray(data).dtype.kind if not hasattr(data, "dtype") else data.dtype.kind
    if kind == "f":
        return np.dtype(DEFAULT_FLOAT)
    if kind in "iu":
        return np.dtype(np.int64)
    if kind == "b":
        return np.dtype(bool)
    raise TypeError(f"tensor(): expected numbers or booleans, got data of dtype kind {kind!r}")


def tensor(data, requires_grad: bool = False, dtype=None, device: str | None = None, name: str | None = None):
    """Make a leaf Tensor from a number, a (nested) list or an array.

    Floating data becomes float32 unless ``dtype`` says otherwise (gradient checks use
    ``dtype="float64"``); integer data becomes int64. ``device`` defaults to the current one.
    The data is always copied, so changing the tensor never changes the array it came from.
    """
    if isinstance(data, Tensor):
        data = data.data
    device = device or backend.get_device()
    dtype = _normalise_dtype(data, dtype)
    if requires_grad and dtype.kind != "f":
        raise TypeError(f"tensor(): only floating tensors can require grad, got dtype {dtype}")
    xp = backend.xp_for(device)
    array = xp.array(backend.to_device(data, device) if hasattr(data, "shape") else data, dtype=dtype, copy=True)
    return Tensor(array, requires_grad=requires_grad, name=name)


class Tensor:
    """An array plus what backprop needs (see the module docstring)."""

    __array_priority__ = 1000  # numpy_array * tensor calls Tensor.__rmul__, not numpy's

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        self.data = data
        self.requires_grad = requires_grad
        self.grad = None
        self.name = name
        self._node = None
        self._retains_grad = False

    # ---- what it is -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        extras = ", requires_grad=True" if self.requires_grad else ""
        extras += f", name={self.name!r}" if self.name else ""
        device = f", device='{self.device}'" if self.device != "cpu" else ""
        body = np.array2string(self.numpy(), precision=4, threshold=20, separator=", ")
        return f"tensor({body}, dtype={self.dtype}{device}{extras})"

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied from the GPU if needed)."""
        return backend.to_numpy(self.data)

    def item(self) -> float:
        """The single value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    # ---- graph --------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Compute dself/dx for every leaf x that requires grad, adding it into x.grad."""
        from .engine import backward

        backward(self, grad, retain_graph=retain_graph)

    def detach(self) -> "Tensor":
        """The same values, cut from the graph: no gradient flows through the result."""
        return Tensor(self.data, requires_grad=False, name=self.name)

    def retain_grad(self) -> "Tensor":
        """Keep .grad on this intermediate tensor too (leaves always keep it)."""
        self._retains_grad = True
        return self

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    def to(self, device: str) -> "Tensor":
        """A copy on ``device`` (a leaf; the same tensor if it is already there)."""
        if device == self.device:
            return self
        return Tensor(backend.to_device(self.data, device), requires_grad=self.requires_grad, name=self.name)

    # ---- operators: each one is an op from minipeft.autograd.ops ------------------
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __neg__(self): return ops.neg(self)
    def __pow__(self, exponent): return ops.pow(self, exponent)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # comparisons give boolean tensors (no gradient): masks for where / masked_fill
    def __eq__(self, other): return Tensor(self.data == _data(other))
    def __ne__(self, other): return Tensor(self.data != _data(other))
    def __lt__(self, other): return Tensor(self.data < _data(other))
    def __le__(self, other): return Tensor(self.data <= _data(other))
    def __gt__(self, other): return Tensor(self.data > _data(other))
    def __ge__(self, other): return Tensor(self.data >= _data(other))
    __hash__ = object.__hash__

    # ---- methods ------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, axis1=-2, axis2=-1): return ops.transpose(self, axis1, axis2)
    def permute(self, *axes): return ops.permute(self, *axes)
    def astype(self, dtype): return ops.astype(self, dtype)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def gelu(self): return ops.gelu(self)
    def softmax(self, axis=-1): return ops.softmax(self, axis)
    def log_softmax(self, axis=-1): return ops.log_softmax(self, axis)
    def masked_fill(self, mask, value): return ops.masked_fill(self, mask, value)

    @property
    def T(self):
        return ops.transpose(self, -2, -1)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


from . import ops  # noqa: E402  (ops needs Tensor defined first)
