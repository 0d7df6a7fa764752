"""Adapters (Houlsby et al., 2019): a small bottleneck after (or beside) each sublayer, the rest frozen."""
from .config import AdapterConfig
from .layer import Adapter, AdapterWrapper, ParallelAdapterWrapper
from .method import ADAPTER, adapter_parameter_count

__all__ = ["AdapterConfig", "Adapter", "AdapterWrapper", "ParallelAdapterWrapper", "ADAPTER", "adapter_parameter_count"]
