"""What every PEFT method promises, checked for each one on the same tiny classifier.

For each method (LoRA, (IA)^3, BitFit, prompt tuning, prefix tuning with and without its MLP,
adapters in all three placements, and the freezing baselines):

- at the start the model gives the base model's outputs exactly, except prompt and prefix
  tuning, whose new positions change every output from the first step (checked too);
- a float64 gradient check through the whole model, for every trainable weight;
- training leaves every frozen weight bit-identical, and backward computes no weight
  gradient for them: no matrix product has a frozen weight's shape (the product counter);
- disabling gives the base model exactly, after training;
- a file round trip reproduces the outputs exactly, and another base is refused;
- two trained tasks on one base: switching between them reproduces each one's outputs and score.
"""
import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import BertConfig, BertForSequenceClassification
from minipeft.peft import (AdapterConfig, BitFitConfig, HeadConfig, IA3Config, LayerNormConfig, LoraConfig,
                           PrefixTuningConfig, PromptTuningConfig, TopLayersConfig, disable_adapter, get_peft_model,
                           load_adapter, save_adapter, set_adapter)
from minipeft.serialization import CheckpointError

CONFIGS = {
    "lora": LoraConfig(r=4, alpha=8),
    "lora_all_linears": LoraConfig(r=2, target_modules=("query", "key", "value", "dense", "intermediate")),
    "ia3": IA3Config(),
    "bitfit": BitFitConfig(),
    "prompt": PromptTuningConfig(num_virtual_tokens=4),
    "prompt_keep": PromptTuningConfig(num_virtual_tokens=4, positions="keep"),
    "prefix": PrefixTuningConfig(num_virtual_tokens=3),
    "prefix_mlp": PrefixTuningConfig(num_virtual_tokens=3, reparameterize=True, hidden=8),
    "houlsby": AdapterConfig(bottleneck=4),
    "pfeiffer": AdapterConfig(bottleneck=4, placement="pfeiffer"),
    "parallel": AdapterConfig(bottleneck=4, placement="parallel"),
    "layer_norm": LayerNormConfig(),
    "head": HeadConfig(),
    "top_layers": TopLayersConfig(k=1),
}
CHANGE_OUTPUTS_AT_START = {"prompt", "prompt_keep", "prefix", "prefix_mlp"}  # new positions to attend to
METHODS = sorted(CONFIGS)


def peft_classifier(kit, method: str, seed: int = 0, name: str = "task"):
    model = kit.classifier(seed=seed)
    return get_peft_model(model, CONFIGS[method], name=name)


def unordered(shape) -> tuple:
    return tuple(sorted(shape))


def matrix_shapes(model, trainable: bool) -> list:
    return [unordered(p.shape) for p in model.parameters() if p.requires_grad == trainable and p.ndim == 2]


def weight_gradient_excess(model, ids, labels, frozen: list, trainable: list) -> dict:
    """Shapes for which backward ran more matrix products than there are trainable matrices of that shape.

    A weight gradient dW = x^T dy has its weight's shape (in either orientation); every other
    product here has a row count (batch x length = 21) that no weight has. So for each shape of
    a frozen matrix, one product per *trainable* matrix of the same shape is allowed, no more:
    any extra one is a frozen weight's gradient. ``frozen`` and ``trainable``: the matrices' shapes
    (``matrix_shapes``) as the method left them."""
    loss = model(ids, labels=labels)["loss"]
    shapes = []
    with count_gemms() as count:
        count.add = lambda a, out, *timing: shapes.append(unordered(out.shape))  # record each product's shape
        loss.backward()
    return {s: shapes.count(s) - trainable.count(s) for s in set(frozen) if shapes.count(s) > trainable.count(s)}


@pytest.mark.parametrize("method", METHODS)
def test_the_start_is_the_base_model_where_the_method_allows(kit, method):
    ids, _ = kit.heldout()
    base = kit.logits(kit.classifier(seed=0), ids)
    tuned = kit.logits(peft_classifier(kit, method), ids)
    if method in CHANGE_OUTPUTS_AT_START:
        assert not np.allclose(tuned, base)
    else:
        assert np.array_equal(tuned, base)


@pytest.mark.parametrize("method", METHODS)
def test_gradcheck_through_the_model_for_every_trainable_weight(method):
    config = BertConfig.preset("tiny", hidden_size=8, num_layers=1, num_heads=2, ff_size=16, vocab_size=20,
                               max_position=12)
    mp.manual_seed(0)
    model = BertForSequenceClassification(config, num_labels=2, pooling="mean")
    small = {"lora": LoraConfig(r=2, alpha=4), "lora_all_linears": LoraConfig(r=1, target_modules=("dense",)),
             "prompt": PromptTuningConfig(num_virtual_tokens=2),
             "prompt_keep": PromptTuningConfig(num_virtual_tokens=2, positions="keep"), "prefix_mlp": PrefixTuningConfig(
                 num_virtual_tokens=2, reparameterize=True, hidden=3)}
    get_peft_model(model, small.get(method, CONFIGS[method]), name="task")
    for param in model.parameters():
        param.data = param.data.astype(np.float64)
    rng = np.random.default_rng(0)
    for param in model.parameters(trainable_only=True):  # move off the start (B = 0, scales = 1, ...)
        param.data = param.data + rng.normal(0, 0.1, param.shape)
    ids, labels = rng.integers(0, 20, (2, 5)), np.array([0, 1])
    trainable = model.parameters(trainable_only=True)
    assert mp.gradcheck(lambda *params: model(ids, labels=labels)["loss"], *trainable)


@pytest.mark.parametrize("method", METHODS)
def test_frozen_weights_get_no_gradient_product_and_stay_bit_identical(kit, method):
    model = peft_classifier(kit, method)
    ids, labels = kit.halves(np.random.default_rng(0), n=3, length=7)  # 21 rows: no frozen matrix is 21 wide
    frozen, trainable = matrix_shapes(model, False), matrix_shapes(model, True)
    assert weight_gradient_excess(model, ids, labels, frozen, trainable) == {}
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)
    assert all(p.grad is not None for p in model.parameters(trainable_only=True))
    before = kit.classifier(seed=0).state_dict()  # the base model's weights
    kit.train_steps(model, 3)
    with disable_adapter(model):
        after = model.state_dict()
    for name, array in before.items():
        assert np.array_equal(after[name], array), name


def test_the_product_check_sees_a_frozen_weight_that_gets_a_gradient(kit):
    """The check above can fail: if layer 0's key weight got a gradient although the method froze it
    (simulated by switching it on behind the check's back), its product shows up."""
    model = peft_classifier(kit, "top_layers")  # layer 1 trains, so layer 0's matrices have twins that train
    ids, labels = kit.halves(np.random.default_rng(0), n=3, length=7)
    frozen, trainable = matrix_shapes(model, False), matrix_shapes(model, True)
    assert weight_gradient_excess(model, ids, labels, frozen, trainable) == {}
    model.zero_grad()
    model.bert.layers[0].attention.key.weight.requires_grad = True
    assert weight_gradient_excess(model, ids, labels, frozen, trainable) == {(32, 32): 1}


@pytest.mark.parametrize("method", METHODS)
def test_disable_gives_the_base_exactly_after_training(kit, method):
    ids, _ = kit.heldout()
    base = kit.logits(kit.classifier(seed=0), ids)
    model = peft_classifier(kit, method)
    kit.train_steps(model, 5)
    tuned = kit.logits(model, ids)
    assert not np.array_equal(tuned, base)
    with disable_adapter(model):
        assert np.array_equal(kit.logits(model, ids), base)
    assert np.array_equal(kit.logits(model, ids), tuned)


@pytest.mark.parametrize("method", METHODS)
def test_a_file_round_trip_reproduces_the_outputs_and_another_base_is_refused(kit, method, tmp_path):
    model = peft_classifier(kit, method)
    kit.train_steps(model, 3)
    ids, _ = kit.heldout()
    path = tmp_path / f"{method}.npz"
    save_adapter(model, "task", path)
    fresh = kit.classifier(seed=0)
    assert load_adapter(fresh, path) == "task"
    assert np.array_equal(kit.logits(fresh, ids), kit.logits(model, ids))
    other = kit.classifier(seed=7)
    before = kit.snapshot(other)
    with pytest.raises(CheckpointError, match="different base model"):
        load_adapter(other, path)
    kit.assert_same(before, kit.snapshot(other))


@pytest.mark.parametrize("method", METHODS)
def test_switching_between_two_trained_tasks_reproduces_each(kit, method):
    model = peft_classifier(kit, method, name="plain")
    ids, labels = kit.heldout()
    kit.train_steps(model, 10)
    plain, plain_score = kit.logits(model, ids), kit.accuracy(model, ids, labels)
    get_peft_model(model, CONFIGS[method], name="flipped")
    kit.train_steps(model, 10, flip=True, seed=1)
    flipped, flipped_score = kit.logits(model, ids), kit.accuracy(model, ids, 1 - labels)
    assert not np.array_equal(plain, flipped)
    for _ in range(2):
        set_adapter(model, "plain")
        assert np.array_equal(kit.logits(model, ids), plain) and kit.accuracy(model, ids, labels) == plain_score
        set_adapter(model, "flipped")
        assert np.array_equal(kit.logits(model, ids), flipped)
        assert kit.accuracy(model, ids, 1 - labels) == flipped_score
