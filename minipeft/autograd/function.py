"""The two halves of every op: ``forward`` computes, ``backward`` passes gradients back.

An op is a subclass of ``Function`` with two static methods side by side::

    class Mul(Function):
        "z = a * b;  dz/da = b, dz/db = a"
        @staticmethod
        def forward(ctx, a, b):
            ctx.a, ctx.b = a, b              # keep what backward needs
            return a * b
        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.b, grad * ctx.a

``forward`` receives plain arrays (NumPy or CuPy), never Tensors, and returns one array.
``backward`` receives dL/d(output) and returns dL/d(input), one per positional argument
of forward (``None`` where there is nothing to return).

``ctx.needs_input_grad`` says which inputs want a gradient. An op uses it twice: it keeps
an array for backward only if some gradient will need it, and backward computes only the
gradients asked for. A frozen weight therefore costs no weight-gradient matmul and keeps
no activation alive: this is where training adapters saves time and memory.

``Function.apply`` is the glue: it unwraps Tensors, checks that they agree on device and
dtype, runs forward, and (when a gradient will be needed) links the result to a ``Node``
so that ``Tensor.backward()`` can find its way back.
"""
from __future__ import annotations

import numpy as np

from ..kernels import traffic
from . import trace as _trace

_grad_enabled = [True]


class no_grad:
    """Context manager (or decorator) in which no graph is recorded: for evaluation.

    Inside it every op output has ``requires_grad=False`` and no activation is kept.
    """

    def __enter__(self):
        _grad_enabled.append(False)

    def __exit__(self, *exc):
        _grad_enabled.pop()

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with type(self)():  # no_grad, or enable_grad when used as @enable_grad()
                return func(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
        return wrapper


class enable_grad(no_grad):
    """Record a graph again inside a ``no_grad`` block."""

    def __enter__(self):
        _grad_enabled.append(True)


def is_grad_enabled() -> bool:
    return _grad_enabled[-1]


class Context:
    """What forward leaves for backward: ``needs_input_grad`` plus any attributes it sets."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.requires_grad = any(needs_input_grad)


class Node:
    """One recorded op in the graph: which Function, its context, and the input Tensors.

    ``inputs[i]`` is the i-th argument of forward when it is a Tensor that wants a gradient,
    else None. After backward the node is *freed* (context and inputs dropped) so the
    activations it held can be reclaimed.
    """

    __slots__ = ("function", "ctx", "inputs")

    def __init__(self, function, ctx, inputs):
        self.function, self.ctx, self.inputs = function, ctx, inputs

    @property
    def freed(self) -> bool:
        return self.ctx is None

    def free(self) -> None:
        self.ctx, self.inputs = None, None


class Function:
    """Base class of every differentiable op (see the module docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass defines forward(ctx, ...)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("a Function subclass defines backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op on Tensors (and plain Python values), recording it for backward."""
        from .tensor import Tensor

        tensors = [a for a in args if isinstance(a, Tensor)]
        _check_same_device_and_dtype(cls.__name__, tensors)
        recording = is_grad_enabled()
        needs = tuple(recording and isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = Context(needs)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = Tensor(cls.forward(ctx, *arrays, **kwargs), requires_grad=ctx.requires_grad)
        if traffic.counting():
            traffic.add(ops=1)  # one dispatch (kernels/traffic.py)
        if ctx.requires_grad:
            inputs = tuple(a if need else None for a, need in zip(args, needs))
            out._node = Node(cls, ctx, inputs)
        if _trace.active():
            _trace.record_forward(cls.__name__, tensors, out)
        return out


def _check_same_device_and_dtype(op: str, tensors) -> None:
    """All Tensor inputs of an op live on one device; all floating ones share one dtype."""
    if len(tensors) < 2:
        return
    all_numpy = all(isinstance(t.data, (np.ndarray, np.generic)) for t in tensors)  # fast path: all on the CPU
    if not all_numpy and len({t.device for t in tensors}) > 1:
        shown = ", ".join(f"{t.device} {t.shape}" for t in tensors)
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); move them with .to(device)")
    float_dtypes = {t.dtype for t in tensors if t.dtype.kind == "f"}
    if len(float_dtypes) > 1:
        shown = ", ".join(f"{t.dtype} {t.shape}" for t in tensors)
        raise TypeError(f"{op}: inputs have different float dtypes ({shown}); convert one with .astype(dtype)")


def unbroadcast(grad, shape: tuple[int, ...]):
    """Undo broadcasting in backward: sum ``grad`` over the axes that were stretched to reach it.

    If ``a`` of shape (3,) was added to ``x`` of shape (2, 3), each a[j] was used twice, so
    dL/da[j] = sum_i dL/dz[i, j]: the gradient is summed over the broadcast axis.
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)
