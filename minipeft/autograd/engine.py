"""``backward()``: walk the graph from the loss back to the leaves, applying the chain rule.

1. Order the tensors so that each comes before every tensor it was made from
   (a topological order, found with an explicit stack: an unrolled RNN can be
   thousands of ops deep, more than Python's recursion limit allows).
2. Start with dL/dL = 1 and visit the tensors in that order. At each one, its op's
   backward turns dL/d(output) into dL/d(input) for each input, and those are *added*
   into the inputs' gradients: a tensor used twice receives the sum of both paths.
3. Leaves (inputs and parameters) keep their gradient in ``.grad``; an intermediate
   tensor's gradient is dropped as soon as it has been passed on (unless retain_grad()).
4. Each node is freed once used, so the activations it kept can be reclaimed; a second
   backward through the same graph is an error unless the first said retain_graph=True.
"""
from __future__ import annotations

from ..backend import array_module
from ..kernels import traffic
from . import trace as _trace
from .tensor import Tensor


def topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through recorded ops, root first, leaves last.

    A depth-first search with an explicit stack: a tensor is appended only after every
    tensor it was made from has been, so reversing the list puts each tensor before its inputs.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = tensor._node
        if node is None:
            continue
        if node.freed:
            raise RuntimeError(
                "backward through a graph that has already been freed: each backward() frees the "
                "graph it used; run the forward pass again, or call backward(retain_graph=True) the first time")
        stack.extend((parent, False) for parent in node.inputs
                     if parent is not None and id(parent) not in visited)
    return order[::-1]


def _initial_grad(root: Tensor, grad):
    if not root.requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad: no input of the "
                           "ops that made it has requires_grad=True (or it was made under no_grad())")
    xp = array_module(root.data)
    if grad is None:
        if root.size != 1:
            raise RuntimeError(f"backward() without a gradient needs a single number, but this tensor has "
                               f"shape {root.shape}: reduce it first (.sum() or .mean()) or pass grad=")
        return xp.ones_like(root.data)
    grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=root.dtype)
    if tuple(grad.shape) != root.shape:
        raise ValueError(f"backward(): grad has shape {tuple(grad.shape)}, expected the tensor's shape {root.shape}")
    return grad


def _accumulate(grads: dict, tensor: Tensor, grad) -> None:
    if grad.shape != tensor.shape:
        raise RuntimeError(f"internal error: a backward returned a gradient of shape {grad.shape} "
                           f"for an input of shape {tensor.shape}")
    key = id(tensor)
    grads[key] = grad if key not in grads else grads[key] + grad


def _store_grad(tensor: Tensor, grad) -> None:
    """Add grad into tensor.grad (a fresh array the tensor owns, never a view of another gradient)."""
    if tensor.grad is None:
        tensor.grad = grad.copy()  # a copy even when not a view: an Add hands one array to both inputs
    else:
        tensor.grad = tensor.grad + grad
    if _trace.active():
        _trace.record_leaf_grad(tensor, tensor.grad)


def backward(root: Tensor, grad=None, retain_graph: bool = False) -> None:
    """Fill ``.grad`` of every leaf that ``root`` depends on with d(root)/d(leaf) (see module docstring)."""
    grads = {id(root): _initial_grad(root, grad)}
    for tensor in topological_order(root):
        grad = grads.pop(id(tensor), None)
        if grad is None:  # no path from root reached this tensor with a gradient
            continue
        node = tensor._node
        if node is None or tensor._retains_grad:
            _store_grad(tensor, grad)
        if node is None:
            continue
        input_grads = node.function.backward(node.ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if traffic.counting():
            traffic.add(ops=1)  # one dispatch (kernels/traffic.py)
        for parent, input_grad in zip(node.inputs, input_grads):
            if parent is not None and input_grad is not None:
                _accumulate(grads, parent, input_grad)
        if _trace.active():
            _trace.record_backward(node.function.__name__, id(tensor), grad, [
                g if p is not None else None for p, g in zip(node.inputs, input_grads)])
        if not retain_graph:
            node.free()
