"""LoRA (Hu et al., 2021): a trainable low-rank change B A beside frozen Linears, mergeable into them."""
from .config import LoraConfig
from .layer import LoraLayer, LoraWrapper
from .method import LORA, lora_parameter_count

__all__ = ["LoraConfig", "LoraLayer", "LoraWrapper", "LORA", "lora_parameter_count"]
