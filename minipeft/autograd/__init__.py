"""The autograd engine: Tensor, Function, backward(), no_grad, gradcheck and trace.

Read it in this order: ``function.py`` (what an op is), ``tensor.py`` (what flows
between ops), ``engine.py`` (how backward walks the graph), ``ops/`` (every op, forward
beside backward), ``gradcheck.py`` (how each backward is verified), ``trace.py``
(how to watch it happen), ``graph.py`` (how long and how big a graph is).
"""
from . import ops
from .engine import backward, topological_order
from .function import Context, Function, enable_grad, is_grad_enabled, no_grad, unbroadcast
from .graph import count_ops, graph_depth
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .tensor import Tensor, tensor
from .trace import trace

__all__ = [
    "Context", "Function", "GradcheckError", "Tensor", "backward", "count_ops", "enable_grad", "gradcheck", "graph_depth",
    "is_grad_enabled", "no_grad", "numerical_gradient", "ops", "tensor", "topological_order", "trace", "unbroadcast",
]
