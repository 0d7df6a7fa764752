"""Task files: one task in kilobytes, naming its method, checked against the base model it was trained on.

    nbytes = save_adapter(model, "sentiment", "sentiment.npz")   # returns the file's size in bytes
    name = load_adapter(fresh_model, "sentiment.npz")            # adds it and makes it active

A file holds only what the task owns (Hugging Face peft calls all of it "adapter weights",
whatever the method): its task modules' weights (``adapter.<site path>.<weight name>``),
its own slot weights: layer norms, head, biases... (``state.<dotted name>``), and a JSON
description: the method's tag, its config, the task's name, the sites it sits at, and a
**base fingerprint**. It is written by ``minipeft.serialization.save_arrays`` (no pickle,
atomic, a JSON sidecar beside it) and read by ``load_arrays``, with all of its checks.

The base fingerprint is ``serialization.fingerprint`` of every base weight the file does
*not* carry, by name. File + fingerprinted weights = the whole model, so a file that
loads gives exactly the outputs it gave when it was saved. A base with another head, or
other layer norms, still matches when the file brings its own; one with any other weight
does not.

``load_adapter`` checks everything before it changes anything: the file's format, method
and config; that the config fits this model (it builds the task's modules, unattached, and
takes every expected array's name and shape from them); every array; the base
fingerprint; and the name. Any mismatch raises ``CheckpointError`` (a ValueError) that
names it, and the model is left exactly as it was.

Version 1 files (written before there were several methods) have no method tag: they are
adapter files, and load as before.
"""
from __future__ import annotations

from pathlib import Path

from .. import backend
from ..nn.module import Module
from ..serialization import CheckpointError, fingerprint, load_arrays, save_arrays
from .method import method_for, method_named, known_tags
from .model import attach_task, check_name, prepare_task
from .state import Site, base_parameter, find_slots, peft_state, require_state

FORMAT = "minipeft-adapter"
VERSION = 2
READABLE_VERSIONS = (1, 2)
MODULE_PREFIX, STATE_PREFIX = "adapter.", "state."


def _base_weights(model: Module, carried: list[str]) -> dict:
    """name -> array of every base weight that is in no task module and not in ``carried``."""
    state = peft_state(model)
    in_modules = state.module_parameter_ids() if state is not None else set()
    carried = set(carried)
    return {name: backend.to_numpy(base_parameter(model, name).data) for name, param in model.named_parameters()
            if id(param) not in in_modules and name not in carried}


def base_fingerprint(model: Module, config=None) -> str:
    """The fingerprint of the base weights a file of a task with ``config`` relies on (see the
    module docstring); ``config`` defaults to AdapterConfig()."""
    if config is None:
        from .adapter.config import AdapterConfig
        config = AdapterConfig()
    return fingerprint(_base_weights(model, method_for(config, "base_fingerprint").carried(model, config)))


def _module_arrays(sites: list[tuple[str, Module]]) -> dict:
    """file key -> Parameter of every task-module weight."""
    return {f"{MODULE_PREFIX}{path}.{name}": param
            for path, module in sites for name, param in module.named_parameters()}


def save_adapter(model: Module, name: str, path) -> int:
    """Write task ``name`` (its modules, its slot weights, method, config and base fingerprint) to
    ``path`` (.npz, plus a .json beside it). Returns the file's size in bytes."""
    state = require_state(model, "save_adapter", name)
    record = state.tasks[name]
    arrays = {key: backend.to_numpy(param.data) for key, param in _module_arrays(state.task_modules(name)).items()}
    for slot, param in record.slots.items():
        arrays[STATE_PREFIX + slot] = backend.to_numpy(param.data)
    kinds = {slot: kind for slot, (_, _, kind) in find_slots(model).items()}
    meta = {
        "format": FORMAT, "version": VERSION, "method": record.method, "name": name,
        "config": record.config.to_dict(), "model": type(model).__name__, "adapter_modules": list(record.sites),
        "slots": list(record.slots),
        "layer_norms": [s for s in record.slots if kinds.get(s) in ("layer_norm", "other_norm")],
        "head": [s for s in record.slots if kinds.get(s) == "head"],
        "parameters": int(sum(a.size for a in arrays.values())),
        "base_fingerprint": fingerprint(_base_weights(model, list(record.slots))),
    }
    return save_arrays(path, arrays, meta)


def _read_config(path: Path, meta: dict):
    """(method, config) named by the file; CheckpointError if either is missing or invalid."""
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"load_adapter: {path} is not an adapter file (format {meta.get('format')!r}, "
                              f"expected {FORMAT!r}); a full checkpoint loads with minipeft.train.load_checkpoint")
    if meta.get("version") not in READABLE_VERSIONS:
        raise CheckpointError(f"load_adapter: {path} has adapter-file version {meta.get('version')!r}; this "
                              f"minipeft reads versions {list(READABLE_VERSIONS)}")
    tag = meta.get("method", "adapter") if meta.get("version") == 1 else meta.get("method")
    method = method_named(tag) if isinstance(tag, str) else None
    if method is None:
        raise CheckpointError(f"load_adapter: {path} names method {tag!r}; the methods are {known_tags()}")
    try:
        return method, method.config_class.from_dict(meta.get("config"))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"load_adapter: {path} holds an invalid {tag} config: {err}") from None


def _expected_shapes(model: Module, sites: list[Site], carried: list[str]) -> dict:
    """file key -> shape, from the task's built (unattached) modules and the model's slots."""
    shapes = {key: tuple(param.shape) for key, param in
              _module_arrays([(site.path, site.task_module) for site in sites]).items()}
    for slot in carried:
        shapes[STATE_PREFIX + slot] = tuple(base_parameter(model, slot).shape)
    return shapes


def _check_arrays(path: Path, model: Module, meta: dict, arrays: dict, shapes: dict) -> None:
    missing, unexpected = sorted(set(shapes) - set(arrays)), sorted(set(arrays) - set(shapes))
    if missing or unexpected:
        raise CheckpointError(f"load_adapter: {path} does not fit this {type(model).__name__} (saved from a "
                              f"{meta.get('model')}): missing arrays {missing[:6]}, unexpected arrays "
                              f"{unexpected[:6]}")
    for key, shape in shapes.items():
        if tuple(arrays[key].shape) != shape:
            raise CheckpointError(f"load_adapter: {path}: {key} has shape {tuple(arrays[key].shape)} in the file "
                                  f"but {shape} in this model (a base of another size?)")
        if arrays[key].dtype.kind != "f":
            raise CheckpointError(f"load_adapter: {path}: {key} has dtype {arrays[key].dtype}, not floating point")


def load_adapter(model: Module, path, name: str | None = None) -> str:
    """Add the task stored at ``path`` to ``model`` (under ``name``, or the name it was saved with),
    load its weights and make it active. Returns its name.

    Raises CheckpointError (model unchanged) if the file is not a task file, names an unknown
    method or one other than the model's tasks use, its config does not fit the model, an array is
    missing, extra or of the wrong shape, or the model's base weights are not the ones the task was
    trained on; ValueError if the name is taken.
    """
    path = Path(path)
    arrays, meta = load_arrays(path)
    method, config = _read_config(path, meta)
    if name is None:
        name = meta.get("name")
        try:
            check_name(name, "load_adapter")
        except ValueError as err:
            raise CheckpointError(f"load_adapter: {path} stores a task name that cannot be one: {err}") from None
    check_name(name, "load_adapter")
    state = peft_state(model)
    if state is not None and name in state.tasks:
        raise ValueError(f"load_adapter: the model already has an adapter named {name!r} (it has "
                         f"{list(state.tasks)}); pass name= to load it under another name")
    try:
        _, sites, carried = prepare_task(model, config, name, "load_adapter")
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"load_adapter: {path} was saved with a config that does not fit this "
                              f"{type(model).__name__} ({config}): {err}") from None
    _check_arrays(path, model, meta, arrays, _expected_shapes(model, sites, carried))
    expected = fingerprint(_base_weights(model, carried))
    if meta.get("base_fingerprint") != expected:
        raise CheckpointError(f"load_adapter: {path} was trained on a different base model: its base fingerprint "
                              f"is {meta.get('base_fingerprint')!r} but this model's is {expected!r} (the weights "
                              f"outside the adapter, its layer norms and head differ). Load it onto the base "
                              f"model it was trained with; the model was not changed.")

    # ---- checked: from here on the model changes ---------------------------------------------------------
    attach_task(model, method, config, name, sites, carried)
    state = peft_state(model)
    targets = _module_arrays(state.task_modules(name))
    targets.update({STATE_PREFIX + slot: param for slot, param in state.tasks[name].slots.items()})
    for key, param in targets.items():
        param.data = backend.xp_for(param.device).asarray(arrays[key], dtype=param.dtype).copy()
    return name
