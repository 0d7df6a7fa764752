"""Layers and models built from autograd ops: from Linear up to BERT."""
from . import init
from .layers import GELU, Dropout, Embedding, LayerNorm, Linear, ModuleDict, ModuleList, Sequential
from .module import Module, Parameter

__all__ = ["GELU", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleDict", "ModuleList",
           "Parameter", "Sequential", "init"]
