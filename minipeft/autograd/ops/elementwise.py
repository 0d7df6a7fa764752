"""Elementwise ops: each output entry depends on the matching input entries only.

Binary ops broadcast like NumPy; their backward sums the gradient back over the
broadcast axes (``unbroadcast``). Every backward multiplies the incoming gradient by
the local derivative, entry by entry (the chain rule).
"""
from __future__ import annotations

import numpy as np

from ... import kernels
from ...backend import array_module
from ..function import Function, unbroadcast
from ..tensor import Tensor


def _check_broadcast(op: str, a, b) -> None:
    shape_a, shape_b = np.shape(a), np.shape(b)
    if shape_a == shape_b:  # the common case needs no check
        return
    try:
        np.broadcast_shapes(shape_a, shape_b)
    except ValueError:
        raise ValueError(f"{op}: shapes {shape_a} and {shape_b} do not broadcast "
                         f"(trailing dimensions must be equal or 1)") from None


def _lift(a, b):
    """Turn a raw array operand into a constant Tensor of its partner's dtype (scalars stay)."""
    if isinstance(a, Tensor) and not isinstance(b, (Tensor, int, float, bool)):
        b = Tensor(array_module(a.data).asarray(b, dtype=a.dtype))
    if isinstance(b, Tensor) and not isinstance(a, (Tensor, int, float, bool)):
        a = Tensor(array_module(b.data).asarray(a, dtype=b.dtype))
    return a, b


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("add", a, b)
        ctx.shapes = np.shape(a), np.shape(b)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return (unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None,
                unbroadcast(grad, shape_b) if ctx.needs_input_grad[1] else None)


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("sub", a, b)
        ctx.shapes = np.shape(a), np.shape(b)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return (unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None,
                unbroadcast(-grad, shape_b) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("mul", a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.a = a if need_b else None  # dL/db needs a
        ctx.b = b if need_a else None  # dL/da needs b
        ctx.shapes = np.shape(a), np.shape(b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return (unbroadcast(grad * ctx.b, shape_a) if ctx.needs_input_grad[0] else None,
                unbroadcast(grad * ctx.a, shape_b) if ctx.needs_input_grad[1] else None)


class Div(Function):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2 = -z/b."""

    @staticmethod
    def forward(ctx, a, b):
        _check_broadcast("div", a, b)
        z = a / b
        ctx.b = b
        ctx.z = z if ctx.needs_input_grad[1] else None
        ctx.shapes = np.shape(a), np.shape(b)
        return z

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        grad_over_b = grad / ctx.b
        return (unbroadcast(grad_over_b, shape_a) if ctx.needs_input_grad[0] else None,
                unbroadcast(-grad_over_b * ctx.z, shape_b) if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = a ** p for a constant number p;  dz/da = p * a ** (p - 1)."""

    @staticmethod
    def forward(ctx, a, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"pow: the exponent must be a Python number, got {type(exponent).__name__}")
        ctx.a, ctx.exponent = a, exponent
        return a ** exponent

    @staticmethod
    def backward(ctx, grad):
        p = ctx.exponent
        return grad * (p * ctx.a ** (p - 1)), None


class Exp(Function):
    """z = e^a;  dz/da = e^a = z."""

    @staticmethod
    def forward(ctx, a):
        z = array_module(a).exp(a)
        ctx.z = z
        return z

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.z


class Log(Function):
    """z = ln a;  dz/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return array_module(a).log(a)

    @staticmethod
    def backward(ctx, grad):
        return grad / ctx.a


class Tanh(Function):
    """z = tanh a;  dz/da = 1 - z^2."""

    @staticmethod
    def forward(ctx, a):
        z = array_module(a).tanh(a)
        ctx.z = z
        return z

    @staticmethod
    def backward(ctx, grad):
        return grad * (1 - ctx.z * ctx.z)


class Sigmoid(Function):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z)."""

    @staticmethod
    def forward(ctx, a):
        xp = array_module(a)
        z = 0.5 * (1 + xp.tanh(0.5 * a))  # the same function, without overflow in e^-a
        ctx.z = z
        return z

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.z * (1 - ctx.z)


class Relu(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx, a):
        positive = a > 0
        ctx.positive = positive
        return a * positive

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.positive


class Gelu(Function):
    """z = a * Phi(a), Phi approximated with tanh (BERT's "gelu_new"); derivative in kernels.gelu."""

    @staticmethod
    def forward(ctx, a):
        y, tanh_term = kernels.gelu.gelu_forward(a)
        ctx.a, ctx.tanh_term = a, tanh_term
        return y

    @staticmethod
    def backward(ctx, grad):
        return kernels.gelu.gelu_backward(ctx.a, ctx.tanh_term, grad)


class AsType(Function):
    """z = a converted to another float dtype;  dz/da = 1 (the gradient converted back)."""

    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype), None


def add(a, b): return Add.apply(*_lift(a, b))
def sub(a, b): return Sub.apply(*_lift(a, b))
def mul(a, b): return Mul.apply(*_lift(a, b))
def div(a, b): return Div.apply(*_lift(a, b))
def neg(a): return Neg.apply(a)
def pow(a, exponent):  # noqa: A001 (mirrors the ** operator)
    if not isinstance(exponent, (int, float)):  # here, before apply unwraps a Tensor into an array
        raise TypeError(f"pow: the exponent must be a Python number, got {type(exponent).__name__}")
    return Pow.apply(a, exponent)


def exp(a): return Exp.apply(a)
def log(a): return Log.apply(a)
def tanh(a): return Tanh.apply(a)
def sigmoid(a): return Sigmoid.apply(a)
def relu(a): return Relu.apply(a)
def gelu(a): return Gelu.apply(a)
def astype(a, dtype): return AsType.apply(a, np.dtype(dtype))
