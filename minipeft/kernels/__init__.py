"""Fused ops, written once as array math that NumPy and CuPy both run.

Each file is one family (softmax, cross_entropy, layernorm, gelu, matmul): its
functions are the reference that defines the op's forward and backward, used by the
autograd Functions in ``minipeft.autograd.ops.fused``.
"""
from . import cross_entropy, gelu, layernorm, matmul, softmax

__all__ = ["cross_entropy", "gelu", "layernorm", "matmul", "softmax"]
