"""Adding, switching and removing named adapters on a model, from outside the model.

    add_adapter(model, "sentiment", AdapterConfig(bottleneck=8))   # freeze base, plug in, activate
    print_trainable_parameters(model)       # trainable: 12,345 of 123,456 parameters (10.00%); ...
    train(model, ...)                        # the ordinary loop: model.parameters(trainable_only=True)
    add_adapter(model, "pair", AdapterConfig(bottleneck=8))        # a second task
    set_adapter(model, "sentiment")          # switching task = switching adapter
    with disable_adapter(model):             # the base model, bit for bit
        ...
    delete_adapter(model, "pair")

What ``add_adapter`` does (Houlsby et al., 2019): every Transformer layer it finds
(an ``EncoderLayer``: 2 sublayers; a ``DecoderLayer``: 3) gets an adapter after each
sublayer's output projection and dropout, before the residual add and layer norm: the
``SublayerOutput`` modules the layer lists in ``SUBLAYER_OUTPUTS`` are wrapped (once) in an
``AdapterWrapper`` that holds the named adapters. Every base weight is frozen; the active
adapter, its layer norms and its task head are trainable. ``nn`` knows nothing of this.

Per-adapter layer norms and head: object swapping
-------------------------------------------------
Adapter training also trains every LayerNorm (gamma, beta) and the task head. If those
were shared, training task B would change task A, and "adapter off" would not be the
base model (FINDINGS.md measured 0.2-11 points of difference). So each of these weights
is a *slot*: a (module, attribute) place that holds one Parameter object at a time.

* At the first ``add_adapter`` the Parameter objects in the slots are kept aside as the
  **base** ones (the objects themselves: nothing is copied; they are frozen).
* Each named adapter gets **its own Parameter objects** for the slots it trains, starting
  as copies of the base values.
* ``set_adapter(model, name)`` puts that adapter's objects into the slots
  (``module._parameters[attr] = p``); ``disable_adapter`` puts the base objects back.

So the model's tree always holds exactly one set of layer norms and one head under the
usual names: ``model.parameters()``, ``state_dict()`` and an optimizer built now all see
the active adapter's copies. Nothing is ever copied back and forth, so there is nothing to
keep in sync: the base objects are never trained, so restoring them restores the base
model bit for bit, by construction; and an optimizer built while adapter A was active
holds A's objects, so after switching to B it can never touch B or the base.

Which weights are slots: every ``LayerNorm``'s weight and bias (``train_layer_norms="layers"``
copies only those inside the Transformer layers), and the task head: the
parameters under the model's child modules named ``head``, ``mlm`` or ``nsp``, plus
parameters held by the model object itself (e.g. EncoderDecoder's ``output_bias``), minus
any tied to the body (the masked-LM decoder weight is the token table: it stays frozen).

Adapters of a model are added through one model object (``add_adapter(model, ...)``); its
bookkeeping lives on that object (``model._peft``). Load base weights before adding
adapters (a checkpoint loaded later writes into the active adapter's layer norms).
"""
from __future__ import annotations

import contextlib
import numbers
from collections import OrderedDict

from .. import backend
from ..nn.layers import LayerNorm, ModuleDict
from ..nn.module import Module, Parameter
from .config import AdapterConfig
from .layer import Adapter, AdapterWrapper

HEAD_MODULES = ("head", "mlm", "nsp")
_EMPTY_DICT = ModuleDict()  # adapter names must not shadow its attributes (keys, train, training, ...)
STATE_ATTR = "_peft"


class AdapterRecord:
    """What one named adapter is: its config, where its adapter modules sit, and its own slot Parameters."""

    def __init__(self, name: str, config: AdapterConfig, wrappers: list[str], slots: "OrderedDict[str, Parameter]"):
        self.name, self.config, self.wrappers, self.slots = name, config, wrappers, slots


class PeftState:
    """The bookkeeping ``add_adapter`` keeps on a model (``model._peft``)."""

    def __init__(self, slots, base, requires_grad_before):
        self.slots = slots  # slot name -> (module, attribute, kind "layer_norm" | "head")
        self.base = base  # slot name -> the base Parameter object (frozen, never trained)
        self.requires_grad_before = requires_grad_before  # [(Parameter, flag)] before the first adapter
        self.wrappers: "OrderedDict[str, tuple]" = OrderedDict()  # path -> (parent, attribute, AdapterWrapper)
        self.wrapper_layers: dict[str, int] = {}  # path -> index of its Transformer layer
        self.adapters: "OrderedDict[str, AdapterRecord]" = OrderedDict()
        self.active: str | None = None

    def adapter_modules(self, name: str) -> list[tuple[str, Adapter]]:
        """(wrapper path, Adapter) for every adapter module of ``name``."""
        return [(path, self.wrappers[path][2].adapters[name]) for path in self.adapters[name].wrappers]


# ---- finding things in the model ------------------------------------------------------------------
def _state(model: Module) -> PeftState | None:
    return model.__dict__.get(STATE_ATTR)


def _require_state(model: Module, caller: str, name: str | None = None) -> PeftState:
    state = _state(model)
    if state is None or not state.adapters:
        raise ValueError(f"{caller}: the model has no adapters; add one with add_adapter(model, name, config)")
    if name is not None and name not in state.adapters:
        raise ValueError(f"{caller}: the model has no adapter named {name!r}; it has {list(state.adapters)}")
    return state


def _submodule(root: Module, path: str) -> Module:
    module = root
    for part in path.split(".") if path else []:
        module = module._modules[part]
    return module


def _join(*parts: str) -> str:
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


def adapter_sites(model: Module, config: AdapterConfig) -> list[tuple[str, Module, str, Module, int, int]]:
    """Where ``config`` puts adapters: (path, parent, attribute, module, d, layer index) for each
    sublayer output.

    ``module`` is the SublayerOutput, or the AdapterWrapper already around it. Raises ValueError
    (changing nothing) if the model has no Transformer layers, a listed layer does not exist,
    or the bottleneck does not fit.
    """
    layers = transformer_layers(model)
    if not layers:
        raise ValueError(f"add_adapter: {type(model).__name__} has no Transformer layers (EncoderLayer or "
                         f"DecoderLayer) to put adapters in")
    present = sorted({index for _, index, _ in layers})
    if config.layers is not None:
        missing = sorted(set(config.layers) - set(present))
        if missing:
            raise ValueError(f"add_adapter: layers {missing} do not exist; the model's layers are numbered "
                             f"{present[0]}..{present[-1]}")
    sites = []
    for layer_path, index, layer in layers:
        if config.layers is not None and index not in config.layers:
            continue
        for sub in type(layer).SUBLAYER_OUTPUTS:
            parent_path, attribute = sub.rsplit(".", 1) if "." in sub else ("", sub)
            parent = _submodule(layer, parent_path)
            module = parent._modules[attribute]
            base = module.base_layer if isinstance(module, AdapterWrapper) else module
            dense = getattr(base, "dense", None)
            if dense is None or not hasattr(dense, "out_features"):
                raise TypeError(f"add_adapter: {_join(layer_path, sub)} is a {type(base).__name__}, not a "
                                f"SublayerOutput (a module with a Linear 'dense')")
            config.check_fits(dense.out_features)
            sites.append((_join(layer_path, sub), parent, attribute, module, dense.out_features, index))
    return sites


def find_slots(model: Module) -> "OrderedDict[str, tuple]":
    """Every swappable weight: slot name -> (module, attribute, kind), kind "layer_norm" (inside a
    Transformer layer), "other_norm" (any other LayerNorm: the embeddings') or "head" (see the
    module docstring). A LayerNorm inside the head counts as head."""
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
                    slots[_join(path, attribute)] = (module, attribute, kind)
            continue
        for attribute, param in module._parameters.items():
            if param is not None and id(param) not in body_ids:
                slots[_join(path, attribute)] = (module, attribute, "head")
    return slots


def carried_slots(slots, config: AdapterConfig) -> list[str]:
    """The slot names an adapter with ``config`` holds its own copies of."""
    kinds = {True: {"layer_norm", "other_norm"}, "layers": {"layer_norm"}, False: set()}[config.train_layer_norms]
    kinds |= {"head"} if config.train_head else set()
    return [name for name, (_, _, kind) in slots.items() if kind in kinds]


def _check_name(name, caller: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") or hasattr(_EMPTY_DICT, name):
        raise ValueError(f"{caller}: an adapter name must be a Python identifier that does not start with '_' "
                         f"and is not a ModuleDict attribute (e.g. 'sentiment', 'task_2'), got {name!r}")


def _put(module: Module, attribute: str, param: Parameter) -> None:
    """Place ``param`` in a slot, keeping the module's parameter order; follow the live device and dtype."""
    live = module._parameters[attribute]
    if param is not live:
        if param.device != live.device:
            param.data = backend.to_device(param.data, live.device)
        if param.dtype != live.dtype:
            param.data = param.data.astype(live.dtype)
    module._parameters[attribute] = param
    object.__setattr__(module, attribute, param)


def _activate(state: PeftState, name: str | None) -> None:
    for _, _, wrapper in state.wrappers.values():
        object.__setattr__(wrapper, "active", name if name is not None and name in wrapper.adapters else None)
    own = state.adapters[name].slots if name is not None else {}
    for slot, (module, attribute, _) in state.slots.items():
        _put(module, attribute, own.get(slot, state.base[slot]))
    for other, record in state.adapters.items():
        trainable = other == name
        for _, adapter in state.adapter_modules(other):
            for param in adapter.parameters():
                param.requires_grad = trainable
        for param in record.slots.values():
            param.requires_grad = trainable
    state.active = name


def _replace_child(parent: Module, attribute: str, child: Module) -> None:
    """parent.attribute = child, keeping the parent's order of children (and so of weights)."""
    parent._modules[attribute] = child
    object.__setattr__(parent, attribute, child)


# ---- the public functions -----------------------------------------------------------------------------
def add_adapter(model: Module, name: str, config: AdapterConfig | None = None) -> Module:
    """Put a new adapter called ``name`` into every Transformer layer of ``model`` and make it active.

    The first adapter freezes every base weight. The new adapter's modules, its own copies of
    the layer norms (``config.train_layer_norms``) and of the task head (``config.train_head``)
    are trainable; every other adapter is frozen. Everything is checked before the model is
    touched: a name already present, a bottleneck <= 0 or > d, or layers the model lacks raise
    ValueError and leave the model as it was. Returns the model.
    """
    config = AdapterConfig() if config is None else config
    if not isinstance(config, AdapterConfig):
        raise TypeError(f"add_adapter: config must be an AdapterConfig, got {type(config).__name__}")
    _check_name(name, "add_adapter")
    state = _state(model)
    if state is not None and name in state.adapters:
        raise ValueError(f"add_adapter: the model already has an adapter named {name!r} (it has "
                         f"{list(state.adapters)}); delete_adapter it first or choose another name")
    sites = adapter_sites(model, config)
    for path, _, _, module, _, _ in sites:
        if isinstance(module, AdapterWrapper) and (state is None or path not in state.wrappers):
            raise ValueError(f"add_adapter: {path} already carries adapters added through another model object "
                             f"that shares these layers; add adapters through that object")
        if isinstance(module, AdapterWrapper) and name in module.adapters:
            raise ValueError(f"add_adapter: {path} already holds an adapter named {name!r}")

    # ---- checked: from here on the model changes -------------------------------------------------------
    if state is None:
        slots = find_slots(model)
        base = OrderedDict((slot, module._parameters[attribute]) for slot, (module, attribute, _) in slots.items())
        state = PeftState(slots, base, [(p, p.requires_grad) for p in model.parameters()])
        object.__setattr__(model, STATE_ATTR, state)
        model.freeze()
    wrappers = []
    for path, parent, attribute, module, d, index in sites:
        if not isinstance(module, AdapterWrapper):
            module = AdapterWrapper(module)
            module.train(parent.training)
            _replace_child(parent, attribute, module)
            state.wrappers[path] = (parent, attribute, module)
            state.wrapper_layers[path] = index
        adapter = Adapter(d, config.bottleneck, config.nonlinearity, config.up_init, config.down_init,
                          config.init_std)
        weight = module.dense.weight  # the adapter follows the base's dtype and device
        for param in adapter.parameters():
            param.data = backend.to_device(param.data, weight.device).astype(weight.dtype, copy=False)
        adapter.train(module.training)
        module.adapters[name] = adapter
        wrappers.append(path)
    copies, own = {}, OrderedDict()
    for slot in carried_slots(state.slots, config):
        original = state.base[slot]
        if id(original) not in copies:  # a weight tied within the head stays tied in the copy
            copies[id(original)] = Parameter(original.data.copy())
        own[slot] = copies[id(original)]
    state.adapters[name] = AdapterRecord(name, config, wrappers, own)
    _activate(state, name)
    return model


def set_adapter(model: Module, name: str | None) -> None:
    """Make ``name`` the active adapter (its adapter modules, layer norms and head are used and
    trainable; every other adapter is frozen). ``None``: no adapter, the base model."""
    state = _require_state(model, "set_adapter", name)
    _activate(state, name)


@contextlib.contextmanager
def disable_adapter(model: Module, layers=None):
    """Inside ``with disable_adapter(model):`` the model is the base model exactly: no adapter is
    applied and the base layer norms and head are back (the base Parameter objects). The
    adapter that was active comes back afterwards. A model without adapters is left as it is.

    ``layers`` (a list of layer indices): switch off only the adapter modules in those layers,
    keeping the active adapter's layer norms and head: Houlsby et al.'s ablation (remove the
    adapters from a span of layers at test time, Fig. 6). Not the base model.
    """
    state = _state(model)
    if state is None or not state.adapters:
        yield model
        return
    if layers is not None:
        layers = set(layers)
        present = set(state.wrapper_layers.values())
        if not layers <= present:
            raise ValueError(f"disable_adapter: layers {sorted(layers - present)} hold no adapters; the layers "
                             f"with adapters are {sorted(present)}")
        switched = [wrapper for path, (_, _, wrapper) in state.wrappers.items()
                    if state.wrapper_layers[path] in layers]
        saved = [wrapper.active for wrapper in switched]
        for wrapper in switched:
            object.__setattr__(wrapper, "active", None)
        try:
            yield model
        finally:
            for wrapper, active in zip(switched, saved):
                object.__setattr__(wrapper, "active", active if active in wrapper.adapters else None)
        return
    previous = state.active
    _activate(state, None)
    try:
        yield model
    finally:
        if _state(model) is state:
            _activate(state, previous if previous in state.adapters else None)


def delete_adapter(model: Module, name: str) -> None:
    """Remove adapter ``name`` (its modules and its layer-norm and head copies). If it was active,
    no adapter is active afterwards (the base model). Wrappers left empty are unwrapped; when
    the last adapter goes, the model is exactly as before the first ``add_adapter`` (same
    modules, same Parameter objects, the same ones trainable)."""
    state = _require_state(model, "delete_adapter", name)
    if state.active == name:
        _activate(state, None)
    record = state.adapters.pop(name)
    for path in record.wrappers:
        parent, attribute, wrapper = state.wrappers[path]
        del wrapper.adapters[name]
        if len(wrapper.adapters) == 0:
            _replace_child(parent, attribute, wrapper.base_layer)
            del state.wrappers[path], state.wrapper_layers[path]
    if not state.adapters:
        _activate(state, None)
        for param, flag in state.requires_grad_before:
            param.requires_grad = flag
        object.__delattr__(model, STATE_ATTR)


def active_adapter(model: Module) -> str | None:
    """The name of the active adapter, or None (no adapters, or none active)."""
    state = _state(model)
    return None if state is None else state.active


def list_adapters(model: Module) -> list[str]:
    """The adapters' names, in the order they were added."""
    state = _state(model)
    return [] if state is None else list(state.adapters)


def adapter_config(model: Module, name: str) -> AdapterConfig:
    """The AdapterConfig adapter ``name`` was made with."""
    return _require_state(model, "adapter_config", name).adapters[name].config


def adapter_parameter_count(d: int, m: int, layers: int, sublayers: int = 2) -> int:
    """Parameters in the adapter modules of ``layers`` Transformer layers: layers x sublayers x (2md + d + m).

    Each adapter has W_down (d x m) + b_down (m) + W_up (m x d) + b_up (d) = 2md + d + m.
    An encoder layer has 2 adapters (sublayers=2, the default and the paper's count); a
    decoder layer has 3 (self-attention, cross-attention, feed-forward). Layer norms and the
    head are not included. BERT-Large, m = 64: adapter_parameter_count(1024, 64, 24) = 6,343,680.
    """
    for label, value in (("d", d), ("m", m), ("layers", layers), ("sublayers", sublayers)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"adapter_parameter_count: {label} must be a positive integer, got {value!r}")
    return layers * sublayers * (2 * m * d + d + m)


def parameter_summary(model: Module) -> dict:
    """Counts behind ``print_trainable_parameters``: trainable, total (every parameter of the
    model including all adapters' modules), adapters (all adapter modules), base (total minus
    adapters: the model as it was), and the two fractions trainable / total and trainable / base."""
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    state = _state(model)
    adapters = 0
    if state is not None:
        adapters = sum(adapter.num_parameters() for name in state.adapters for _, adapter in
                       state.adapter_modules(name))
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
