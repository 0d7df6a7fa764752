"""The adapter method: where adapters go for each placement, and how many parameters they hold.

    houlsby   one Adapter after each sublayer output (2 per encoder layer, 3 per decoder layer)
    pfeiffer  one Adapter after the feed-forward output of each layer
    parallel  one Adapter beside each sublayer (the attention(s) and the feed-forward block)

Parameters: every adapter has W_down (d x m) + b_down (m) + W_up (m x d) + b_up (d) = 2md + d + m,
so an encoder of L layers holds L x 2 x (2md + d + m) (houlsby, parallel) or L x (2md + d + m)
(pfeiffer). ``adapter_parameter_count`` is the formula; the tests check it against the modules.
"""
from __future__ import annotations

from ...nn.module import Module
from ..config import check_positive_int
from ..method import PeftMethod, register
from ..state import Site, chosen_layers, join, peft_state, submodule
from .config import AdapterConfig
from .layer import Adapter, AdapterWrapper, ParallelAdapterWrapper


def adapter_parameter_count(d: int, m: int, layers: int, sublayers: int = 2) -> int:
    """Parameters in the adapter modules of ``layers`` Transformer layers: layers x sublayers x (2md + d + m).

    Each adapter has W_down (d x m) + b_down (m) + W_up (m x d) + b_up (d) = 2md + d + m.
    An encoder layer has 2 adapters (sublayers=2, the default and the paper's count); a
    decoder layer has 3 (self-attention, cross-attention, feed-forward); the Pfeiffer
    placement has 1. Layer norms and the head are not included. BERT-Large, m = 64:
    adapter_parameter_count(1024, 64, 24) = 6,343,680.
    """
    for label, value in (("d", d), ("m", m), ("layers", layers), ("sublayers", sublayers)):
        check_positive_int("adapter_parameter_count", label, value)
    return layers * sublayers * (2 * m * d + d + m)


def placement_paths(layer: Module, placement: str) -> list[str]:
    """The paths inside one Transformer layer where a placement's adapters go."""
    outputs = type(layer).SUBLAYER_OUTPUTS  # e.g. ("attention.output", "feed_forward.output")
    if placement == "houlsby":
        return list(outputs)
    if placement == "pfeiffer":
        return [outputs[-1]]
    return [path.rsplit(".", 1)[0] for path in outputs]  # parallel: the sublayers themselves


class AdapterMethod(PeftMethod):
    tag = "adapter"
    config_class = AdapterConfig

    def sites(self, model: Module, config: AdapterConfig) -> list[Site]:
        """One site per adapter (see the module docstring), each with its Adapter built.

        ``module`` is the SublayerOutput or sublayer there, or the wrapper already around it.
        Raises ValueError (changing nothing) if the model has no Transformer layers, a listed layer
        does not exist, or the bottleneck does not fit."""
        state = peft_state(model)
        placements = {record.config.placement for record in state.tasks.values()} if state is not None else set()
        if placements - {config.placement}:
            raise ValueError(f"add_adapter: the model's adapters use placement {sorted(placements)}; one model holds "
                             f"adapters of one placement, so placement={config.placement!r} needs a model of its own")
        sites = []
        for layer_path, index, layer in chosen_layers(model, config.layers, "add_adapter"):
            for sub in placement_paths(layer, config.placement):
                parent_path, attribute = sub.rsplit(".", 1) if "." in sub else ("", sub)
                parent = submodule(layer, parent_path)
                module = parent._modules[attribute]
                d = self._width(module, join(layer_path, sub), config.placement)
                config.check_fits(d)
                adapter = Adapter(d, config.bottleneck, config.nonlinearity, config.up_init, config.down_init,
                                  config.init_std)
                sites.append(Site(join(layer_path, sub), parent, attribute, module, index, adapter))
        return sites

    @staticmethod
    def _width(module: Module, path: str, placement: str) -> int:
        """d: the output width of a SublayerOutput, or the model width of a sublayer."""
        base = getattr(module, "base_layer", module)
        if placement == "parallel":
            return base.d_model if hasattr(base, "d_model") else base.output.dense.out_features
        dense = getattr(base, "dense", None)
        if dense is None or not hasattr(dense, "out_features"):
            raise TypeError(f"add_adapter: {path} is a {type(base).__name__}, not a SublayerOutput (a module with "
                            f"a Linear 'dense')")
        return dense.out_features

    def wrap(self, site: Site, config: AdapterConfig):
        return (ParallelAdapterWrapper if config.placement == "parallel" else AdapterWrapper)(site.module)


ADAPTER = register(AdapterMethod())
