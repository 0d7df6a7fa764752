"""Counting what an adapter trains and stores, from the shapes alone (no arrays are made).

    from minipeft.nn.bert import BertConfig
    large = BertConfig.preset("large")
    adapter_budget(large, AdapterConfig(bottleneck=64, train_layer_norms="layers"), num_labels=2)
    # {'adapters': 6343680, 'layer_norms': 98304, 'head': 2050, 'trainable': 6444034,
    #  'base': 335141888, 'trainable_fraction_of_base': 0.01922...}
    storage_for_tasks(9, base=335_141_888, per_task=6_444_034, full_per_task=335_143_938)
    # {'full': 3016295442, 'adapters': 393138194, 'full_multiple': 9.0, 'adapters_multiple': 1.173...}

``adapter_budget`` is exactly what ``add_adapter`` makes trainable on a BERT sequence
classifier (``BertForSequenceClassification``) built from that config: the adapter
modules (``adapter_parameter_count``), the adapter's own copies of the layer norms
(``train_layer_norms``: True = every LayerNorm, the embeddings' one included; "layers" =
the two inside each Transformer layer), and its own copy of the task head
(``train_head``: a Linear d -> num_labels). The pooler is part of the base: it stays frozen.
So BERT-Large can be counted without allocating its 1.34 GB of float32 weights.
"""
from __future__ import annotations

import numbers

from ..nn.bert import BertConfig, count_parameters
from .adapter import AdapterConfig
from .adapter import adapter_parameter_count


def _positive_int(value, label: str, caller: str, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{caller}: {label} must be an integer >= {low}, got {value!r}")
    return int(value)


def adapter_budget(config: BertConfig, adapter: AdapterConfig, num_labels: int | None = None) -> dict:
    """What adapter ``adapter`` trains on a BERT of ``config``, counted from the shapes.

    Returns a dict of parameter counts: ``adapters`` (the adapter modules: layers x 2 x
    (2md + d + m)), ``layer_norms`` (the adapter's own LayerNorm gammas and betas),
    ``head`` (its own classification head, d x num_labels + num_labels; 0 when
    ``num_labels`` is None or ``train_head`` is False), ``trainable`` (their sum), ``base``
    (``count_parameters(config)``: embeddings, layers, layer norms and pooler, without any
    task head) and ``trainable_fraction_of_base`` (trainable / base).
    """
    if not isinstance(config, BertConfig):
        raise TypeError(f"adapter_budget: config must be a BertConfig, got {type(config).__name__}")
    if not isinstance(adapter, AdapterConfig):
        raise TypeError(f"adapter_budget: adapter must be an AdapterConfig, got {type(adapter).__name__}")
    d = config.hidden_size
    adapter.check_fits(d)
    if adapter.layers is None:
        layers = config.num_layers
    else:
        missing = [i for i in adapter.layers if i >= config.num_layers]
        if missing:
            raise ValueError(f"adapter_budget: the adapter lists layers {missing}, but the model has only "
                             f"{config.num_layers} (indices 0..{config.num_layers - 1})")
        layers = len(adapter.layers)
    norms_per_model = {True: 1 + 2 * config.num_layers, "layers": 2 * config.num_layers, False: 0}
    layer_norms = norms_per_model[adapter.train_layer_norms] * 2 * d  # a gamma and a beta of size d each
    head = 0
    if num_labels is not None:
        num_labels = _positive_int(num_labels, "num_labels", "adapter_budget")
        head = d * num_labels + num_labels if adapter.train_head else 0
    modules = adapter_parameter_count(d, adapter.bottleneck, layers)
    base = count_parameters(config)
    trainable = modules + layer_norms + head
    return {"adapters": modules, "layer_norms": layer_norms, "head": head, "trainable": trainable,
            "base": base, "trainable_fraction_of_base": trainable / base}


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
