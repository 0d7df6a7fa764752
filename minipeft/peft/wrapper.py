"""``TaskWrapper``: what a method puts at a site of the model, holding every task's module there.

    wrapper = SomeWrapper(base_layer)      # base_layer: the module that was at the site (or None: a hook)
    wrapper.tasks["sentiment"] = module    # one module per task, in a ModuleDict
    wrapper.active = "sentiment"           # applied in forward; None: the base layer's own output

The wrapper keeps the wrapped module's weights under their old names (it registers the
wrapped module's children and parameters as its own), so a wrapped model's base weights
are still called ``...attention.output.dense.weight``: base checkpoints still load, and
the base fingerprint does not depend on which tasks are present. The task modules appear
under the name each method gives its ModuleDict (``TASKS_ATTR``):
``...attention.output.adapters.<task>.down.weight``, ``...attention.query.lora.<task>.A``.

Each method's wrapper says what "apply task t" means (``apply_task``). In a mixed batch
(``mixed.py``) ``rows`` holds which rows belong to which task, and the wrapper applies each
task to its own rows.
"""
from __future__ import annotations

from .. import functional as F
from ..autograd import Tensor
from ..nn.layers import ModuleDict
from ..nn.module import Module


class TaskWrapper(Module):
    """A base module (or an empty hook) with named task modules; the active one is applied."""

    TASKS_ATTR = "tasks"

    def __init__(self, base_layer: Module | None):
        super().__init__()
        if isinstance(base_layer, TaskWrapper):
            raise TypeError(f"{type(self).__name__}: this module is already wrapped; add tasks to the existing wrapper")
        if base_layer is not None:
            for name, child in base_layer.named_children():
                setattr(self, name, child)  # the same objects, so their weights keep their names
            for name, param in base_layer._parameters.items():
                setattr(self, name, param)
        object.__setattr__(self, "base_layer", base_layer)
        setattr(self, self.TASKS_ATTR, ModuleDict())
        object.__setattr__(self, "active", None)
        object.__setattr__(self, "rows", None)  # a mixed batch's routing (mixed.Routes), or None

    @property
    def tasks(self) -> ModuleDict:
        return self._modules[self.TASKS_ATTR]

    def forward(self, x, *args, **kwargs):
        if self.base_layer is not None:
            object.__setattr__(self.base_layer, "training", self.training)  # train()/eval() reach it through us
        if self.rows is not None:  # a mixed batch: each task on its own rows (mixed.py)
            return self.rows.route(lambda task, *inputs, **named: self.apply_task(
                task if task in self.tasks else None, *inputs, **named), x, *args, **kwargs)
        active = self.active if self.active in self.tasks else None
        return self.apply_task(active, x, *args, **kwargs)

    def apply_task(self, name: str | None, x, *args, **kwargs):
        """The output with task ``name``'s module applied (None: without any)."""
        raise NotImplementedError(f"{type(self).__name__} defines no apply_task()")

    def describe_task(self, module: Module) -> str:
        """A few words about one task's module, for the printed model."""
        return type(module).__name__

    def extra_repr(self) -> str:
        held = ", ".join(f"{name}: {self.describe_task(module)}" for name, module in self.tasks.items())
        active = "none (base output)" if self.active is None else repr(self.active)
        wrapped = type(self.base_layer).__name__ if self.base_layer is not None else "nothing (a hook)"
        return f"wraps {wrapped}; {self.TASKS_ATTR}: {{{held}}}, active={active}"


class LinearWrapper(TaskWrapper):
    """A Linear (y = x W + b) with task modules that change its product; W and b are this
    wrapper's own registered parameters (the Linear's objects, under the Linear's names), so
    merging can put a merged W into the slot.

    A task module defines ``forward(x, weight, bias)`` (the whole output with its change) and
    ``merge(weight, bias)`` -> the arrays (W', b') of one Linear that computes the same."""

    def __init__(self, base_layer: Module):
        if not (hasattr(base_layer, "in_features") and "weight" in base_layer._parameters):
            raise TypeError(f"{type(self).__name__}: expected a Linear, got {type(base_layer).__name__}")
        super().__init__(base_layer)

    def apply_task(self, name: str | None, x: Tensor) -> Tensor:
        if name is None:
            return F.linear(x, self.weight, self.bias)  # (..., out)
        return self.tasks[name](x, self.weight, self.bias)  # (..., out)
