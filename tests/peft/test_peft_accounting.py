"""Counting from shapes (``adapter_budget``, ``storage_for_tasks``) against real models."""
import pytest

import minipeft as mp
from minipeft.nn import BertConfig, BertForSequenceClassification
from minipeft.peft import AdapterConfig, adapter_budget, add_adapter, parameter_summary, storage_for_tasks

from .conftest import CONFIG


@pytest.mark.parametrize("train_layer_norms", [True, "layers", False])
@pytest.mark.parametrize("train_head", [True, False])
@pytest.mark.parametrize("layers", [None, (1,)])
def test_budget_equals_what_add_adapter_makes_trainable(train_layer_norms, train_head, layers):
    model = BertForSequenceClassification(CONFIG, num_labels=3, pooling="mean")
    base = model.bert.num_parameters()
    adapter = AdapterConfig(bottleneck=4, train_layer_norms=train_layer_norms, train_head=train_head, layers=layers)
    add_adapter(model, "task", adapter)
    summary = parameter_summary(model)
    budget = adapter_budget(CONFIG, adapter, num_labels=3)
    assert budget["adapters"] == summary["adapters"]
    assert budget["trainable"] == summary["trainable"]
    assert budget["base"] == base
    assert budget["trainable"] == budget["adapters"] + budget["layer_norms"] + budget["head"]


def test_budget_on_the_small_preset_matches_the_modules():
    config = BertConfig.preset("small")
    model = BertForSequenceClassification(config, num_labels=2)
    adapter = AdapterConfig(bottleneck=16, train_layer_norms=True)
    add_adapter(model, "task", adapter)
    budget = adapter_budget(config, adapter, num_labels=2)
    adapter_params = sum(p.size for name, p in model.named_parameters() if ".adapters.task." in name)
    assert budget["adapters"] == adapter_params == 4 * 2 * (2 * 16 * 128 + 128 + 16)
    assert budget["trainable"] == parameter_summary(model)["trainable"]


def test_bert_large_numbers_of_the_design():
    large = BertConfig.preset("large")
    budget = adapter_budget(large, AdapterConfig(bottleneck=64, train_layer_norms="layers"), num_labels=2)
    assert budget["adapters"] == 6_343_680
    assert budget["layer_norms"] == 98_304 == 24 * 2 * 2 * 1024
    assert budget["head"] == 2 * 1024 + 2
    assert budget["base"] == 335_141_888
    assert round(100 * budget["adapters"] / budget["base"], 2) == 1.89
    everything = adapter_budget(large, AdapterConfig(bottleneck=64, train_layer_norms=True), num_labels=None)
    assert everything["layer_norms"] == 98_304 + 2 * 1024  # True: the embeddings' LayerNorm too
    assert everything["head"] == 0


def test_storage_for_tasks():
    s = storage_for_tasks(9, base=1000, per_task=20)
    assert s["full"] == 9000 and s["adapters"] == 1180
    assert s["full_multiple"] == 9.0 and s["adapters_multiple"] == pytest.approx(1.18)
    with_heads = storage_for_tasks(2, base=1000, per_task=20, full_per_task=1001)
    assert with_heads["full"] == 2002 and with_heads["full_multiple"] == 2.0
    assert with_heads["adapters_multiple"] == pytest.approx(1040 / 1001)
    assert storage_for_tasks(0, base=1000, per_task=20)["adapters_multiple"] == 1.0


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="larger than the model's hidden size"):
        adapter_budget(CONFIG, AdapterConfig(bottleneck=CONFIG.hidden_size + 1))
    with pytest.raises(ValueError, match="only 2"):
        adapter_budget(CONFIG, AdapterConfig(bottleneck=4, layers=[5]))
    with pytest.raises(ValueError, match="num_labels"):
        adapter_budget(CONFIG, AdapterConfig(bottleneck=4), num_labels=0)
    with pytest.raises(TypeError, match="BertConfig"):
        adapter_budget({"hidden_size": 64}, AdapterConfig())
    with pytest.raises(ValueError, match="n_tasks"):
        storage_for_tasks(-1, base=10, per_task=1)
    with pytest.raises(ValueError, match="base"):
        storage_for_tasks(1, base=0, per_task=1)
    assert mp.peft.adapter_budget is adapter_budget


@pytest.mark.parametrize("method", [
    mp.peft.LoraConfig(r=4, target_modules=("query", "value", "intermediate")),
    mp.peft.IA3Config(),
    mp.peft.BitFitConfig(layers=[1]),
    mp.peft.PromptTuningConfig(num_virtual_tokens=5),
    mp.peft.PrefixTuningConfig(num_virtual_tokens=3),
    mp.peft.PrefixTuningConfig(num_virtual_tokens=3, reparameterize=True, hidden=7),
    AdapterConfig(bottleneck=4, placement="pfeiffer"),
    AdapterConfig(bottleneck=4, placement="parallel", train_layer_norms=True),
    mp.peft.LayerNormConfig(),
    mp.peft.HeadConfig(),
    mp.peft.TopLayersConfig(k=1),
], ids=lambda m: type(m).__name__)
def test_every_methods_budget_equals_what_get_peft_model_makes_trainable(method):
    model = BertForSequenceClassification(CONFIG, num_labels=3, pooling="mean")
    mp.peft.get_peft_model(model, method, name="task")
    summary = parameter_summary(model)
    budget = mp.peft.peft_budget(CONFIG, method, num_labels=3)
    assert budget["adapters"] == summary["adapters"]
    assert budget["trainable"] == summary["trainable"]
    assert budget["trainable"] == budget["adapters"] + budget["slots"] + budget["layer_norms"] + budget["head"]
