"""minipeft.bench.step_memory: bytes of weights, gradients, optimizer state and kept activations.

Hand-checkable cases first (a single Linear layer), then the claim lessons rely on: freezing the
base and training adapters keeps fewer activations, fewer gradients and far less optimizer state.
"""
import numpy as np

import minipeft as mp
from minipeft.bench.step_memory import activation_bytes, step_memory
from minipeft.nn import BertConfig, BertForSequenceClassification
from minipeft.nn.layers import Linear
from minipeft.optim import Adam
from minipeft.peft import AdapterConfig, add_adapter


def test_one_linear_layer_by_hand():
    mp.manual_seed(0)
    layer = Linear(8, 4)
    x = mp.tensor(np.ones((5, 8), dtype=np.float32))
    optimizer = Adam(layer.parameters(), lr=1e-3)

    def loss_fn(model, batch):
        return (model(batch["x"]) ** 2).sum()

    usage = step_memory(layer, loss_fn, {"x": x}, optimizer)
    weights = (8 * 4 + 4) * 4
    assert usage["parameters"] == weights
    assert usage["gradients"] == weights            # every weight trains: one gradient each
    assert usage["optimizer_state"] == 2 * weights  # Adam: m and v
    assert usage["activations"] >= 5 * 8 * 4       # the input x is kept for dW = x^T g
    assert usage["total"] == sum(usage[k] for k in ("parameters", "gradients", "optimizer_state", "activations"))


def test_a_frozen_weight_keeps_no_input():
    mp.manual_seed(0)
    layer = Linear(8, 4)
    layer.freeze()
    x = mp.tensor(np.ones((5, 8), dtype=np.float32), requires_grad=True)
    loss = (layer(x) ** 2).sum()
    # nothing of x is needed: dx = g W^T needs only W, which is a weight (excluded)
    kept = activation_bytes(loss, exclude=[p.data for p in layer.parameters()])
    assert kept < 5 * 8 * 4


def test_adapters_cost_less_memory_than_full_fine_tuning():
    config = BertConfig.preset("tiny", vocab_size=50, hidden_size=32, num_layers=2, num_heads=2, ff_size=64,
                               max_position=16)
    rng = np.random.default_rng(0)
    batch = {"input_ids": rng.integers(5, 50, (8, 12)), "labels": rng.integers(0, 2, 8)}

    def loss_fn(model, b):
        return model(b["input_ids"], labels=b["labels"])["loss"]

    usage = {}
    for method in ("full", "adapter"):
        mp.manual_seed(0)
        model = BertForSequenceClassification(config, 2, pooling="mean")
        if method == "adapter":
            add_adapter(model, "task", AdapterConfig(bottleneck=4))
        optimizer = Adam(model.parameters(trainable_only=True), lr=1e-3)
        usage[method] = step_memory(model, loss_fn, batch, optimizer)
        assert all(p.grad is None for p in model.parameters())  # gradients are dropped afterwards
    full, adapter = usage["full"], usage["adapter"]
    assert adapter["parameters"] > full["parameters"]           # the adapters are extra weights
    assert adapter["gradients"] < full["gradients"] / 5
    assert adapter["optimizer_state"] == 2 * adapter["gradients"]
    assert adapter["activations"] < full["activations"]
    assert adapter["total"] < full["total"]
