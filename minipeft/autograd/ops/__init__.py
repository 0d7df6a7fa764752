"""Every differentiable op, grouped by kind. Each file pairs Function classes with the
plain functions (``add``, ``matmul``, ...) that users call."""
from .attention import scaled_dot_product_attention
from .elementwise import add, astype, div, exp, gelu, log, mul, neg, pow, relu, sigmoid, sub, tanh
from .fused import cross_entropy, dropout, layer_norm, log_softmax, softmax
from .linalg import linear, matmul
from .reduce import max, mean, sum
from .shape import concatenate, getitem, masked_fill, permute, reshape, split, stack, transpose, unbind, where

__all__ = [
    "add", "astype", "concatenate", "cross_entropy", "div", "dropout", "exp", "gelu", "getitem",
    "layer_norm", "linear", "log", "log_softmax", "masked_fill", "matmul", "max", "mean", "mul",
    "neg", "permute", "pow", "relu", "reshape", "scaled_dot_product_attention", "sigmoid", "softmax",
    "split", "stack", "sub", "sum",
    "tanh", "transpose", "unbind", "where",
]
