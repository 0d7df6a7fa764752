"""(IA)^3 (Liu et al., 2022): learned vectors rescaling keys, values and the feed-forward activation."""
from .config import IA3Config
from .layer import IA3Scale, IA3Wrapper
from .method import IA3, ia3_parameter_count

__all__ = ["IA3Config", "IA3Scale", "IA3Wrapper", "IA3", "ia3_parameter_count"]
