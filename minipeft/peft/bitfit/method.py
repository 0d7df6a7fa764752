"""BitFit (Ben Zaken et al., 2021): fine-tune only the bias terms; every weight matrix stays frozen.

Each Linear computes y = x W + b; BitFit trains b (and each LayerNorm's shift beta) and keeps
W (and gamma) frozen. Its task adds no module: every bias is a slot (``minipeft.peft.state``),
so each task holds its own copy and switching or disabling is exact.

Parameters, per encoder layer of width d and feed-forward size ff: the biases of query, key,
value and the attention output (4d), the two feed-forward Linears (ff + d) and the betas of
the two layer norms (2d): 7d + ff (``bitfit_parameter_count``; BERT-Large: 24 x (7 x 1024 +
4096) = 270,336, 0.08% of its 335M, the fraction Ben Zaken et al. quote).
"""
from __future__ import annotations

from ...nn.module import Module
from ..config import check_positive_int
from ..method import PeftMethod, register
from ..state import chosen_layers, join, standard_slots
from .config import BitFitConfig


class BitFitMethod(PeftMethod):
    tag = "bitfit"
    config_class = BitFitConfig

    def carried(self, model: Module, config: BitFitConfig) -> list[str]:
        """Every parameter called ``bias`` in the chosen Transformer layers, then the head."""
        names = []
        for layer_path, _, layer in chosen_layers(model, config.layers, "BitFitConfig"):
            names += [join(layer_path, name) for name, _ in layer.named_parameters() if name.endswith("bias")]
        return names + standard_slots(model, False, config.train_head)


def bitfit_parameter_count(d: int, ff: int, layers: int) -> int:
    """Bias parameters in ``layers`` encoder layers: layers x (7d + ff) (see the module docstring)."""
    for label, value in (("d", d), ("ff", ff), ("layers", layers)):
        check_positive_int("bitfit_parameter_count", label, value)
    return layers * (7 * d + ff)


BITFIT = register(BitFitMethod())
