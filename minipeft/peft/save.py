"""Adapter files: one task in kilobytes, checked against the base model it was trained on.

    nbytes = save_adapter(model, "sentiment", "sentiment.npz")   # returns the file's size in bytes
    name = load_adapter(fresh_model, "sentiment.npz")            # adds it and makes it active

A file holds only what the adapter owns: its adapter modules' weights
(``adapter.<path>.down.weight``, ...), its own layer-norm and head weights
(``state.<dotted name>``), and a JSON description: the AdapterConfig, the adapter's name,
the modules it sits in, and a **base fingerprint**. It is written by
``minipeft.serialization.save_arrays`` (no pickle, atomic, a JSON sidecar beside it).

The base fingerprint is ``serialization.fingerprint`` of every base weight the file does
*not* carry (with the default config: everything but the layer norms and the head), by
name. File + fingerprinted weights = the whole model, so a file that loads gives exactly
the outputs it gave when it was saved. A base with another head, or other layer norms,
still matches (the file brings its own); one with any other weight does not.

``load_adapter`` checks everything before it changes anything: the file's format and
config, that the config fits this model (layers, bottleneck <= d), every array's name and
shape, the base fingerprint and the adapter's name. Any mismatch raises ``CheckpointError``
(a ValueError) that names it, and the model is left exactly as it was.
"""
from __future__ import annotations

from pathlib import Path

from .. import backend
from ..nn.module import Module
from ..serialization import CheckpointError, fingerprint, load_arrays, save_arrays
from .config import AdapterConfig
from .layer import Adapter
from .model import (_check_name, _require_state, _state, add_adapter, adapter_sites, carried_slots, find_slots)

FORMAT = "minipeft-adapter"
VERSION = 1
ADAPTER_PREFIX, STATE_PREFIX = "adapter.", "state."


def _base_weights(model: Module, config: AdapterConfig) -> dict:
    """name -> array of every base weight that an adapter with ``config`` does not carry."""
    state = _state(model)
    slots = state.slots if state is not None else find_slots(model)
    carried = set(carried_slots(slots, config))
    adapter_ids = {id(p) for module in model.modules() if isinstance(module, Adapter) for p in module.parameters()}
    arrays = {}
    for name, param in model.named_parameters():
        if id(param) in adapter_ids or name in carried:
            continue
        if state is not None and name in state.base:
            param = state.base[name]  # the base layer norm / head, not the active adapter's copy
        arrays[name] = backend.to_numpy(param.data)
    return arrays


def base_fingerprint(model: Module, config: AdapterConfig | None = None) -> str:
    """The fingerprint of the base weights an adapter file with ``config`` relies on (see the module docstring)."""
    return fingerprint(_base_weights(model, config or AdapterConfig()))


def _expected_shapes(model: Module, config: AdapterConfig) -> tuple[dict, list, list]:
    """The arrays an adapter file with ``config`` must hold for this model: (name -> shape,
    adapter module paths, carried slot names). Raises ValueError if the config does not fit."""
    sites = adapter_sites(model, config)
    state = _state(model)
    slots = state.slots if state is not None else find_slots(model)
    m = config.bottleneck
    shapes = {}
    for path, _, _, _, d, _ in sites:
        for name, shape in (("down.weight", (d, m)), ("down.bias", (m,)), ("up.weight", (m, d)), ("up.bias", (d,))):
            shapes[f"{ADAPTER_PREFIX}{path}.{name}"] = shape
    carried = carried_slots(slots, config)
    for slot in carried:
        base = state.base[slot] if state is not None else slots[slot][0]._parameters[slots[slot][1]]
        shapes[STATE_PREFIX + slot] = tuple(base.shape)
    return shapes, [path for path, *_ in sites], carried


def save_adapter(model: Module, name: str, path) -> int:
    """Write adapter ``name`` (its modules, layer norms and head, config and base fingerprint) to
    ``path`` (.npz, plus a .json beside it). Returns the file's size in bytes."""
    state = _require_state(model, "save_adapter", name)
    record = state.adapters[name]
    arrays = {}
    for wrapper_path, adapter in state.adapter_modules(name):
        for param_name, param in adapter.named_parameters():
            arrays[f"{ADAPTER_PREFIX}{wrapper_path}.{param_name}"] = backend.to_numpy(param.data)
    for slot, param in record.slots.items():
        arrays[STATE_PREFIX + slot] = backend.to_numpy(param.data)
    kinds = {slot: state.slots[slot][2] for slot in record.slots}
    meta = {
        "format": FORMAT, "version": VERSION, "name": name, "config": record.config.to_dict(),
        "model": type(model).__name__, "adapter_modules": list(record.wrappers),
        "layer_norms": [s for s, k in kinds.items() if k != "head"],
        "head": [s for s, k in kinds.items() if k == "head"],
        "parameters": int(sum(a.size for a in arrays.values())),
        "base_fingerprint": base_fingerprint(model, record.config),
    }
    return save_arrays(path, arrays, meta)


def load_adapter(model: Module, path, name: str | None = None) -> str:
    """Add the adapter stored at ``path`` to ``model`` (under ``name``, or the name it was saved
    with), load its weights and make it active. Returns its name.

    Raises CheckpointError (model unchanged) if the file is not an adapter file, its config
    does not fit the model, an array is missing, extra or of the wrong shape, or the model's
    base weights are not the ones the adapter was trained on; ValueError if the name is taken.
    """
    path = Path(path)
    arrays, meta = load_arrays(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"load_adapter: {path} is not an adapter file (format {meta.get('format')!r}, "
                              f"expected {FORMAT!r}); a full checkpoint loads with minipeft.train.load_checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"load_adapter: {path} has adapter-file version {meta.get('version')!r}; this "
                              f"minipeft reads version {VERSION}")
    try:
        config = AdapterConfig.from_dict(meta.get("config"))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"load_adapter: {path} holds an invalid adapter config: {err}") from None
    name = meta.get("name") if name is None else name
    _check_name(name, "load_adapter")
    state = _state(model)
    if state is not None and name in state.adapters:
        raise ValueError(f"load_adapter: the model already has an adapter named {name!r} (it has "
                         f"{list(state.adapters)}); pass name= to load it under another name")
    try:
        shapes, _, _ = _expected_shapes(model, config)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"load_adapter: {path} was saved with a config that does not fit this "
                              f"{type(model).__name__} ({config}): {err}") from None
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
    expected = base_fingerprint(model, config)
    if meta.get("base_fingerprint") != expected:
        raise CheckpointError(f"load_adapter: {path} was trained on a different base model: its base fingerprint "
                              f"is {meta.get('base_fingerprint')!r} but this model's is {expected!r} (the weights "
                              f"outside the adapter, its layer norms and head differ). Load it onto the base "
                              f"model it was trained with; the model was not changed.")

    # ---- checked: from here on the model changes ---------------------------------------------------------
    add_adapter(model, name, config)
    state = _state(model)
    targets = {}
    for wrapper_path, adapter in state.adapter_modules(name):
        for param_name, param in adapter.named_parameters():
            targets[f"{ADAPTER_PREFIX}{wrapper_path}.{param_name}"] = param
    for slot, param in state.adapters[name].slots.items():
        targets[STATE_PREFIX + slot] = param
    for key, param in targets.items():
        xp = backend.xp_for(param.device)
        param.data = xp.asarray(arrays[key], dtype=param.dtype).copy()
    return name
