"""``PeftMethod``: what one method tells the shared core, and the table of methods by config type.

A method is three answers, given a model and the method's config:

    sites(model, config)    where its task modules go, each built (``Site`` records); checks
                            everything and changes nothing
    wrap(site, config)      the TaskWrapper to put at a site that has none yet
    carried(model, config)  which of the model's own weights the task trains, each task its own
                            copy (slot names: layer norms, head, biases, ...)

Everything else (freezing, activating, disabling, deleting, files, counting, mixed batches)
is the core's, the same for every method. A method with no sites (BitFit, the freezing
baselines) is slots only.

Each method registers itself with ``register`` in its folder's ``method.py``; ``method_for``
finds it from a config (``get_peft_model`` dispatches on the config's type) and
``method_named`` from the tag a file carries.
"""
from __future__ import annotations

from ..nn.module import Module
from .state import Site, standard_slots
from .wrapper import TaskWrapper

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
