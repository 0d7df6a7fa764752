"""Parameter-efficient fine-tuning: freeze the pre-trained model, train small plug-ins.

Organised like Hugging Face peft, one file per piece of a method:

    config.py   AdapterConfig: bottleneck m, nonlinearity, initialisation, which layers
    layer.py    Adapter (h + W_up f(W_down h + b_down) + b_up) and AdapterWrapper (where it plugs in)
    fused.py    the adapter as one op, its backward derived by hand
    model.py    add_adapter, set_adapter, disable_adapter, delete_adapter, counting
    save.py     save_adapter / load_adapter: kilobyte files checked against their base model

    import minipeft as mp
    model = mp.nn.BertForSequenceClassification(config, num_labels=2, pooling="mean")
    mp.peft.add_adapter(model, "sentiment", mp.peft.AdapterConfig(bottleneck=8))
    mp.peft.print_trainable_parameters(model)
    ... train with model.parameters(trainable_only=True) ...
    mp.peft.save_adapter(model, "sentiment", "sentiment.npz")

``minipeft.nn`` has no adapter slots and never imports this package: adapters enter the
model from outside, by wrapping each Transformer layer's sublayer output projections.
"""
from .config import AdapterConfig
from .layer import Adapter, AdapterWrapper
from .model import (active_adapter, adapter_config, adapter_parameter_count, add_adapter, delete_adapter,
                    disable_adapter, list_adapters, parameter_summary, print_trainable_parameters, set_adapter)
from .save import base_fingerprint, load_adapter, save_adapter

__all__ = ["AdapterConfig", "Adapter", "AdapterWrapper", "add_adapter", "set_adapter", "disable_adapter",
           "delete_adapter", "active_adapter", "list_adapters", "adapter_config", "adapter_parameter_count",
           "parameter_summary", "print_trainable_parameters", "save_adapter", "load_adapter", "base_fingerprint"]
from .accounting import adapter_budget, storage_for_tasks  # noqa: E402  (counting from shapes)
__all__ += ["adapter_budget", "storage_for_tasks"]
