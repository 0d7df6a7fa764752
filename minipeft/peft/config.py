"""What every method's config shares: the checks of the common fields, and JSON round trips.

Common fields (each method's config has those that make sense for it):

    layers             None: every Transformer layer; or a list of layer indices (0-based,
                       counted within each stack: an encoder-decoder's encoder and decoder
                       both use them)
    train_layer_norms  the task gets its own copy of LayerNorm gammas and betas, and trains
                       them: "layers" (those inside the Transformer layers), True (every
                       LayerNorm, the embeddings' one too) or False (none)
    train_head         the task gets its own copy of the task head, and trains it
"""
from __future__ import annotations

import dataclasses
import numbers

LAYER_NORM_CHOICES = (True, "layers", False)


def check_positive_int(owner: str, field: str, value, hint: str = "") -> int:
    """``value`` as an int >= 1, or ValueError naming the config, the field and what came."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {field} must be a positive integer{hint}, got {value!r}")
    return int(value)


def check_choice(owner: str, field: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{owner}: {field} must be one of {choices}, got {value!r}")


def check_layers(owner: str, layers):
    """None, or the layer indices as a tuple of distinct ints >= 0."""
    if layers is None:
        return None
    found = tuple(layers) if not isinstance(layers, (numbers.Integral, str)) else None
    if found is None or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= 0
                                for i in found):
        raise ValueError(f"{owner}: layers must be None (every layer) or a list of layer indices >= 0, "
                         f"got {layers!r}")
    if not found:
        raise ValueError(f"{owner}: layers is empty; use None for every layer")
    if len(set(found)) != len(found):
        raise ValueError(f"{owner}: layers lists an index twice: {list(found)}")
    return tuple(int(i) for i in found)


def check_slot_fields(owner: str, train_layer_norms, train_head) -> None:
    if train_layer_norms not in LAYER_NORM_CHOICES or not isinstance(train_layer_norms, (bool, str)):
        raise ValueError(f"{owner}: train_layer_norms must be True (every LayerNorm), \"layers\" (those in the "
                         f"Transformer layers) or False, got {train_layer_norms!r}")
    if not isinstance(train_head, bool):
        raise ValueError(f"{owner}: train_head must be True or False, got {train_head!r}")


def set_field(config, field: str, value) -> None:
    """Replace a field of a frozen dataclass while checking it (in __post_init__)."""
    object.__setattr__(config, field, value)


class JsonConfig:
    """to_dict / from_dict for a frozen dataclass config whose fields are JSON values (tuples as lists)."""

    def to_dict(self) -> dict:
        """The fields as plain JSON values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, fields: dict):
        """The inverse of ``to_dict``; unknown fields are an error, not silently dropped."""
        if not isinstance(fields, dict):
            raise ValueError(f"{cls.__name__}.from_dict: expected a dict, got {type(fields).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"{cls.__name__}.from_dict: unknown fields {unknown}; the fields are {sorted(known)}")
        return cls(**fields)
