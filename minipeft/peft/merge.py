"""Merging: fold the active task into the base weights, so inference costs exactly the base model.

    merge_adapter(model)            W <- W' = the Linear that computes W plus the task's change
    unmerge_adapter(model)          the base W objects back, bit for bit
    base = merge_and_unload(model)  merge, then remove every wrapper and the bookkeeping: a plain model

Only methods whose change is linear in the Linear's input can merge: LoRA (W0 + (alpha/r) A B)
and (IA)^3 (W0 scaled by the learned vector). An adapter cannot: a nonlinearity sits between
its two products, so no single matrix computes it.

How: merging is one more use of slots (``state.py``). Each wrapped Linear's weight (and bias)
becomes a slot whose base object is kept aside; a new, frozen Parameter holding the merged
values is put in its place, and the wrappers apply no task (the merged Linear does it all).
Unmerging is activating the task again, which puts the base objects back: no subtraction,
so no rounding left behind. Switching task or disabling unmerges too.
"""
from __future__ import annotations

from ..nn.module import Module, Parameter
from .method import method_named
from .model import activate
from .state import STATE_ATTR, PeftState, join, parameter_places, put, replace_child, require_state


def _mergeable_state(model: Module, caller: str) -> PeftState:
    state = require_state(model, caller)
    method = method_named(state.method)
    if not method.mergeable:
        raise ValueError(f"{caller}: {state.method!r} tasks cannot merge into the base weights (only methods whose "
                         f"change is linear in the input can: lora, ia3); the model was not changed")
    if state.active is None:
        raise ValueError(f"{caller}: no task is active; set_adapter(model, name) first (the model has "
                         f"{list(state.tasks)})")
    return state


def merge_adapter(model: Module) -> None:
    """Fold the active task into the weights of the Linears it changes (see the module docstring)."""
    state = _mergeable_state(model, "merge_adapter")
    if state.merged is not None:
        return
    name = state.active
    for path in state.tasks[name].sites:
        _, _, wrapper = state.wrappers[path]
        bias = wrapper.bias.data if wrapper.bias is not None else None
        merged = wrapper.tasks[name].merge(wrapper.weight.data, bias)
        for attribute, values in zip(("weight", "bias"), merged):
            if values is None or values is getattr(wrapper, attribute).data:
                continue
            slot = join(path, attribute)
            if slot not in state.base:
                state.places[slot], state.base[slot] = (wrapper, attribute), getattr(wrapper, attribute)
            put(wrapper, attribute, Parameter(values, requires_grad=False))
        object.__setattr__(wrapper, "active", None)  # the merged Linear computes the task's output itself
    state.merged = name


def unmerge_adapter(model: Module) -> None:
    """Put the base weights back (the objects themselves): the task applies through its modules again."""
    state = require_state(model, "unmerge_adapter")
    activate(state, state.active)


def merge_and_unload(model: Module) -> Module:
    """Merge the active task, then remove every wrapper and all bookkeeping: the model that is left
    has the base model's modules and products, with the task's weights (merged Linears, its own
    layer norms and head) in them. Other tasks are dropped. Returns the model."""
    state = _mergeable_state(model, "merge_and_unload")
    merge_adapter(model)
    flags = {id(param): flag for param, flag in state.requires_grad_before}
    base_flags = {name: flags.get(id(state.base.get(name, param)), True)
                  for name, param in model.named_parameters()}
    for path, (parent, attribute, wrapper) in list(state.wrappers.items()):
        base_layer = wrapper.base_layer
        for name in list(base_layer._parameters):
            put(base_layer, name, wrapper._parameters[name])  # the merged weight (or the base one)
        replace_child(parent, attribute, base_layer)
    object.__delattr__(model, STATE_ATTR)
    places = parameter_places(model)
    for name, (module, attribute) in places.items():
        module._parameters[attribute].requires_grad = base_flags.get(name, True)
    return model
