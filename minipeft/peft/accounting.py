"""Counting what a task trains and stores, from the shapes alone (no arrays are made).

    from minipeft.nn.bert import BertConfig
    large = BertConfig.preset("large")
    peft_budget(large, LoraConfig(r=8), num_labels=2)
    # {'adapters': 786432, 'slots': 0, 'layer_norms': 0, 'head': 2050, 'trainable': 788482,
    #  'base': 335141888, 'trainable_fraction_of_base': 0.00235...}
    storage_for_tasks(9, base=335_141_888, per_task=6_444_034, full_per_task=335_143_938)
    # {'full': 3016295442, 'adapters': 393138194, 'full_multiple': 9.0, 'adapters_multiple': 1.173...}

``peft_budget`` is exactly what ``get_peft_model`` makes trainable on a BERT sequence
classifier (``BertForSequenceClassification``) built from that config, for every method:
the task's new modules (``adapters``: the method's formula, e.g. ``adapter_parameter_count``),
the model's own weights it trains besides layer norms and head (``slots``: BitFit's biases,
the top layers), its own copies of the layer norms (``train_layer_norms``: True = every
LayerNorm, the embeddings' one included; "layers" = the two inside each Transformer layer),
and its own copy of the task head (``train_head``: a Linear d -> num_labels). The pooler is
part of the base: it stays frozen. So BERT-Large can be counted without allocating its
1.34 GB of float32 weights. ``adapter_budget`` is the same for adapters (the older name).
"""
from __future__ import annotations

import numbers

from ..nn.bert import BertConfig, count_parameters, parameter_breakdown
from .adapter import AdapterConfig, adapter_parameter_count
from .bitfit import BitFitConfig, bitfit_parameter_count
from .freeze import HeadConfig, LayerNormConfig, TopLayersConfig
from .ia3 import IA3Config
from .lora import LoraConfig
from .prefix import PrefixTuningConfig, prefix_parameter_count
from .prompt import PromptTuningConfig, prompt_parameter_count


def _positive_int(value, label: str, caller: str, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{caller}: {label} must be an integer >= {low}, got {value!r}")
    return int(value)


def linear_shapes(config: BertConfig) -> dict:
    """(d_in, d_out) of every Linear in one encoder layer, by its path in the layer."""
    d, ff = config.hidden_size, config.ff_size
    return {"attention.query": (d, d), "attention.key": (d, d), "attention.value": (d, d),
            "attention.output.dense": (d, d), "feed_forward.intermediate": (d, ff),
            "feed_forward.output.dense": (ff, d)}


def _targets(config: BertConfig, targets: tuple, caller: str) -> dict:
    """The Linears of one layer that ``targets`` match (as ``linear_sites`` matches them)."""
    shapes = linear_shapes(config)
    found = {path: shape for path, shape in shapes.items()
             if any(path == t or path.endswith("." + t) for t in targets)}
    unknown = [t for t in targets if not any(path == t or path.endswith("." + t) for path in shapes)]
    if unknown:
        raise ValueError(f"{caller}: target_modules {unknown} match no Linear of an encoder layer; the Linears "
                         f"there are {sorted(shapes)}")
    return found


def _chosen_layers(config: BertConfig, layers, caller: str) -> int:
    if layers is None:
        return config.num_layers
    missing = [i for i in layers if i >= config.num_layers]
    if missing:
        raise ValueError(f"{caller}: the config lists layers {missing}, but the model has only "
                         f"{config.num_layers} (indices 0..{config.num_layers - 1})")
    return len(layers)


def _per_layer_counts(config: BertConfig, method) -> tuple[int, int]:
    """(new module parameters, other trained weights of the model) in one encoder layer."""
    d, ff = config.hidden_size, config.ff_size
    if isinstance(method, AdapterConfig):
        method.check_fits(d)
        return adapter_parameter_count(d, method.bottleneck, 1, 1 if method.placement == "pfeiffer" else 2), 0
    if isinstance(method, LoraConfig):
        found = _targets(config, method.target_modules, "peft_budget")
        return sum(method.r * (d_in + d_out) for d_in, d_out in found.values()), 0
    if isinstance(method, IA3Config):
        found = _targets(config, method.target_modules, "peft_budget")
        on_input = _targets(config, method.feedforward_modules, "peft_budget") if method.feedforward_modules else {}
        return sum(shape[0] if path in on_input else shape[1] for path, shape in found.items()), 0
    if isinstance(method, PrefixTuningConfig):
        if method.reparameterize:
            h = method.hidden or d
            return method.num_virtual_tokens * d + (d * h + h) + (h * 2 * d + 2 * d), 0
        return prefix_parameter_count(d, method.num_virtual_tokens, 1), 0
    if isinstance(method, BitFitConfig):
        return 0, bitfit_parameter_count(d, ff, 1)
    if isinstance(method, TopLayersConfig):
        parts = parameter_breakdown(config)  # attention and feed-forward of all layers, + 2 layer norms each
        return 0, (parts["attention"] + parts["feed_forward"]) // config.num_layers + 2 * 2 * d
    return 0, 0  # prompt (counted once, below), layer norms only, head only


def peft_budget(config: BertConfig, method, num_labels: int | None = None) -> dict:
    """What a task of ``method`` (any method's config) trains on a BERT classifier of ``config``,
    counted from the shapes (see the module docstring).

    Returns parameter counts: ``adapters`` (the task's new modules), ``slots`` (the model's own
    weights it trains besides layer norms and head: BitFit's biases, the top layers),
    ``layer_norms``, ``head`` (d x num_labels + num_labels; 0 when ``num_labels`` is None or the
    head does not train), ``trainable`` (their sum), ``base`` (``count_parameters(config)``:
    embeddings, layers, layer norms and pooler, without any task head) and
    ``trainable_fraction_of_base``.
    """
    if not isinstance(config, BertConfig):
        raise TypeError(f"peft_budget: config must be a BertConfig, got {type(config).__name__}")
    counted = (AdapterConfig, LoraConfig, IA3Config, PrefixTuningConfig, PromptTuningConfig, BitFitConfig,
               LayerNormConfig, HeadConfig, TopLayersConfig)
    if not isinstance(method, counted):
        raise TypeError(f"peft_budget: method must be one of {[c.__name__ for c in counted]}, "
                        f"got {type(method).__name__}")
    d = config.hidden_size
    layers = config.num_layers
    if isinstance(method, TopLayersConfig):
        if method.k > config.num_layers:
            raise ValueError(f"peft_budget: k = {method.k}, but the model has {config.num_layers} layers")
        layers = method.k
    elif hasattr(method, "layers"):
        layers = _chosen_layers(config, method.layers, "peft_budget")
    modules, slots = (layers * n for n in _per_layer_counts(config, method))
    if isinstance(method, PromptTuningConfig):
        modules = prompt_parameter_count(d, method.num_virtual_tokens)
    norms_per_model = {True: 1 + 2 * config.num_layers, "layers": 2 * config.num_layers, False: 0}
    layer_norms = norms_per_model[method.train_layer_norms] * 2 * d  # a gamma and a beta of size d each
    head = 0
    if num_labels is not None:
        num_labels = _positive_int(num_labels, "num_labels", "peft_budget")
        head = d * num_labels + num_labels if method.train_head else 0
    base = count_parameters(config)
    trainable = modules + slots + layer_norms + head
    return {"adapters": modules, "slots": slots, "layer_norms": layer_norms, "head": head, "trainable": trainable,
            "base": base, "trainable_fraction_of_base": trainable / base}


def adapter_budget(config: BertConfig, adapter: AdapterConfig, num_labels: int | None = None) -> dict:
    """``peft_budget`` for an adapter: ``adapters`` = layers x 2 x (2md + d + m) (houlsby placement)."""
    if not isinstance(adapter, AdapterConfig):
        raise TypeError(f"adapter_budget: adapter must be an AdapterConfig, got {type(adapter).__name__}")
    return peft_budget(config, adapter, num_labels)


def storage_for_tasks(n_tasks: int, base: int, per_task: int, full_per_task: int | None = None) -> dict:
    """Parameters stored to serve ``n_tasks`` tasks, full fine-tuning vs adapters.

    Full fine-tuning keeps one whole model per task: n x ``full_per_task`` (default ``base``;
    pass base + head to count the heads too). Adapters keep one shared ``base`` plus
    ``per_task`` parameters per task: base + n x per_task. The ``*_multiple`` entries divide
    by ``full_per_task`` (one fine-tuned model), so full fine-tuning costs exactly n and
    adapters about 1 + n x p with p = per_task / base (exactly, when full_per_task = base).
    """
    n_tasks = _positive_int(n_tasks, "n_tasks", "storage_for_tasks", allow_zero=True)
    base = _positive_int(base, "base", "storage_for_tasks")
    per_task = _positive_int(per_task, "per_task", "storage_for_tasks", allow_zero=True)
    full_per_task = base if full_per_task is None else _positive_int(full_per_task, "full_per_task",
                                                                     "storage_for_tasks")
    full = n_tasks * full_per_task
    adapters = base + n_tasks * per_task
    return {"full": full, "adapters": adapters, "full_multiple": full / full_per_task,
            "adapters_multiple": adapters / full_per_task}
