"""The LoRA method: a LoraLayer beside each chosen Linear of each Transformer layer.

Parameters: a LoRA of rank r on a Linear d_in -> d_out holds A (d_in x r) and B (r x d_out):
r (d_in + d_out). On query and value of an encoder of L layers of width d: L x 2 x 2rd
(``lora_parameter_count``; BERT-Large, r = 8: 24 x 2 x 2 x 8 x 1024 = 786,432).
"""
from __future__ import annotations

from ..method import LinearMethod, register
from ..state import Site
from .config import LoraConfig
from .layer import LoraLayer, LoraWrapper


class LoraMethod(LinearMethod):
    tag = "lora"
    config_class = LoraConfig
    wrapper_class = LoraWrapper

    def task_module(self, site: Site, d_in: int, d_out: int, config: LoraConfig) -> LoraLayer:
        if config.r > min(d_in, d_out):
            raise ValueError(f"LoraConfig: r = {config.r} is larger than the smaller side of {site.path} "
                             f"({d_in} x {d_out}); B A has rank at most {min(d_in, d_out)}, so choose "
                             f"1 <= r <= {min(d_in, d_out)}")
        return LoraLayer(d_in, d_out, config.r, config.alpha, config.dropout)


def lora_parameter_count(d_in: int, d_out: int, r: int, linears: int = 1) -> int:
    """Parameters of ``linears`` LoRAs of rank r on Linears d_in -> d_out: linears x r (d_in + d_out)."""
    return linears * r * (d_in + d_out)


LORA = register(LoraMethod())
