"""Adding, switching and removing named tasks on a model, from outside the model, for every method.

    get_peft_model(model, LoraConfig(r=8), name="sentiment")   # freeze base, plug in, activate
    print_trainable_parameters(model)       # trainable: 12,345 of 123,456 parameters (10.00%); ...
    train(model, ...)                        # the ordinary loop: model.parameters(trainable_only=True)
    get_peft_model(model, LoraConfig(r=8), name="pair")        # a second task
    set_adapter(model, "sentiment")          # switching task = switching the active state
    with disable_adapter(model):             # the base model, bit for bit
        ...
    delete_adapter(model, "pair")

``get_peft_model`` dispatches on the config's type (``AdapterConfig``, ``LoraConfig``,
``BitFitConfig``, ``PromptTuningConfig``, ``PrefixTuningConfig``, ``IA3Config`` and the
freezing baselines), as Hugging Face peft's does; ``add_adapter(model, name, config)`` is
the same with the adapter method's argument order. The first task freezes every base
weight; the active task's modules and its own slot copies (``state.py``) are trainable.
One model holds tasks of one method (mixing them would stack wrappers inside each other).

Tasks of a model are added through one model object; their bookkeeping lives on that object
(``model._peft``). Load base weights before adding tasks (a checkpoint loaded later writes
into the active task's slots).
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict

from .. import backend
from ..nn.layers import ModuleDict
from ..nn.module import Module, Parameter
from .method import PeftMethod, method_for
from .state import (STATE_ATTR, PeftState, Site, TaskRecord, parameter_places, peft_state, put, replace_child,
                    require_state)
from .wrapper import TaskWrapper

_EMPTY_DICT = ModuleDict()  # task names must not shadow its attributes (keys, train, training, ...)


def check_name(name, caller: str) -> None:
    """ValueError unless ``name`` can name a task (a Python identifier, no leading '_')."""
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or hasattr(_EMPTY_DICT, name):
        raise ValueError(f"{caller}: an adapter name must be a Python identifier that does not start with '_' "
                         f"and is not a ModuleDict attribute (e.g. 'sentiment', 'task_2'), got {name!r}")


def prepare_task(model: Module, config, name: str, caller: str) -> tuple[PeftMethod, list[Site], list[str]]:
    """Check that task ``name`` with ``config`` can be added, and build its modules: (method, sites,
    carried slot names). Raises (TypeError, ValueError) without touching the model."""
    method = method_for(config, caller)
    check_name(name, caller)
    state = peft_state(model)
    if state is not None and name in state.tasks:
        raise ValueError(f"{caller}: the model already has an adapter named {name!r} (it has {list(state.tasks)}); "
                         f"delete_adapter it first or choose another name")
    if state is not None and state.tasks and state.method != method.tag:
        raise ValueError(f"{caller}: the model holds {state.method!r} tasks ({list(state.tasks)}); one model holds "
                         f"tasks of one method, so a {method.tag!r} task needs a model of its own")
    sites = method.sites(model, config)
    for site in sites:
        if isinstance(site.module, TaskWrapper) and (state is None or site.path not in state.wrappers):
            raise ValueError(f"{caller}: {site.path} already carries adapters added through another model object "
                             f"that shares these layers; add adapters through that object")
    return method, sites, method.carried(model, config)


def attach_task(model: Module, method: PeftMethod, config, name: str, sites: list[Site], carried: list[str]) -> None:
    """Put a prepared task into the model (see ``prepare_task``) and make it active."""
    state = peft_state(model)
    if state is None:
        state = PeftState(method.tag, [(p, p.requires_grad) for p in model.parameters()])
        object.__setattr__(model, STATE_ATTR, state)
        model.freeze()
    state.method = method.tag
    for site in sites:
        wrapper = site.module
        if not isinstance(wrapper, TaskWrapper):
            wrapper = method.wrap(site, config)
            wrapper.train(site.parent.training)
            replace_child(site.parent, site.attribute, wrapper)
            state.wrappers[site.path] = (site.parent, site.attribute, wrapper)
            state.wrapper_layers[site.path] = site.layer
        like = next(iter(site.parent.parameters()), None)  # the task follows the base's dtype and device
        for param in site.task_module.parameters():
            if like is not None:
                param.data = backend.to_device(param.data, like.device).astype(like.dtype, copy=False)
        site.task_module.train(site.parent.training)
        wrapper.tasks[name] = site.task_module
    places = parameter_places(model)
    copies, own = {}, OrderedDict()
    for slot in carried:
        if slot not in state.base:  # the first task to carry it: the object there now is the base one
            state.places[slot] = places[slot]
            state.base[slot] = places[slot][0]._parameters[places[slot][1]]
        original = state.base[slot]
        if id(original) not in copies:  # a weight tied within the head stays tied in the copy
            copies[id(original)] = Parameter(original.data.copy())
        own[slot] = copies[id(original)]
    state.tasks[name] = TaskRecord(name, method.tag, config, [site.path for site in sites], own)
    activate(state, name)


def activate(state: PeftState, name: str | None) -> None:
    """Make task ``name`` (None: none) the one applied and trainable; undoes any merge."""
    for _, _, wrapper in state.wrappers.values():
        object.__setattr__(wrapper, "active", name if name is not None and name in wrapper.tasks else None)
    own = state.tasks[name].slots if name is not None else {}
    for slot, (module, attribute) in state.places.items():
        put(module, attribute, own.get(slot, state.base[slot]))
    for other, record in state.tasks.items():
        trainable = other == name
        for _, module in state.task_modules(other):
            for param in module.parameters():
                param.requires_grad = trainable
        for param in record.slots.values():
            param.requires_grad = trainable
    state.active, state.merged = name, None


# ---- the public functions ------------------------------------------------------------------------------
def get_peft_model(model: Module, config, name: str = "default") -> Module:
    """Add a task called ``name`` of ``config``'s method to ``model`` and make it active.

    Everything is checked before the model is touched: a name already present, a config that
    does not fit the model, or a method other than the one the model's tasks use raise
    (ValueError, TypeError) and leave the model as it was. Returns the model.
    """
    method, sites, carried = prepare_task(model, config, name, "get_peft_model")
    attach_task(model, method, config, name, sites, carried)
    return model


def add_adapter(model: Module, name: str, config=None) -> Module:
    """``get_peft_model(model, config, name)`` with the adapter method's argument order; the
    default config is ``AdapterConfig()`` (Houlsby adapters, m = 64)."""
    from .adapter.config import AdapterConfig

    config = AdapterConfig() if config is None else config
    if not isinstance(config, AdapterConfig):
        raise TypeError(f"add_adapter: config must be an AdapterConfig, got {type(config).__name__}; other "
                        f"methods' configs go to get_peft_model(model, config, name=...)")
    method, sites, carried = prepare_task(model, config, name, "add_adapter")
    attach_task(model, method, config, name, sites, carried)
    return model


def set_adapter(model: Module, name: str | None) -> None:
    """Make task ``name`` active (its modules and slot copies are used and trainable; every other
    task is frozen). ``None``: no task, the base model."""
    state = require_state(model, "set_adapter", name)
    activate(state, name)


@contextlib.contextmanager
def disable_adapter(model: Module, layers=None):
    """Inside ``with disable_adapter(model):`` the model is the base model exactly: no task module is
    applied and the base slots (layer norms, head, ...) are back. The task that was active comes back
    afterwards. A model without tasks is left as it is.

    ``layers`` (a list of layer indices): switch off only the task modules in those layers,
    keeping the active task's slots: Houlsby et al.'s ablation (remove the adapters from a
    span of layers at test time, Fig. 6). Not the base model.
    """
    state = peft_state(model)
    if state is None or not state.tasks:
        yield model
        return
    if layers is not None:
        with _disabled_in_layers(state, set(layers)):
            yield model
        return
    previous = state.active
    activate(state, None)
    try:
        yield model
    finally:
        if peft_state(model) is state:
            activate(state, previous if previous in state.tasks else None)


@contextlib.contextmanager
def _disabled_in_layers(state: PeftState, layers: set):
    present = set(state.wrapper_layers.values())
    if not layers <= present:
        raise ValueError(f"disable_adapter: layers {sorted(layers - present)} hold no adapters; the layers "
                         f"with adapters are {sorted(present)}")
    switched = [wrapper for path, (_, _, wrapper) in state.wrappers.items() if state.wrapper_layers[path] in layers]
    saved = [wrapper.active for wrapper in switched]
    for wrapper in switched:
        object.__setattr__(wrapper, "active", None)
    try:
        yield
    finally:
        for wrapper, active in zip(switched, saved):
            object.__setattr__(wrapper, "active", active if active in wrapper.tasks else None)


def delete_adapter(model: Module, name: str) -> None:
    """Remove task ``name`` (its modules and its slot copies). If it was active, no task is active
    afterwards (the base model). Wrappers left empty are unwrapped; when the last task goes, the
    model is exactly as before the first one (same modules, same Parameter objects, the same
    ones trainable)."""
    state = require_state(model, "delete_adapter", name)
    if state.active == name or state.merged is not None:
        activate(state, None if state.active == name else state.active)
    record = state.tasks.pop(name)
    for path in record.sites:
        parent, attribute, wrapper = state.wrappers[path]
        del wrapper.tasks[name]
        if len(wrapper.tasks) == 0:
            replace_child(parent, attribute, wrapper.base_layer)
            del state.wrappers[path], state.wrapper_layers[path]
    if not state.tasks:
        release(model, state)


def release(model: Module, state: PeftState) -> None:
    """Forget the bookkeeping: base slots back, trainable flags as before the first task."""
    activate(state, None)
    for param, flag in state.requires_grad_before:
        param.requires_grad = flag
    object.__delattr__(model, STATE_ATTR)


def active_adapter(model: Module) -> str | None:
    """The name of the active task, or None (no tasks, or none active)."""
    state = peft_state(model)
    return None if state is None else state.active


def list_adapters(model: Module) -> list[str]:
    """The tasks' names, in the order they were added."""
    state = peft_state(model)
    return [] if state is None else list(state.tasks)


def adapter_config(model: Module, name: str):
    """The config task ``name`` was made with."""
    return require_state(model, "adapter_config", name).tasks[name].config


def task_modules(model: Module, name: str) -> list[tuple[str, Module]]:
    """(site path, module) for every module task ``name`` put into the model (empty for slot-only methods)."""
    return require_state(model, "task_modules", name).task_modules(name)


def parameter_summary(model: Module) -> dict:
    """Counts behind ``print_trainable_parameters``: trainable, total (every parameter of the
    model including all tasks' modules), adapters (all tasks' modules), base (total minus
    adapters: the model as it was), and the two fractions trainable / total and trainable / base."""
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    state = peft_state(model)
    adapters = 0
    if state is not None:
        adapters = sum(module.num_parameters() for name in state.tasks for _, module in state.task_modules(name))
    base = total - adapters
    return {"trainable": trainable, "total": total, "adapters": adapters, "base": base,
            "trainable_fraction": trainable / total if total else 0.0,
            "trainable_fraction_of_base": trainable / base if base else 0.0}


def print_trainable_parameters(model: Module) -> str:
    """Print and return how many parameters train, stating both denominators."""
    s = parameter_summary(model)
    text = (f"trainable: {s['trainable']:,} of {s['total']:,} parameters ({100 * s['trainable_fraction']:.2f}%); "
            f"denominator = all parameters of the model including adapters ({s['adapters']:,} in adapter modules); "
            f"of the base model alone ({s['base']:,}): {100 * s['trainable_fraction_of_base']:.2f}%")
    print(text)
    return text
