"""The (IA)^3 method: a learned scaling vector on each chosen Linear of each Transformer layer.

Parameters: one vector per target, as long as the side it scales: for the keys and values
d each, for the feed-forward intermediate activation ff; an encoder of L layers holds
L x (2d + ff) (``ia3_parameter_count``; BERT-Large: 24 x (2 x 1024 + 4096) = 147,456).
"""
from __future__ import annotations

from ..config import check_positive_int
from ..method import LinearMethod, register
from ..state import Site
from .config import IA3Config
from .layer import IA3Scale, IA3Wrapper


class IA3Method(LinearMethod):
    tag = "ia3"
    config_class = IA3Config
    wrapper_class = IA3Wrapper

    def task_module(self, site: Site, d_in: int, d_out: int, config: IA3Config) -> IA3Scale:
        """A vector on the Linear's input if it is a feed-forward module, else on its output."""
        parts = site.path.split(".")
        on_input = any(parts[-len(t.split(".")):] == t.split(".") for t in config.feedforward_modules)
        return IA3Scale(d_in, "input") if on_input else IA3Scale(d_out, "output")


def ia3_parameter_count(d: int, ff: int, layers: int) -> int:
    """Scaling entries for keys, values and the intermediate activation of ``layers`` layers: layers x (2d + ff)."""
    for label, value in (("d", d), ("ff", ff), ("layers", layers)):
        check_positive_int("ia3_parameter_count", label, value)
    return layers * (2 * d + ff)


IA3 = register(IA3Method())
