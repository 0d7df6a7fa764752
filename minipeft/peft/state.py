"""What every PEFT method shares: the bookkeeping on the model, and finding places in it.

A model with tasks on it carries one ``PeftState`` (``peft_state(model)``). A *task* is one
named, trained state of one method (an adapter, a LoRA, a BitFit, ...), and it owns two
kinds of weights:

* **task modules**: new modules the method puts at *sites* in the model (an adapter after
  each sublayer, a LoRA beside each chosen Linear, a prompt before the embeddings). A
  site holds one ``TaskWrapper`` (``wrapper.py``), which holds every task's module for that
  site and applies the active one.
* **slots**: weights of the model itself that the task trains, each task its own copy
  (layer norms, the task head, BitFit's biases, the top layers of a top-k baseline). A
  slot is a (module, attribute) place that holds one Parameter object at a time.

How slots work (nothing is ever copied back and forth):

* When a task first carries a slot, the Parameter object in it is kept aside as the
  **base** one (the object itself; it is frozen and never trained).
* Each task gets **its own Parameter objects** for the slots it carries, starting as
  copies of the base values.
* Activating a task puts its objects into the slots (``module._parameters[attr] = p``);
  disabling puts the base objects back. So the model's tree always holds exactly one set
  of weights under the usual names: ``model.parameters()``, ``state_dict()`` and an
  optimizer built now all see the active task's copies; restoring the base objects
  restores the base model bit for bit; an optimizer built while task A was active holds
  A's objects and can never touch B or the base.

Why per-task layer norms matter: adapter training also trains the layer norms. If they
were shared, "adapter off" would not be the base model: lesson 07 measures it.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .. import backend
from ..nn.layers import LayerNorm
from ..nn.module import Module, Parameter

HEAD_MODULES = ("head", "mlm", "nsp")
STATE_ATTR = "_peft"


@dataclass
class Site:
    """One place where a method puts a task module.

    ``path`` is the dotted name of the place (``bert.layers.0.attention.output``), ``parent``
    the module that holds it as its child ``attribute``; ``module`` is what is there now (the
    base module, the TaskWrapper already around it, or None for an empty hook); ``layer`` is
    the index of the Transformer layer it is in (-1 outside the layers); ``task_module`` is the
    new module for this task (built, not yet attached)."""

    path: str
    parent: Module
    attribute: str
    module: Module | None
    layer: int
    task_module: Module | None = None


@dataclass
class TaskRecord:
    """One named task: its method's tag, its config, the site paths it sits at and its own slot Parameters."""

    name: str
    method: str
    config: object
    sites: list[str]
    slots: "OrderedDict[str, Parameter]"


@dataclass
class PeftState:
    """The bookkeeping kept on a model with tasks (``model._peft``)."""

    method: str  # the method every task of this model uses
    requires_grad_before: list  # [(Parameter, flag)] as they were before the first task
    places: "OrderedDict[str, tuple]" = field(default_factory=OrderedDict)  # slot -> (module, attribute)
    base: "OrderedDict[str, Parameter]" = field(default_factory=OrderedDict)  # slot -> the base Parameter
    wrappers: "OrderedDict[str, tuple]" = field(default_factory=OrderedDict)  # path -> (parent, attr, wrapper)
    wrapper_layers: dict = field(default_factory=dict)  # path -> index of its Transformer layer
    tasks: "OrderedDict[str, TaskRecord]" = field(default_factory=OrderedDict)
    active: str | None = None
    merged: str | None = None  # the task whose weights are merged into the base products, if any

    def task_modules(self, name: str) -> list[tuple[str, Module]]:
        """(site path, task module) for every module of task ``name``."""
        return [(path, self.wrappers[path][2].tasks[name]) for path in self.tasks[name].sites]

    def module_parameter_ids(self) -> set:
        """id() of every Parameter in any task's modules."""
        return {id(p) for name in self.tasks for _, module in self.task_modules(name) for p in module.parameters()}


def peft_state(model: Module) -> PeftState | None:
    """The PeftState of ``model``, or None if no task was ever added to it."""
    return model.__dict__.get(STATE_ATTR)


def require_state(model: Module, caller: str, name: str | None = None) -> PeftState:
    """The model's PeftState; ValueError if it has no tasks, or none called ``name``."""
    state = peft_state(model)
    if state is None or not state.tasks:
        raise ValueError(f"{caller}: the model has no adapters; add one with get_peft_model(model, config, name=...)")
    if name is not None and name not in state.tasks:
        raise ValueError(f"{caller}: the model has no adapter named {name!r}; it has {list(state.tasks)}")
    return state


# ---- finding places in the model ------------------------------------------------------------------
def submodule(root: Module, path: str) -> Module:
    """The module at dotted ``path`` below ``root`` ('' is root itself)."""
    module = root
    for part in path.split(".") if path else []:
        module = module._modules[part]
    return module


def join(*parts: str) -> str:
    """Dotted path of the non-empty parts."""
    return ".".join(p for p in parts if p)


def transformer_layers(model: Module) -> list[tuple[str, int, Module]]:
    """(path, index in its stack, layer) for every module that lists ``SUBLAYER_OUTPUTS``
    (EncoderLayer, DecoderLayer), in the model's order."""
    found = []
    for path, module in model.named_modules():
        if hasattr(type(module), "SUBLAYER_OUTPUTS"):
            last = path.rsplit(".", 1)[-1]
            found.append((path, int(last) if last.isdigit() else 0, module))
    return found


def chosen_layers(model: Module, layers, caller: str) -> list[tuple[str, int, Module]]:
    """The Transformer layers whose index is in ``layers`` (None: all). ValueError if the model has
    none, or ``layers`` lists one it lacks."""
    found = transformer_layers(model)
    if not found:
        raise ValueError(f"{caller}: {type(model).__name__} has no Transformer layers (EncoderLayer or "
                         f"DecoderLayer) to put adapters in")
    present = sorted({index for _, index, _ in found})
    if layers is not None:
        missing = sorted(set(layers) - set(present))
        if missing:
            raise ValueError(f"{caller}: layers {missing} do not exist; the model's layers are numbered "
                             f"{present[0]}..{present[-1]}")
        found = [entry for entry in found if entry[1] in layers]
    return found


def find_slots(model: Module) -> "OrderedDict[str, tuple]":
    """The layer norms and the head: slot name -> (module, attribute, kind), kind "layer_norm" (inside
    a Transformer layer), "other_norm" (any other LayerNorm: the embeddings') or "head": the
    parameters under the model's children named ``head``, ``mlm`` or ``nsp``, plus those held by
    the model object itself (EncoderDecoder's ``output_bias``), minus any tied to the body (the
    masked-LM decoder weight is the token table). A LayerNorm inside the head counts as head."""
    layer_prefixes = tuple(path + "." if path else "" for path, _, _ in transformer_layers(model))
    heads = [name for name in HEAD_MODULES if name in model._modules]
    head_prefixes = tuple(name + "." for name in heads)

    def in_head(path):
        return path in heads or path.startswith(head_prefixes)

    body_ids = {id(p) for path, module in model.named_modules() if path and not in_head(path)
                for p in module._parameters.values() if p is not None}
    slots = OrderedDict()
    for path, module in model.named_modules():
        if path and not in_head(path):
            if isinstance(module, LayerNorm):
                kind = "layer_norm" if path.startswith(layer_prefixes) else "other_norm"
                for attribute in ("weight", "bias"):
                    slots[join(path, attribute)] = (module, attribute, kind)
            continue
        for attribute, param in module._parameters.items():
            if param is not None and id(param) not in body_ids:
                slots[join(path, attribute)] = (module, attribute, "head")
    return slots


def standard_slots(model: Module, train_layer_norms, train_head: bool) -> list[str]:
    """The layer-norm and head slots a config with these two fields carries: ``train_layer_norms``
    True (every LayerNorm), "layers" (those in the Transformer layers) or False; ``train_head``."""
    kinds = {True: {"layer_norm", "other_norm"}, "layers": {"layer_norm"}, False: set()}[train_layer_norms]
    kinds |= {"head"} if train_head else set()
    return [name for name, (_, _, kind) in find_slots(model).items() if kind in kinds]


def parameter_places(model: Module) -> "OrderedDict[str, tuple]":
    """Every weight of the model: dotted name -> (module that holds it, attribute), each object once."""
    places, seen = OrderedDict(), set()
    for path, module in model.named_modules():
        for attribute, param in module._parameters.items():
            if param is not None and id(param) not in seen:
                seen.add(id(param))
                places[join(path, attribute)] = (module, attribute)
    return places


def base_parameter(model: Module, name: str) -> Parameter:
    """The base Parameter of slot ``name`` (the one kept aside if a task carries it, else the live one)."""
    state = peft_state(model)
    if state is not None and name in state.base:
        return state.base[name]
    module, attribute = parameter_places(model)[name]
    return module._parameters[attribute]


# ---- changing the model ----------------------------------------------------------------------------
def put(module: Module, attribute: str, param: Parameter) -> None:
    """Place ``param`` in a slot, keeping the module's parameter order; follow the live device and dtype."""
    live = module._parameters[attribute]
    if param is not live:
        if param.device != live.device:
            param.data = backend.to_device(param.data, live.device)
        if param.dtype != live.dtype:
            param.data = param.data.astype(live.dtype)
    module._parameters[attribute] = param
    object.__setattr__(module, attribute, param)


def replace_child(parent: Module, attribute: str, child: Module | None) -> None:
    """parent.attribute = child, keeping the parent's order of children (and so of weights); None
    empties a hook."""
    if child is None:
        parent._modules.pop(attribute, None)
    else:
        parent._modules[attribute] = child
    object.__setattr__(parent, attribute, child)
