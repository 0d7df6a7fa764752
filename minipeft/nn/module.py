"""``Module`` and ``Parameter``: how layers hold their weights and find each other.

A Module keeps its Parameters and sub-Modules as attributes; assigning one registers it
under the attribute's name, so a model's weights have dotted names that say where they
live (``encoder.layers.0.attention.query.weight``). From there a Module can list,
count, freeze, save, load and move all of its weights.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd import Tensor


class Parameter(Tensor):
    """A Tensor that is a weight of a Module: a leaf that requires grad unless frozen."""

    def __init__(self, data, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", frozen"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{frozen})"


class Module:
    """Base class of every layer and model. Subclasses set attributes and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_modules" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               f"before assigning {name!r}")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} defines no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- walking the tree ------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (module for _, module in self.named_children())

    def named_modules(self, prefix: str = ""):
        """This module and every module inside it, with dotted names ('' for this one)."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = [(f"{name}.{child}" if name else child, sub) for child, sub in module.named_children()]
            stack.extend(reversed(children))

    def modules(self):
        return (module for _, module in self.named_modules())

    def named_parameters(self, trainable_only: bool = False):
        """(dotted name, Parameter) for every weight, each shared weight once (tied weights)."""
        seen = set()
        for module_name, module in self.named_modules():
            for name, param in module._parameters.items():
                if id(param) in seen or (trainable_only and not param.requires_grad):
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, trainable_only: bool = False):
        return [param for _, param in self.named_parameters(trainable_only)]

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (each tied weight counted once)."""
        return sum(param.size for param in self.parameters(trainable_only))

    # ---- modes -------------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout on) for this module and all inside it."""
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (dropout off)."""
        return self.train(False)

    def freeze(self) -> "Module":
        """Stop every weight from learning (requires_grad = False)."""
        for param in self.parameters():
            param.requires_grad = False
        return self

    def unfreeze(self) -> "Module":
        for param in self.parameters():
            param.requires_grad = True
        return self

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None

    def to(self, device: str) -> "Module":
        """Move every weight to ``device`` ('cpu' or 'cuda') in place."""
        for param in self.parameters():
            param.data = backend.to_device(param.data, device)
            param.grad = None if param.grad is None else backend.to_device(param.grad, device)
        return self

    # ---- saving and loading ------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every weight as a NumPy array, by dotted name (a copy: later training won't change it)."""
        return OrderedDict((name, backend.to_numpy(param.data).copy()) for name, param in self.named_parameters())

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy weights in by name. Every key and shape is checked before anything is copied,
        so a bad state leaves the model as it was. ``strict=False`` allows missing keys (never
        wrong shapes)."""
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if unexpected or (strict and missing):
            raise KeyError(_key_report(type(self).__name__, missing if strict else [], unexpected))
        for name in state:
            want, got = params[name].shape, tuple(np.shape(state[name]))
            if want != got:
                raise ValueError(f"load_state_dict: {name} has shape {want} in the model but {got} in the state")
        for name, array in state.items():
            param = params[name]
            param.data = backend.xp_for(param.device).asarray(array, dtype=param.dtype).copy()

    # ---- printing ------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """What to show in parentheses after the class name (sizes, options)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _key_report(model: str, missing, unexpected) -> str:
    parts = []
    if missing:
        parts.append(f"missing keys {missing[:8]}{' ...' if len(missing) > 8 else ''}")
    if unexpected:
        parts.append(f"unexpected keys {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
    return f"load_state_dict into {model}: " + "; ".join(parts)
