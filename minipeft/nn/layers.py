"""The basic layers: Linear, Embedding, LayerNorm, Dropout, GELU, and the containers
Sequential, ModuleList and ModuleDict. Each forward is one or two ops from
``minipeft.functional``; their backward comes with the op.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autograd import Tensor
from . import init
from .module import Module


class Linear(Module):
    """y = x @ W + b, with W of shape (in_features, out_features) and Xavier-uniform start."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = init.xavier_uniform(in_features, out_features)
        self.bias = init.zeros((out_features,)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input of shape "
                             f"(..., {self.in_features}), got {x.shape}")
        return F.linear(x, self.weight, self.bias)  # (..., out)

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of vectors, one per token id: y[b, t] = W[ids[b, t]]."""

    def __init__(self, num_embeddings: int, dim: int, std: float = 0.02):
        super().__init__()
        self.num_embeddings, self.dim = num_embeddings, dim
        self.weight = init.normal((num_embeddings, dim), std)

    def forward(self, ids) -> Tensor:
        ids = ids.data if isinstance(ids, Tensor) else ids
        if getattr(ids, "dtype", np.dtype(float)).kind not in "iu":
            raise TypeError(f"Embedding: ids must be integers, got {getattr(ids, 'dtype', type(ids).__name__)}")
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.num_embeddings):
            bad = int(ids.max()) if int(ids.max()) >= self.num_embeddings else int(ids.min())
            raise IndexError(f"Embedding: id {bad} is outside the table of {self.num_embeddings} rows "
                             f"(valid ids are 0..{self.num_embeddings - 1})")
        return self.weight[ids]  # (..., dim); backward adds into the rows that were looked up

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.dim}"


class LayerNorm(Module):
    """Normalise each vector to mean 0 and variance 1, then scale by gamma and shift by beta."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.dim, self.eps = dim, eps
        self.weight = init.ones((dim,))   # gamma
        self.bias = init.zeros((dim,))    # beta

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.dim}, eps={self.eps:g}"


class Dropout(Module):
    """Zero a fraction p of the entries while training (and scale the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class GELU(Module):
    """The smooth ReLU of BERT's feed-forward layers (see kernels/gelu.py)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x)


class Sequential(Module):
    """Modules applied one after another: Sequential(a, b)(x) = b(a(x))."""

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return list(self.children())[i]

    def __len__(self) -> int:
        return len(self._modules)


class ModuleList(Module):
    """A list of modules whose weights the parent can see (names 0, 1, 2, ...)."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> None:
        setattr(self, str(len(self._modules)), module)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __iter__(self):
        return iter(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)


class ModuleDict(Module):
    """A dictionary of modules whose weights the parent can see (names are the keys)."""

    def __init__(self, modules: dict | None = None):
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    def __getitem__(self, name: str) -> Module:
        if name not in self._modules:
            raise KeyError(f"ModuleDict has no {name!r}; it has {list(self._modules)}")
        return self._modules[name]

    def __contains__(self, name: str) -> bool:
        return name in self._modules

    def __delitem__(self, name: str) -> None:
        delattr(self, name)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def __len__(self) -> int:
        return len(self._modules)
