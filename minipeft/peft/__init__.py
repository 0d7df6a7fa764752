"""Parameter-efficient fine-tuning: freeze the pre-trained model, train small plug-ins.

Organised like Hugging Face peft: one shared core, and one folder per method.

The core (what every method shares):

    config.py    the common config fields (layers, train_layer_norms, train_head), JSON round trips
    state.py     the bookkeeping on a model: named tasks, slots (per-task layer norms, head, ...)
    wrapper.py   TaskWrapper: holds every task's module at one site and applies the active one
    method.py    PeftMethod: what a method tells the core; the table get_peft_model dispatches on
    model.py     get_peft_model, add_adapter, set_adapter, disable_adapter, delete_adapter, counting
    merge.py     merge_adapter, unmerge_adapter, merge_and_unload (methods whose change is linear)
    mixed.py     mixed_batch: one batch whose rows belong to different tasks
    save.py      save_adapter / load_adapter: kilobyte files naming their method, checked against the base

The methods (each folder: config.py, layer.py where it adds modules, method.py):

    adapter/     Houlsby adapters h + W_up f(W_down h + b_down) + b_up; Pfeiffer and parallel placements
    lora/        LoRA: W0 x + (alpha / r) B A x beside chosen Linears; mergeable (merge.py)
    bitfit/      BitFit: only the bias terms train
    ia3/         (IA)^3: learned vectors scaling keys, values and the feed-forward activation; mergeable
    prompt/      prompt tuning: P trainable vectors before the input (the embeddings' extra_positions hook)
    prefix/      prefix tuning: P trainable keys and values in each attention (its extra_keys_values hook)
    freeze/      the freezing baselines: layer norms only, head only, top k layers

    import minipeft as mp
    model = mp.nn.BertForSequenceClassification(config, num_labels=2, pooling="mean")
    mp.peft.get_peft_model(model, mp.peft.AdapterConfig(bottleneck=8), name="sentiment")
    mp.peft.print_trainable_parameters(model)
    ... train with model.parameters(trainable_only=True) ...
    mp.peft.save_adapter(model, "sentiment", "sentiment.npz")

``minipeft.nn`` has no adapter slots and never imports this package: methods enter the
model from outside, by wrapping its modules (and through two generic hooks in ``nn``).
"""
from .adapter import Adapter, AdapterConfig, AdapterWrapper, ParallelAdapterWrapper, adapter_parameter_count
from .bitfit import BitFitConfig, bitfit_parameter_count
from .ia3 import IA3Config, IA3Scale, IA3Wrapper, ia3_parameter_count
from .prefix import Prefix, PrefixTuningConfig, PrefixWrapper, fold_prefix, prefix_parameter_count
from .prompt import Prompt, PromptTuningConfig, PromptWrapper, prompt_parameter_count
from .freeze import HeadConfig, LayerNormConfig, TopLayersConfig
from .lora import LoraConfig, LoraLayer, LoraWrapper, lora_parameter_count
from .mixed import mixed_batch
from .merge import merge_adapter, merge_and_unload, unmerge_adapter
from .model import (active_adapter, adapter_config, add_adapter, delete_adapter, disable_adapter, get_peft_model,
                    list_adapters, parameter_summary, print_trainable_parameters, set_adapter, task_modules)
from .save import base_fingerprint, load_adapter, save_adapter
from .state import peft_state
from .accounting import adapter_budget, peft_budget, storage_for_tasks  # noqa: E402  (counting from shapes)

__all__ = ["BitFitConfig", "bitfit_parameter_count", "IA3Config", "IA3Scale", "IA3Wrapper", "ia3_parameter_count",
           "PrefixTuningConfig", "Prefix", "PrefixWrapper", "fold_prefix", "prefix_parameter_count",
           "PromptTuningConfig", "Prompt", "PromptWrapper", "prompt_parameter_count", "LoraConfig", "LoraLayer",
           "LoraWrapper", "lora_parameter_count", "merge_adapter", "unmerge_adapter", "merge_and_unload",
           "mixed_batch", "LayerNormConfig", "HeadConfig", "TopLayersConfig", "AdapterConfig", "Adapter",
           "AdapterWrapper", "ParallelAdapterWrapper", "get_peft_model", "add_adapter", "set_adapter",
           "disable_adapter", "delete_adapter", "active_adapter", "list_adapters", "adapter_config",
           "task_modules", "peft_state", "adapter_parameter_count", "parameter_summary",
           "print_trainable_parameters", "save_adapter", "load_adapter", "base_fingerprint", "adapter_budget",
           "peft_budget", "storage_for_tasks"]
