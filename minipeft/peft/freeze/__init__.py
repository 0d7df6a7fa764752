"""The freezing baselines (layer norms only, head only, top k layers) as PEFT methods."""
from .config import HeadConfig, LayerNormConfig, TopLayersConfig
from .method import HEAD, LAYER_NORM, TOP_LAYERS

__all__ = ["LayerNormConfig", "HeadConfig", "TopLayersConfig", "LAYER_NORM", "HEAD", "TOP_LAYERS"]
