"""``AdapterConfig``: the settings of one named adapter (Houlsby et al., 2019).

    config = AdapterConfig(bottleneck=8)                 # m = 8, GELU, up-projection zero
    config = AdapterConfig(bottleneck=8, layers=[2, 3])  # adapters in layers 2 and 3 only

Fields
    bottleneck         m, the width of the adapter's narrow middle (1 <= m <= d, checked
                       against the model's hidden size d when the adapter is added)
    nonlinearity       f in h + W_up f(W_down h + b_down) + b_up: "gelu", "relu" or "tanh"
    up_init            "zero" (default): W_up starts at exactly 0, so the adapter starts as the
                       identity, bit for bit. "normal": a truncated normal of std ``init_std``
                       (near-identity, as in the paper).
    down_init          "xavier" (default): W_down at a normal scale (Xavier-uniform), so learning
                       starts at once. "normal": a truncated normal of std ``init_std``.
    init_std           the std of every projection whose init is "normal" (Houlsby: 1e-2 or less)
    layers             None: every Transformer layer; or a list of layer indices (0-based, counted
                       within each stack: an encoder-decoder's encoder and decoder both use them)
    train_layer_norms  give the adapter its own copy of LayerNorm gammas and betas, and train
                       them (the paper does; FINDINGS.md: without its own copy, "adapter off" is
                       not the base model). "layers" (default): those inside the Transformer
                       layers, 2 per encoder layer (BERT-Large's 98,304 = 24 x 2 x 2 x 1024, the
                       count the seed's table uses; backward then stops below the first
                       adapter); True: every LayerNorm, the embeddings' one too; False: none
    train_head         give the adapter its own copy of the task head, and train it

Why the defaults (FINDINGS.md, measured): with both projections near zero the gradient of
each is proportional to the other, a saddle: the loss sits at chance. Only the
up-projection needs to be near zero for the adapter to start near the identity; the
down-projection at a normal scale lets learning start on the first step. ``up_init="normal",
down_init="normal"`` is Houlsby's original scheme, kept for the init-scale sweep.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

NONLINEARITIES = ("gelu", "relu", "tanh")
UP_INITS = ("zero", "normal")
DOWN_INITS = ("xavier", "normal")
LAYER_NORM_CHOICES = (True, "layers", False)


@dataclass(frozen=True)
class AdapterConfig:
    """How to build one named adapter (see the module docstring for every field)."""

    bottleneck: int = 64
    nonlinearity: str = "gelu"
    up_init: str = "zero"
    down_init: str = "xavier"
    init_std: float = 1e-2
    layers: tuple | None = None
    train_layer_norms: bool | str = "layers"
    train_head: bool = True

    def __post_init__(self):
        m = self.bottleneck
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m <= 0:
            raise ValueError(f"AdapterConfig: bottleneck must be a positive integer (1 <= m <= d), got {m!r}")
        object.__setattr__(self, "bottleneck", int(m))
        for field, choices in (("nonlinearity", NONLINEARITIES), ("up_init", UP_INITS), ("down_init", DOWN_INITS)):
            value = getattr(self, field)
            if value not in choices:
                raise ValueError(f"AdapterConfig: {field} must be one of {choices}, got {value!r}")
        std = self.init_std
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not std >= 0 or std == float("inf"):
            raise ValueError(f"AdapterConfig: init_std must be a finite number >= 0, got {std!r}")
        object.__setattr__(self, "init_std", float(std))
        if self.layers is not None:
            layers = tuple(self.layers) if not isinstance(self.layers, numbers.Integral) else None
            if layers is None or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) and i >= 0
                                         for i in layers):
                raise ValueError(f"AdapterConfig: layers must be None (every layer) or a list of layer indices "
                                 f">= 0, got {self.layers!r}")
            if not layers:
                raise ValueError("AdapterConfig: layers is empty; use None for every layer")
            if len(set(layers)) != len(layers):
                raise ValueError(f"AdapterConfig: layers lists an index twice: {list(layers)}")
            object.__setattr__(self, "layers", tuple(int(i) for i in layers))
        if self.train_layer_norms not in LAYER_NORM_CHOICES or not isinstance(self.train_layer_norms, (bool, str)):
            raise ValueError(f"AdapterConfig: train_layer_norms must be True (every LayerNorm), \"layers\" (those "
                             f"in the Transformer layers) or False, got {self.train_layer_norms!r}")
        if not isinstance(self.train_head, bool):
            raise ValueError(f"AdapterConfig: train_head must be True or False, got {self.train_head!r}")

    def check_fits(self, d_model: int) -> None:
        """Raise ValueError unless the bottleneck fits a model of hidden size ``d_model``."""
        if self.bottleneck > d_model:
            raise ValueError(f"AdapterConfig: bottleneck m = {self.bottleneck} is larger than the model's hidden "
                             f"size d = {d_model}; an adapter narrows d to m, so choose 1 <= m <= {d_model}")

    def to_dict(self) -> dict:
        """The fields as plain JSON values (layers as a list)."""
        fields = dataclasses.asdict(self)
        fields["layers"] = None if self.layers is None else list(self.layers)
        return fields

    @classmethod
    def from_dict(cls, fields: dict) -> "AdapterConfig":
        """The inverse of ``to_dict``; unknown fields are an error, not silently dropped."""
        if not isinstance(fields, dict):
            raise ValueError(f"AdapterConfig.from_dict: expected a dict, got {type(fields).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"AdapterConfig.from_dict: unknown fields {unknown}; the fields are {sorted(known)}")
        return cls(**fields)
