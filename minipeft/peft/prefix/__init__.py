"""Prefix tuning (Li and Liang, 2021): P trainable keys and values in every attention."""
from .config import PrefixTuningConfig
from .layer import Prefix, PrefixWrapper
from .method import PREFIX, fold_prefix, prefix_parameter_count

__all__ = ["PrefixTuningConfig", "Prefix", "PrefixWrapper", "PREFIX", "fold_prefix", "prefix_parameter_count"]
