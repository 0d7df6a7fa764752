"""The (IA)^3 method: a learned scaling vector on each chosen Linear of each Transformer layer.

Parameters: one vector per target, as long as the side it scales: for the keys and values
d each, for the feed-forward intermediate activation ff; an encoder of L layers holds
L x (2d + ff) (``ia3_parameter_count``; BERT-Large: 24 x (2 x 1024 + 4096) = 147,456).
"""
from __future__ import annotations

from ...nn.module import Module
from ..config import check_positive_int
from ..lora.method import linear_sites
from ..method import PeftMethod, register
from ..state import Site
from .config import IA3Config
from .layer import IA3Scale, IA3Wrapper


class IA3Method(PeftMethod):
    tag = "ia3"
    config_class = IA3Config
    mergeable = True

    def sites(self, model: Module, config: IA3Config) -> list[Site]:
        sites = []
        for site, d_in, d_out in linear_sites(model, config.target_modules, config.layers, "IA3Config"):
            inner = site.path.split(".")
            on_input = any(inner[-len(t.split(".")):] == t.split(".") for t in config.feedforward_modules)
            site.task_module = IA3Scale(d_in, "input") if on_input else IA3Scale(d_out, "output")
            sites.append(site)
        return sites

    def wrap(self, site: Site, config: IA3Config) -> IA3Wrapper:
        return IA3Wrapper(site.module)


def ia3_parameter_count(d: int, ff: int, layers: int) -> int:
    """Scaling entries for keys, values and the intermediate activation of ``layers`` layers: layers x (2d + ff)."""
    for label, value in (("d", d), ("ff", ff), ("layers", layers)):
        check_positive_int("ia3_parameter_count", label, value)
    return layers * (2 * d + ff)


IA3 = register(IA3Method())
