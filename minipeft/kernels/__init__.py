"""Fused ops, written once as array math that NumPy and CuPy both run, and as CUDA kernels.

Each file is one family (adam, attention, cross_entropy, gelu, layernorm, matmul,
softmax): its functions are the reference that defines the op's forward and backward,
used by the autograd Functions in ``minipeft.autograd.ops`` and by the optimizers.
Beside each reference sits a CUDA C source doing the same math in one kernel; on CuPy
arrays the family's functions launch it instead (``cuda.py`` says how: compiling,
launch layouts, and ``kernels_disabled()`` to run the references on the GPU).
"""
from . import adam, attention, cross_entropy, cuda, gelu, layernorm, matmul, softmax

__all__ = ["adam", "attention", "cross_entropy", "cuda", "gelu", "layernorm", "matmul", "softmax"]
