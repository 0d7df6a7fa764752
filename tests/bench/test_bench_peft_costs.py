"""minipeft.bench.peft_costs: what the PEFT methods cost once trained, measured on a tiny classifier.

Timings are only checked to exist and be positive (speed is measured by the benchmark and the
lessons, never asserted); what is checked exactly is what can be counted: products per forward,
bytes on disk, and the rows of a mixed batch.
"""
import numpy as np

import minipeft as mp
from minipeft.bench.peft_costs import inference_costs, mixed_batch_costs, task_file_bytes, training_costs
from minipeft.nn import BertConfig, BertForSequenceClassification
from minipeft.optim import Adam
from minipeft.peft import AdapterConfig, LoraConfig, PromptTuningConfig, get_peft_model, merge_and_unload

CONFIG = BertConfig.preset("tiny", hidden_size=16, num_layers=2, num_heads=2, ff_size=32, vocab_size=30,
                           max_position=16)


def classifier():
    mp.manual_seed(0)
    return BertForSequenceClassification(CONFIG, num_labels=2, pooling="mean")


def test_products_per_forward_tell_the_methods_apart():
    models = {"base": classifier(),
              "adapter": get_peft_model(classifier(), AdapterConfig(bottleneck=4), name="t"),
              "lora": get_peft_model(classifier(), LoraConfig(r=2), name="t"),
              "lora_merged": merge_and_unload(get_peft_model(classifier(), LoraConfig(r=2), name="t")),
              "prompt": get_peft_model(classifier(), PromptTuningConfig(num_virtual_tokens=3), name="t")}
    ids = {1: {"input_ids": np.ones((1, 6), dtype=np.int64)}, 4: {"input_ids": np.ones((4, 6), dtype=np.int64)}}
    costs = inference_costs(models, ids, repeats=2, warmup=1)
    for size in ids:
        base = costs["base"][size]
        assert base["relative"] == 1.0 and all(c[size]["ms"] > 0 for c in costs.values())
        assert costs["adapter"][size]["products"] == base["products"] + 2 * 2 * 2  # 2 per adapter, 2 per layer
        assert costs["lora"][size]["products"] == base["products"] + 2 * 2 * 2  # 2 per LoRA, query and value
        assert (costs["lora_merged"][size]["products"], costs["lora_merged"][size]["flops"]) == (
            base["products"], base["flops"])
        assert costs["prompt"][size]["products"] == base["products"] and \
            costs["prompt"][size]["flops"] > base["flops"]  # the same products over 3 more positions


def test_training_costs_and_file_bytes():
    models = {"adapter": get_peft_model(classifier(), AdapterConfig(bottleneck=4), name="t"),
              "lora": get_peft_model(classifier(), LoraConfig(r=2), name="t")}
    steps = {name: (m, Adam(m.parameters(trainable_only=True), lr=1e-3)) for name, m in models.items()}
    batch = {"input_ids": np.ones((3, 6), dtype=np.int64), "labels": np.array([0, 1, 0])}
    costs = training_costs(steps, lambda model, b: model(b["input_ids"], labels=b["labels"]), batch,
                           repeats=2, warmup=1)
    for name, model in models.items():
        trainable_bytes = 4 * model.num_parameters(trainable_only=True)
        assert costs[name]["step_ms"] > 0 and costs[name]["gradients"] == trainable_bytes
        assert costs[name]["optimizer_state"] == 2 * trainable_bytes
        assert task_file_bytes(model, "t") > trainable_bytes  # the arrays, plus names and a description


def test_a_mixed_batch_equals_each_task_alone():
    model = get_peft_model(classifier(), LoraConfig(r=2), name="a")
    get_peft_model(model, LoraConfig(r=2), name="b")
    for param in model.parameters():
        param.data = param.data + np.float32(0.05)  # every task (and the base) different from the others
    tasks = ["a", "b", None, "b", "a", "a"]
    batch = {"input_ids": np.random.default_rng(0).integers(0, 30, (6, 7)), "segment_ids": np.zeros((6, 7), int),
             "attention_mask": np.arange(7) < np.array([7, 5, 6, 7, 3, 7])[:, None]}  # padded rows too
    costs = mixed_batch_costs(model, tasks, batch, repeats=2, warmup=1)
    assert costs["tasks"] == 3 and costs["max_deviation"] <= 1e-6
    assert costs["mixed_ms"] > 0 and costs["switching_ms"] > 0
