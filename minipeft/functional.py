"""Every differentiable op as a plain function: ``minipeft.functional.softmax(x)``.

The same functions are also reachable as ``minipeft.softmax(x)``; most have a Tensor
method or operator too (``x.softmax()``, ``a @ b``).
"""
from .autograd.ops import *  # noqa: F401,F403  (the ops' own __all__ is the list)
from .autograd.ops import __all__  # noqa: F401
