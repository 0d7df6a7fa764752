"""Mixed-task batches: one base, several tasks, each row of one batch computed with its own task."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.peft import (AdapterConfig, BitFitConfig, LoraConfig, PromptTuningConfig, active_adapter,
                           get_peft_model, merge_adapter, mixed_batch, set_adapter)

CONFIGS = {"lora": LoraConfig(r=4, alpha=8, target_modules=("query", "value", "intermediate")),
           "houlsby": AdapterConfig(bottleneck=4), "parallel": AdapterConfig(bottleneck=4, placement="parallel"),
           "bitfit": BitFitConfig()}


def three_tasks(kit, config):
    """A classifier with tasks a, b (trained on opposite labels) and c (only layer 1, or untrained)."""
    model = get_peft_model(kit.classifier(seed=0), config, name="a")
    kit.train_steps(model, 5)
    get_peft_model(model, config, name="b")
    kit.train_steps(model, 5, flip=True, seed=1)
    get_peft_model(model, config, name="c")
    kit.train_steps(model, 2, seed=2)
    return model


@pytest.mark.parametrize("method", sorted(CONFIGS))
def test_every_row_equals_its_task_run_alone(kit, method):
    model = three_tasks(kit, CONFIGS[method])
    ids, _ = kit.heldout(n=12)
    tasks = ["a", "b", None, "c", "b", "a", "a", None, "c", "b", "b", "a"]
    alone = {}
    for task in ("a", "b", "c", None):
        set_adapter(model, task)
        alone[task] = kit.logits(model, ids)
    set_adapter(model, "b")
    with mixed_batch(model, tasks):
        mixed = kit.logits(model, ids)
    expected = np.stack([alone[task][row] for row, task in enumerate(tasks)])
    assert np.abs(mixed - expected).max() <= 1e-6 * max(1.0, np.abs(expected).max())
    assert not np.allclose(alone["a"], alone["b"])  # the tasks do differ, so the routing is seen
    assert active_adapter(model) == "b" and np.array_equal(kit.logits(model, ids), alone["b"])


def test_gradients_reach_each_rows_own_task(kit):
    model = three_tasks(kit, CONFIGS["lora"])
    ids, labels = kit.heldout(n=4)
    model.zero_grad()
    with mixed_batch(model, ["a", "a", "b", "b"]):
        model.train()
        model(ids, labels=labels)["loss"].backward()
    a = model.bert.layers[0].attention.query.lora["a"].B
    c = model.bert.layers[0].attention.query.lora["c"].B
    assert a.grad is not None and np.abs(a.grad).max() > 0 and c.grad is None


def test_bad_mixed_batches_are_clear_errors(kit):
    model = three_tasks(kit, CONFIGS["lora"])
    merge_adapter(model)
    with pytest.raises(ValueError, match=r"unknown tasks \['z'\]"):
        with mixed_batch(model, ["a", "z"]):
            pass
    prompt = get_peft_model(kit.classifier(), PromptTuningConfig(num_virtual_tokens=2), name="p")
    with pytest.raises(ValueError, match="'prompt' tasks cannot share a batch"):
        with mixed_batch(prompt, ["p"]):
            pass
    assert mp.peft.peft_state(model).merged == "c"  # a refused batch changes nothing
