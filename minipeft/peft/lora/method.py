"""The LoRA method: a LoraLayer beside each chosen Linear of each Transformer layer.

Parameters: a LoRA of rank r on a Linear d_in -> d_out holds A (d_in x r) and B (r x d_out):
r (d_in + d_out). On query and value of an encoder of L layers of width d: L x 2 x 2rd
(``lora_parameter_count``; BERT-Large, r = 8: 24 x 2 x 2 x 8 x 1024 = 786,432).
"""
from __future__ import annotations

from ...nn.module import Module
from ..method import PeftMethod, register
from ..state import Site, chosen_layers, join, submodule
from ..wrapper import LinearWrapper
from .config import LoraConfig
from .layer import LoraLayer, LoraWrapper


def linear_sites(model: Module, targets: tuple, layers, caller: str) -> list[tuple[Site, int, int]]:
    """(Site, d_in, d_out) of every Linear in the chosen Transformer layers whose path in its layer is a
    target or ends with "." + a target. ValueError naming the Linears that exist if a target matches none."""
    found, matched, names = [], set(), []
    for layer_path, index, layer in chosen_layers(model, layers, caller):
        for path, module in layer.named_modules():
            is_linear = isinstance(module, LinearWrapper) or (hasattr(module, "in_features") and
                                                             "weight" in module._parameters)
            if not path or not is_linear:
                continue
            names.append(path)
            hits = [t for t in targets if path == t or path.endswith("." + t)]
            if hits:
                matched.update(hits)
                base = getattr(module, "base_layer", module)
                parent_path, attribute = path.rsplit(".", 1) if "." in path else ("", path)
                parent = submodule(layer, parent_path)
                found.append((Site(join(layer_path, path), parent, attribute, module, index),
                              base.in_features, base.out_features))
    unknown = [t for t in targets if t not in matched]
    if unknown:
        raise ValueError(f"{caller}: target_modules {unknown} match no Linear in the Transformer layers; the "
                         f"Linears there are {sorted(set(names))}")
    return found


class LoraMethod(PeftMethod):
    tag = "lora"
    config_class = LoraConfig
    mergeable = True

    def sites(self, model: Module, config: LoraConfig) -> list[Site]:
        sites = []
        for site, d_in, d_out in linear_sites(model, config.target_modules, config.layers, "LoraConfig"):
            if config.r > min(d_in, d_out):
                raise ValueError(f"LoraConfig: r = {config.r} is larger than the smaller side of {site.path} "
                                 f"({d_in} x {d_out}); B A has rank at most {min(d_in, d_out)}, so choose "
                                 f"1 <= r <= {min(d_in, d_out)}")
            site.task_module = LoraLayer(d_in, d_out, config.r, config.alpha, config.dropout)
            sites.append(site)
        return sites

    def wrap(self, site: Site, config: LoraConfig) -> LoraWrapper:
        return LoraWrapper(site.module)


def lora_parameter_count(d_in: int, d_out: int, r: int, linears: int = 1) -> int:
    """Parameters of ``linears`` LoRAs of rank r on Linears d_in -> d_out: linears x r (d_in + d_out)."""
    return linears * r * (d_in + d_out)


LORA = register(LoraMethod())
