"""``PeftMethod``: what one method tells the shared core, and the table of methods by config type.

A method is three answers, given a model and the method's config:

    sites(model, config)    where its task modules go, each built (``Site`` records); checks
                            everything and changes nothing
    wrap(site, config)      the TaskWrapper to put at a site that has none yet
    carried(model, config)  which of the model's own weights the task trains, each task its own
                            copy (slot names: layer norms, head, biases, ...)

``LinearMethod`` is the shared shape of the methods that change chosen Linears' products: it
finds them by name and asks only for the module to put beside each one.

Everything else (freezing, activating, disabling, deleting, files, counting, mixed batches)
is the core's, the same for every method. A method with no sites (BitFit, the freezing
baselines) is slots only.

Each method registers itself with ``register`` in its folder's ``method.py``; ``method_for``
finds it from a config (``get_peft_model`` dispatches on the config's type) and
``method_named`` from the tag a file carries.
"""
from __future__ import annotations

from ..nn.module import Module
from .state import Site, chosen_layers, join, standard_slots, submodule
from .wrapper import LinearWrapper, TaskWrapper

_BY_CONFIG: dict[type, "PeftMethod"] = {}
_BY_TAG: dict[str, "PeftMethod"] = {}


class PeftMethod:
    """The base every method extends (see the module docstring)."""

    tag = ""  # the method's name in files, errors and results ("adapter", "lora", ...)
    config_class: type = object
    mergeable = False  # can merge_adapter fold its task into the base weights?

    def sites(self, model: Module, config) -> list[Site]:
        """Where the task modules go, with each one built (nothing attached). Default: none."""
        return []

    def wrap(self, site: Site, config) -> TaskWrapper:
        raise NotImplementedError(f"{type(self).__name__} puts no modules into the model")

    def carried(self, model: Module, config) -> list[str]:
        """Slot names the task holds its own copies of; default: the config's layer norms and head."""
        return standard_slots(model, config.train_layer_norms, config.train_head)


def linear_sites(model: Module, targets: tuple, layers, caller: str) -> list[tuple[Site, int, int]]:
    """(Site, d_in, d_out) of every Linear in the chosen Transformer layers whose path in its layer is a
    target or ends with "." + a target. ValueError naming the Linears that exist if a target matches none."""
    found, matched, names = [], set(), []
    for layer_path, index, layer in chosen_layers(model, layers, caller):
        for path, module in layer.named_modules():
            is_linear = isinstance(module, LinearWrapper) or (hasattr(module, "in_features") and
                                                             "weight" in module._parameters)
            if not path or not is_linear:
                continue
            names.append(path)
            hits = [t for t in targets if path == t or path.endswith("." + t)]
            if hits:
                matched.update(hits)
                base = getattr(module, "base_layer", module)
                parent_path, attribute = path.rsplit(".", 1) if "." in path else ("", path)
                parent = submodule(layer, parent_path)
                found.append((Site(join(layer_path, path), parent, attribute, module, index),
                              base.in_features, base.out_features))
    unknown = [t for t in targets if t not in matched]
    if unknown:
        raise ValueError(f"{caller}: target_modules {unknown} match no Linear in the Transformer layers; the "
                         f"Linears there are {sorted(set(names))}")
    return found


class LinearMethod(PeftMethod):
    """A method that changes the products of chosen Linears (LoRA, (IA)^3): one task module beside each
    Linear that ``config.target_modules`` names, in the layers ``config.layers`` chooses."""

    wrapper_class = LinearWrapper
    mergeable = True

    def sites(self, model: Module, config) -> list[Site]:
        sites = []
        for site, d_in, d_out in linear_sites(model, config.target_modules, config.layers, type(config).__name__):
            site.task_module = self.task_module(site, d_in, d_out, config)
            sites.append(site)
        return sites

    def task_module(self, site: Site, d_in: int, d_out: int, config) -> Module:
        """The new module beside the Linear d_in -> d_out at ``site`` (checks that it fits)."""
        raise NotImplementedError(f"{type(self).__name__} defines no task_module()")

    def wrap(self, site: Site, config) -> LinearWrapper:
        return self.wrapper_class(site.module)


def register(method: PeftMethod) -> PeftMethod:
    """Add ``method`` to the table (by its config type and its tag)."""
    _BY_CONFIG[method.config_class] = method
    _BY_TAG[method.tag] = method
    return method


def method_for(config, caller: str) -> PeftMethod:
    """The method whose config ``config`` is; TypeError naming the known configs otherwise."""
    method = _BY_CONFIG.get(type(config))
    if method is None:
        known = ", ".join(sorted(c.__name__ for c in _BY_CONFIG))
        raise TypeError(f"{caller}: config must be one of {known}, got {type(config).__name__}")
    return method


def method_named(tag: str) -> PeftMethod | None:
    """The method with this tag, or None."""
    return _BY_TAG.get(tag)


def known_tags() -> list[str]:
    return sorted(_BY_TAG)
