"""Fused ops, written once as array math that NumPy and CuPy both run.

Each file is one family (adam, attention, cross_entropy, gelu, layernorm, matmul,
softmax): its functions are the reference that defines the op's forward and backward,
used by the autograd Functions in ``minipeft.autograd.ops`` and by the optimizers.
"""
from . import adam, attention, cross_entropy, gelu, layernorm, matmul, softmax

__all__ = ["adam", "attention", "cross_entropy", "gelu", "layernorm", "matmul", "softmax"]
