"""Each method's parameter formula against the modules it builds, its own behaviour (prompt positions,
prefix folding, parallel adapters), and bad input: clear errors that leave the model as it was."""
import json

import numpy as np
import pytest

from minipeft.nn import EncoderLayer
from minipeft.peft import (AdapterConfig, BitFitConfig, IA3Config, LoraConfig, PrefixTuningConfig,
                           PromptTuningConfig, adapter_parameter_count, add_adapter, bitfit_parameter_count,
                           fold_prefix, get_peft_model, ia3_parameter_count, load_adapter, lora_parameter_count,
                           parameter_summary, prefix_parameter_count, prompt_parameter_count, save_adapter)
from minipeft.serialization import CheckpointError, load_arrays, save_arrays

D, FF, LAYERS = 32, 64, 2  # the kit's classifier


def module_count(model) -> int:
    return parameter_summary(model)["adapters"]


@pytest.mark.parametrize("config, formula", [
    (LoraConfig(r=4), lora_parameter_count(D, D, 4, linears=LAYERS * 2)),
    (LoraConfig(r=3, target_modules=("intermediate",)), lora_parameter_count(D, FF, 3, linears=LAYERS)),
    (IA3Config(), ia3_parameter_count(D, FF, LAYERS)),
    (PromptTuningConfig(num_virtual_tokens=5), prompt_parameter_count(D, 5)),
    (PrefixTuningConfig(num_virtual_tokens=3), prefix_parameter_count(D, 3, LAYERS)),
    (AdapterConfig(bottleneck=4, placement="pfeiffer"), adapter_parameter_count(D, 4, LAYERS, sublayers=1)),
    (AdapterConfig(bottleneck=4, placement="parallel"), adapter_parameter_count(D, 4, LAYERS)),
], ids=["lora", "lora_ff", "ia3", "prompt", "prefix", "pfeiffer", "parallel"])
def test_each_formula_equals_the_modules_real_count(kit, config, formula):
    assert module_count(get_peft_model(kit.classifier(), config, name="task")) == formula


def test_bitfit_trains_exactly_the_biases_and_the_head(kit):
    model = get_peft_model(kit.classifier(), BitFitConfig(), name="task")
    names = [n for n, _ in model.named_parameters(trainable_only=True)]
    assert all(n.endswith("bias") or n.startswith("head.") for n in names)
    head = D * 2 + 2
    assert model.num_parameters(trainable_only=True) == bitfit_parameter_count(D, FF, LAYERS) + head
    assert bitfit_parameter_count(1024, 4096, 24) == 270_336  # BERT-Large: 0.08% of 335M


def test_bert_large_counts_of_the_papers():
    assert lora_parameter_count(1024, 1024, 8, linears=24 * 2) == 786_432
    assert ia3_parameter_count(1024, 4096, 24) == 147_456
    assert prompt_parameter_count(1024, 20) == 20_480
    assert prefix_parameter_count(1024, 10, 24) == 491_520


def test_prompt_keeps_the_heads_positions_and_checks_the_position_table(kit):
    model = get_peft_model(kit.classifier(), PromptTuningConfig(num_virtual_tokens=6), name="task")
    ids = np.zeros((2, 10), dtype=np.int64)
    assert model.bert(ids).shape == (2, 10, D)  # the head reads the T token positions
    with pytest.raises(ValueError, match=r"length 11 with 6 extra positions .*max_position = 16"):
        model(np.zeros((2, 11), dtype=np.int64))
    fresh = kit.classifier()
    before = kit.snapshot(fresh)
    with pytest.raises(ValueError, match=r"num_virtual_tokens = 16 leaves no room .*max_position = 16"):
        get_peft_model(fresh, PromptTuningConfig(num_virtual_tokens=16), name="task")
    kit.assert_same(before, kit.snapshot(fresh))


def test_a_prompt_that_keeps_positions_leaves_every_token_vector_as_the_base_made_it(kit):
    """positions="keep": embeddings = [LN(prompt + E_segment[0]); the base model's token vectors], any P."""
    ids = np.arange(1, 11).reshape(1, 10) % kit.CONFIG.vocab_size
    base = kit.classifier()
    base.eval()
    before = base.bert.embeddings(ids).numpy()  # (1, 10, D)
    model = get_peft_model(base, PromptTuningConfig(num_virtual_tokens=12, positions="keep"), name="task")
    model.eval()
    embeddings = model.bert.embeddings
    after = embeddings(ids).numpy()  # (1, 12 + 10, D): 12 + 10 > max_position = 16 is allowed
    assert after.shape == (1, 22, D) and np.array_equal(after[:, 12:], before)
    prompt = embeddings.extra_positions.prompts["task"].vectors
    expected = embeddings.norm(prompt + embeddings.segment.weight[0]).numpy()  # no position vector
    np.testing.assert_allclose(after[0, :12], expected, rtol=1e-6, atol=1e-6)
    assert model(ids)["logits"].shape == (1, 2)
    assert "the tokens keep their positions" in repr(model.bert.embeddings)


def test_prompt_starts_from_rows_of_the_token_table(kit):
    model = get_peft_model(kit.classifier(), PromptTuningConfig(num_virtual_tokens=4), name="task")
    prompt = model.bert.embeddings.extra_positions.prompts["task"].vectors.data
    table = model.bert.embeddings.token.weight.data
    assert all(any(np.array_equal(row, t) for t in table) for row in prompt)


def test_folding_the_prefix_mlp_keeps_the_outputs_and_shrinks_the_file(kit, tmp_path):
    model = get_peft_model(kit.classifier(), PrefixTuningConfig(num_virtual_tokens=3, reparameterize=True,
                                                                hidden=8), name="task")
    kit.train_steps(model, 3)
    ids, _ = kit.heldout()
    before, trained_count = kit.logits(model, ids), module_count(model)
    fold_prefix(model, "task")
    np.testing.assert_allclose(kit.logits(model, ids), before, rtol=1e-5, atol=1e-6)
    assert module_count(model) == prefix_parameter_count(D, 3, LAYERS) < trained_count
    save_adapter(model, "task", tmp_path / "prefix.npz")
    meta = json.loads((tmp_path / "prefix.json").read_text())
    assert meta["method"] == "prefix" and meta["config"]["reparameterize"] is False
    fresh = kit.classifier()
    load_adapter(fresh, tmp_path / "prefix.npz")
    assert np.array_equal(kit.logits(fresh, ids), kit.logits(model, ids))


def test_a_parallel_adapter_adds_beside_the_sublayer(randn):
    layer = EncoderLayer(8, 2, 16)
    add_adapter(layer, "task", AdapterConfig(bottleneck=3, placement="parallel", up_init="normal", init_std=0.3))
    for param in layer.parameters():
        param.data = param.data.astype(np.float64)
    x = randn(2, 5, 8)
    adapter = layer.feed_forward.adapters["task"]
    beside = (x @ adapter.down.weight + adapter.down.bias).gelu() @ adapter.up.weight + adapter.up.bias
    sublayer = layer.feed_forward.base_layer(x)
    np.testing.assert_allclose(layer.feed_forward(x).data, (sublayer + beside).data, rtol=1e-12)


# ---- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, words", [
    (lambda: LoraConfig(r=0), "LoraConfig: r must be a positive integer"),
    (lambda: LoraConfig(r=-2), "LoraConfig: r must be a positive integer"),
    (lambda: LoraConfig(alpha=0), "alpha must be a finite number > 0"),
    (lambda: LoraConfig(target_modules=()), "target_modules must be a non-empty list"),
    (lambda: LoraConfig(dropout=1.0), "dropout must be in [0, 1)"),
    (lambda: PromptTuningConfig(num_virtual_tokens=0), "num_virtual_tokens must be a positive integer"),
    (lambda: PromptTuningConfig(init="zeros"), "init must be one of ('vocab', 'random')"),
    (lambda: PromptTuningConfig(positions="absolute"), "positions must be one of ('shift', 'keep')"),
    (lambda: PrefixTuningConfig(reparameterize="yes"), "reparameterize must be True or False"),
    (lambda: IA3Config(feedforward_modules=("query",)), "feedforward_modules ['query'] are not in target_modules"),
    (lambda: AdapterConfig(placement="after"), "placement must be one of ('houlsby', 'pfeiffer', 'parallel')"),
    (lambda: BitFitConfig(layers=[]), "layers is empty"),
])
def test_bad_configs_are_clear_errors(make, words):
    with pytest.raises(ValueError) as err:
        make()
    assert words in str(err.value)


@pytest.mark.parametrize("config, words", [
    (LoraConfig(target_modules=("query", "qkv")), r"target_modules \['qkv'\] match no Linear in the Transformer "
                                                  r"layers; the Linears there are \['attention.key', "
                                                  r"'attention.output.dense', 'attention.query'"),
    (LoraConfig(r=33), r"r = 33 is larger than the smaller side of bert.layers.0.attention.query \(32 x 32\)"),
    (LoraConfig(r=4, layers=[3]), r"layers \[3\] do not exist"),
    (IA3Config(target_modules=("gate",), feedforward_modules=()), r"\['gate'\] match no Linear"),
])
def test_configs_that_do_not_fit_the_model_change_nothing(kit, config, words):
    model = kit.classifier()
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=words):
        get_peft_model(model, config, name="task")
    kit.assert_same(before, kit.snapshot(model))


def test_one_model_holds_one_method_and_a_name_once(kit):
    model = get_peft_model(kit.classifier(), LoraConfig(r=2), name="a")
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=r"holds 'lora' tasks \(\['a'\]\); one model holds tasks of one method"):
        get_peft_model(model, AdapterConfig(bottleneck=4), name="b")
    with pytest.raises(ValueError, match="already has an adapter named 'a'"):
        get_peft_model(model, IA3Config(), name="a")
    with pytest.raises(TypeError, match="config must be one of AdapterConfig, BitFitConfig, HeadConfig, IA3Config"):
        get_peft_model(model, {"r": 2}, name="c")
    kit.assert_same(before, kit.snapshot(model))
    adapters = add_adapter(kit.classifier(), "a", AdapterConfig(bottleneck=2))
    with pytest.raises(ValueError, match=r"placement \['houlsby'\]; one model holds adapters of one placement"):
        add_adapter(adapters, "b", AdapterConfig(bottleneck=2, placement="parallel"))


def test_loading_a_file_of_another_method_is_refused_and_changes_nothing(kit, tmp_path):
    source = get_peft_model(kit.classifier(seed=0), IA3Config(), name="ia3")
    save_adapter(source, "ia3", tmp_path / "ia3.npz")
    model = get_peft_model(kit.classifier(seed=0), LoraConfig(r=2), name="a")
    before = kit.snapshot(model)
    with pytest.raises(CheckpointError, match="one model holds tasks of one method"):
        load_adapter(model, tmp_path / "ia3.npz")
    kit.assert_same(before, kit.snapshot(model))
    arrays, meta = load_arrays(tmp_path / "ia3.npz")
    save_arrays(tmp_path / "dora.npz", arrays, {**meta, "method": "dora"})
    with pytest.raises(CheckpointError, match=r"names method 'dora'; the methods are \['adapter', 'bitfit'"):
        load_adapter(kit.classifier(seed=0), tmp_path / "dora.npz")


def test_a_task_follows_the_model_to_float64(kit):
    model = kit.classifier()
    for param in model.parameters():
        param.data = param.data.astype(np.float64)
    get_peft_model(model, LoraConfig(r=2), name="task")
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model(np.zeros((1, 4), dtype=np.int64))["logits"].dtype == np.float64
