"""Where a training step's memory goes, counted in bytes: weights, gradients, optimizer state
and the activations kept for backward.

    usage = step_memory(model, loss_fn, batch, optimizer)
    # {"parameters": ..., "gradients": ..., "optimizer_state": ..., "activations": ..., "total": ...}

* parameters       every weight of the model, frozen or not (they all sit in memory)
* gradients        the ``.grad`` arrays after backward: one per *trainable* weight only
* optimizer_state  what the optimizer keeps per trainable weight (Adam: m and v, 2 copies)
* activations      the arrays the autograd graph keeps for backward, counted after the forward
                   pass by walking the graph from the loss (each buffer once; weights themselves
                   are not counted again). A frozen weight's input is not kept (no dW to compute),
                   and nothing below the first trainable weight is kept at all.

The counts are exact for what they count; the allocator's own overhead and temporaries that
live only inside one op are not included.
"""
from __future__ import annotations

from .. import backend

_PARTS = ("parameters", "gradients", "optimizer_state", "activations")


def _buffer(array):
    """The array that owns ``array``'s memory (a view's base, followed to the end)."""
    while getattr(array, "base", None) is not None and hasattr(array.base, "nbytes"):
        array = array.base
    return array


def _arrays_in(value):
    """Every array inside a ctx attribute (an array, or a tuple / list / dict of them)."""
    if hasattr(value, "nbytes") and hasattr(value, "shape"):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)


def activation_bytes(loss, exclude=()) -> int:
    """Bytes of the arrays the graph behind ``loss`` keeps for backward (each buffer counted
    once; buffers of the arrays in ``exclude``, e.g. the weights, are not counted)."""
    skip = {id(_buffer(a)) for a in exclude}
    seen_buffers, seen_nodes, total = set(), set(), 0
    stack = [loss._node] if loss._node is not None else []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes or node.ctx is None:
            continue
        seen_nodes.add(id(node))
        for key, value in vars(node.ctx).items():
            if key in ("needs_input_grad", "requires_grad"):
                continue
            for array in _arrays_in(value):
                owner = _buffer(array)
                if id(owner) in skip or id(owner) in seen_buffers:
                    continue
                seen_buffers.add(id(owner))
                total += int(owner.nbytes)
        for tensor in node.inputs or ():
            if tensor is not None and tensor._node is not None:
                stack.append(tensor._node)
    return total


def step_memory(model, loss_fn, batch: dict, optimizer) -> dict:
    """Run one training step (forward, backward, optimizer step) and count its memory by part.

    ``loss_fn(model, batch)`` returns the loss Tensor (or a dict with "loss"). Returns bytes
    for each of parameters, gradients, optimizer_state, activations, and their total.
    The step really updates the model (build a throwaway copy if that matters).
    """
    params = model.parameters()
    weights = [p.data for p in params]
    optimizer.zero_grad()
    out = loss_fn(model, batch)
    loss = out["loss"] if isinstance(out, dict) else out
    activations = activation_bytes(loss, exclude=weights)
    loss.backward()
    gradients = sum(int(p.grad.nbytes) for p in params if p.grad is not None)
    optimizer.step()
    state = sum(int(array.nbytes) for per_param in optimizer.state.values() for array in per_param.values()
                if hasattr(array, "nbytes"))
    optimizer.zero_grad()
    backend.synchronize()
    usage = {"parameters": sum(int(w.nbytes) for w in weights), "gradients": gradients,
             "optimizer_state": state, "activations": activations}
    usage["total"] = sum(usage[part] for part in _PARTS)
    return usage


__all__ = ["activation_bytes", "step_memory"]
