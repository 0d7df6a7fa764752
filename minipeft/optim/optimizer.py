"""``Optimizer``: what every optimizer shares.

An optimizer holds the parameters it may change and, for each, whatever running
state its rule needs (momentum, Adam's moments). Only trainable parameters count:
one frozen at construction (``requires_grad=False``) is dropped there and gets no
state, so freezing a model before building the optimizer is what makes adapter
training cheap in memory too. Build the optimizer after freezing or unfreezing.

A training step:

    optimizer.zero_grad()        # .grad = None on every parameter
    loss = model(batch); loss.backward()
    optimizer.step()             # update each parameter that has a .grad

The learning rate is the plain attribute ``optimizer.lr``; a schedule sets it before
each step (see ``schedule.py``). Updates are written into ``param.data`` in place;
``param.grad`` is never modified (gradient arrays may be shared between tensors).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Tensor


class Optimizer:
    """Base class: subclasses define ``update(param, grad, state)`` for one parameter."""

    def __init__(self, params, lr: float):
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: the learning rate must be > 0, got lr={lr}")
        self.lr = lr
        named = _named_parameters(params)
        if not named:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.names = {id(p): name for name, p in named if p.requires_grad}
        self.params = [p for _, p in named if p.requires_grad]
        if not self.params:
            raise ValueError(f"{type(self).__name__}: none of the {len(named)} parameters requires grad "
                             f"(all frozen), so there is nothing to train")
        self.device = self.params[0].device
        for p in self.params:
            self._check_device(p)
        self.state: dict[Tensor, dict] = {}  # per parameter, created at its first update

    def update(self, param: Tensor, grad, state: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} defines no update()")

    def step(self) -> None:
        """Update every parameter that has a gradient (one with .grad None is left alone)."""
        for p in self.params:
            if p.grad is None or not p.requires_grad:
                continue
            self._check_device(p)
            if p.grad.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}: {self._name(p)} has shape {p.shape} "
                                 f"but its gradient has shape {tuple(p.grad.shape)}")
            self.update(p, p.grad, self.state.setdefault(p, {}))

    def zero_grad(self) -> None:
        """Forget the gradients (.grad = None), ready for the next backward."""
        for p in self.params:
            p.grad = None

    def state_size_bytes(self) -> int:
        """Memory held by the optimizer's state arrays (momentum, moments), in bytes."""
        return sum(value.nbytes for state in self.state.values() for value in state.values()
                   if hasattr(value, "nbytes"))

    def _check_device(self, p: Tensor) -> None:
        if p.device != self.device:
            raise RuntimeError(f"{type(self).__name__}: {self._name(p)} is on {p.device} but the other "
                               f"parameters are on {self.device}; move the model with .to(device) "
                               f"before building the optimizer")
        if p.grad is not None and backend.device_of(p.grad) != p.device:
            raise RuntimeError(f"{type(self).__name__}: {self._name(p)} is on {p.device} but its gradient "
                               f"is on {backend.device_of(p.grad)}")

    def _name(self, p: Tensor) -> str:
        return f"parameter {self.names[id(p)]!r}"

    def _settings(self) -> str:
        return f"lr={self.lr:g}"

    def __repr__(self) -> str:
        count = sum(p.size for p in self.params)
        return f"{type(self).__name__}({self._settings()}; {len(self.params)} tensors, {count:,} numbers)"


def _named_parameters(params) -> list[tuple[str, Tensor]]:
    """(name, parameter) pairs from a Module or an iterable of Tensors, each tensor once."""
    if hasattr(params, "named_parameters"):
        pairs = list(params.named_parameters())
    else:
        pairs = [(str(i), p) for i, p in enumerate(params)]
    for name, p in pairs:
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer: parameter {name} is a {type(p).__name__}, expected a Tensor "
                            f"(pass model.parameters() or the model itself)")
    unique, seen = [], set()
    for name, p in pairs:
        if id(p) not in seen:  # a tensor listed twice would be updated twice per step
            seen.add(id(p))
            unique.append((name, p))
    return unique
