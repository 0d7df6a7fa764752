"""Merging LoRA and (IA)^3 into the base weights: the same outputs, the base model's products, and
the methods that cannot merge refused."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import Linear
from minipeft.peft import (AdapterConfig, BitFitConfig, IA3Config, LoraConfig, active_adapter, disable_adapter,
                           get_peft_model, list_adapters, merge_adapter, merge_and_unload, peft_state, set_adapter,
                           unmerge_adapter)
from minipeft.peft.wrapper import TaskWrapper


def trained(kit, config, steps: int = 10):
    model = get_peft_model(kit.classifier(seed=0), config, name="task")
    kit.train_steps(model, steps)
    return model


def forward_products(model, ids):
    model.eval()
    with count_gemms() as count, mp.no_grad():
        out = model(ids)["logits"].data.copy()
    return out, count


def relative_error(a, b) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("config", [LoraConfig(r=4, alpha=8), LoraConfig(r=2, target_modules=("dense",)),
                                    IA3Config()], ids=["lora", "lora_dense", "ia3"])
def test_merged_and_unmerged_outputs_agree_and_unmerge_is_exact(kit, config):
    model = trained(kit, config)
    ids, _ = kit.heldout()
    unmerged, with_task = forward_products(model, ids)
    base_weights = [p for p in model.parameters() if not p.requires_grad]
    merge_adapter(model)
    merged, merged_count = forward_products(model, ids)
    assert relative_error(merged, unmerged) < 1e-5
    if isinstance(config, LoraConfig):
        assert merged_count.calls < with_task.calls  # the two small products of each LoRA are gone
    assert all(not isinstance(m, TaskWrapper) or m.active is None for m in model.modules())
    unmerge_adapter(model)
    assert np.array_equal(forward_products(model, ids)[0], unmerged)  # the base objects are back, no rounding
    assert [p for p in model.parameters() if not p.requires_grad] == base_weights


def test_merge_and_unload_leaves_the_base_models_products_and_modules(kit):
    base = kit.classifier(seed=0)
    ids, _ = kit.heldout()
    _, base_count = forward_products(base, ids)
    model = trained(kit, LoraConfig(r=4, alpha=8, target_modules=("query", "value", "intermediate")))
    expected, lora_count = forward_products(model, ids)
    assert lora_count.calls == base_count.calls + 2 * 3 * 2  # two small products per LoRA, 3 per layer
    plain = merge_and_unload(model)
    out, count = forward_products(plain, ids)
    assert (count.calls, count.flops) == (base_count.calls, base_count.flops)
    assert relative_error(out, expected) < 1e-5
    assert peft_state(plain) is None and not any(isinstance(m, TaskWrapper) for m in plain.modules())
    assert [n for n, _ in plain.named_parameters()] == [n for n, _ in base.named_parameters()]
    assert type(plain.bert.layers[0].attention.query) is Linear


def test_switching_or_disabling_unmerges(kit):
    model = trained(kit, LoraConfig(r=4))
    ids, _ = kit.heldout()
    tuned = forward_products(model, ids)[0]
    base = forward_products(kit.classifier(seed=0), ids)[0]
    merge_adapter(model)
    with disable_adapter(model):
        assert np.array_equal(forward_products(model, ids)[0], base)
    assert np.array_equal(forward_products(model, ids)[0], tuned)  # back, through the modules
    merge_adapter(model)
    set_adapter(model, "task")
    assert peft_state(model).merged is None and np.array_equal(forward_products(model, ids)[0], tuned)


@pytest.mark.parametrize("config, words", [(AdapterConfig(bottleneck=4), "'adapter' tasks cannot merge"),
                                           (BitFitConfig(), "'bitfit' tasks cannot merge")])
def test_methods_that_cannot_merge_are_refused_and_nothing_changes(kit, config, words):
    model = trained(kit, config, steps=2)
    before = kit.snapshot(model)
    for merge in (merge_adapter, merge_and_unload):
        with pytest.raises(ValueError, match=words):
            merge(model)
        kit.assert_same(before, kit.snapshot(model))


def test_merging_with_no_active_task_is_refused(kit):
    model = trained(kit, LoraConfig(r=2), steps=1)
    set_adapter(model, None)
    with pytest.raises(ValueError, match=r"no task is active; set_adapter\(model, name\) first"):
        merge_adapter(model)
    assert list_adapters(model) == ["task"] and active_adapter(model) is None
