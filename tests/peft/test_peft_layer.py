"""AdapterConfig, the Adapter module, the parameter-count formula, and gradient checks."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import BertConfig, BertModel, EncoderDecoder, EncoderLayer
from minipeft.peft import (Adapter, AdapterConfig, AdapterWrapper, add_adapter, adapter_parameter_count,
                           set_adapter)


# ---- the config -----------------------------------------------------------------------------------
def test_config_defaults_up_projection_zero_down_projection_xavier():
    config = AdapterConfig()
    assert (config.bottleneck, config.nonlinearity, config.up_init, config.down_init) == (64, "gelu", "zero", "xavier")
    assert config.layers is None and config.train_layer_norms and config.train_head


def test_config_round_trips_through_json_values():
    config = AdapterConfig(bottleneck=8, nonlinearity="tanh", up_init="normal", init_std=1e-3, layers=[1, 0],
                           train_head=False)
    assert AdapterConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["layers"] == [1, 0]


@pytest.mark.parametrize("fields, words", [
    (dict(bottleneck=0), "bottleneck must be a positive integer"),
    (dict(bottleneck=-3), "bottleneck must be a positive integer"),
    (dict(bottleneck=2.5), "bottleneck must be a positive integer"),
    (dict(nonlinearity="swish"), "nonlinearity must be one of ('gelu', 'relu', 'tanh'), got 'swish'"),
    (dict(up_init="ones"), "up_init must be one of"),
    (dict(down_init="zero"), "down_init must be one of"),
    (dict(init_std=-1.0), "init_std must be a finite number >= 0"),
    (dict(layers=[0, 0]), "layers lists an index twice"),
    (dict(layers=[-1]), "layers must be None"),
    (dict(layers=[]), "layers is empty"),
    (dict(train_head="yes"), "train_head must be True or False"),
    (dict(train_layer_norms="all"), "train_layer_norms must be True (every LayerNorm), \"layers\""),
    (dict(train_layer_norms=1), "train_layer_norms must be True"),
])
def test_config_rejects_bad_values_with_clear_messages(fields, words):
    with pytest.raises(ValueError, match="AdapterConfig") as err:
        AdapterConfig(**fields)
    assert words in str(err.value)


def test_config_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match=r"unknown fields \['size'\]"):
        AdapterConfig.from_dict({"size": 8})


# ---- the module ---------------------------------------------------------------------------------------
def test_adapter_has_2md_plus_d_plus_m_parameters_and_starts_as_the_identity():
    d, m = 16, 4
    adapter = Adapter(d, m)
    assert adapter.num_parameters() == 2 * m * d + d + m
    assert np.all(adapter.up.weight.data == 0) and np.all(adapter.up.bias.data == 0)
    assert np.abs(adapter.down.weight.data).std() > 0.1  # Xavier: a normal scale, no saddle
    h = mp.tensor(np.random.default_rng(0).standard_normal((2, 3, d)))
    assert np.array_equal(adapter(h).data, h.data)
    assert "16 -> 4 -> 16, gelu, 148 parameters" in repr(adapter)


def test_houlsby_init_draws_both_projections_near_zero():
    adapter = Adapter(16, 4, up_init="normal", down_init="normal", init_std=1e-3)
    for weight in (adapter.down.weight.data, adapter.up.weight.data):
        assert 0 < np.abs(weight).max() <= 2e-3  # truncated at 2 std
    h = mp.tensor(np.random.default_rng(0).standard_normal((2, 16)))
    change = np.abs(adapter(h).data - h.data).max()
    assert 0 < change < 1e-4  # near the identity, not exactly it


@pytest.mark.parametrize("nonlinearity", ["gelu", "relu", "tanh"])
def test_gradcheck_through_an_adapter(nonlinearity, randn):
    adapter = Adapter(6, 3, nonlinearity, up_init="normal", init_std=0.5)
    for param in adapter.parameters():
        param.data = param.data.astype(np.float64)
    adapter.down.bias.data += 0.3  # keep ReLU's inputs away from its kink at 0
    h = randn(2, 4, 6, requires_grad=True)
    assert mp.gradcheck(lambda h, *params: adapter(h), h, *adapter.parameters())


def composed_adapter(adapter: Adapter, h):
    """The adapter as separate ops, the way its docstring writes it: h + up(f(down(h)))."""
    a = adapter.down(h)
    z = {"gelu": a.gelu, "relu": a.relu, "tanh": a.tanh}[adapter.nonlinearity]()
    return h + adapter.up(z)


@pytest.mark.parametrize("nonlinearity", ["gelu", "relu", "tanh"])
def test_fused_adapter_equals_the_composed_ops_forward_bit_for_bit_and_every_gradient(nonlinearity):
    adapter = Adapter(32, 4, nonlinearity, up_init="normal", init_std=0.3)
    data = np.random.default_rng(1).standard_normal((3, 5, 32)).astype(np.float32)
    dy = np.random.default_rng(2).standard_normal((3, 5, 32)).astype(np.float32)
    results = []
    for run in (adapter, lambda h: composed_adapter(adapter, h)):
        adapter.zero_grad()
        h = mp.tensor(data, requires_grad=True)
        y = run(h)
        y.backward(dy)
        results.append((y.data, h.grad, [p.grad for p in adapter.parameters()]))
    (y_fused, dh_fused, dparams_fused), (y_composed, dh_composed, dparams_composed) = results
    assert np.array_equal(y_fused, y_composed)  # the same float32 operations in the same order
    np.testing.assert_allclose(dh_fused, dh_composed, rtol=1e-5, atol=1e-6)
    for fused, composed in zip(dparams_fused, dparams_composed):  # sums in another order: rounding only
        np.testing.assert_allclose(fused, composed, rtol=1e-4, atol=1e-5)


def test_fused_adapter_skips_the_input_gradient_product_when_the_input_is_frozen():
    adapter = Adapter(16, 4, up_init="normal", init_std=0.3)
    h = mp.tensor(np.random.default_rng(0).standard_normal((2, 3, 16)).astype(np.float32))  # no grad wanted
    y = adapter(h)
    with count_gemms() as count:
        y.sum().backward()
    assert count.calls == 3  # dW_up, dz, dW_down; no dh = da W_down^T
    assert h.grad is None and all(p.grad is not None for p in adapter.parameters())


def test_gradcheck_through_a_wrapped_encoder_layer(randn):
    layer = EncoderLayer(8, 2, 16)
    add_adapter(layer, "task", AdapterConfig(bottleneck=3, up_init="normal", init_std=0.3))
    assert isinstance(layer.attention.output, AdapterWrapper) and isinstance(layer.feed_forward.output, AdapterWrapper)
    trainable = layer.parameters(trainable_only=True)
    for param in layer.parameters():
        param.data = param.data.astype(np.float64)
    x = randn(2, 5, 8, requires_grad=True)
    # x, both adapters and the layer's own layer norms: the gradient flows through all of them
    assert len(trainable) == 2 * 4 + 2 * 2
    assert mp.gradcheck(lambda x, *params: layer(x), x, *trainable)


# ---- counting ---------------------------------------------------------------------------------------
def test_bert_large_adapter_count_of_houlsby_et_al():
    per_adapter = 2 * 64 * 1024 + 1024 + 64
    assert per_adapter == 132_160
    assert adapter_parameter_count(1024, 64, 24) == 48 * 132_160 == 6_343_680
    assert adapter_parameter_count(1024, 64, 24, sublayers=3) == 72 * 132_160


def test_adapter_parameter_count_rejects_nonsense():
    with pytest.raises(ValueError, match="m must be a positive integer"):
        adapter_parameter_count(64, 0, 2)


def _adapter_count(model):
    return sum(p.size for name, p in model.named_parameters() if ".adapters." in name)


@pytest.mark.parametrize("layers, m", [(2, 8), (3, 5)])
def test_formula_equals_the_modules_real_count_in_an_encoder(layers, m):
    model = BertModel(BertConfig.preset("tiny", hidden_size=32, num_layers=layers, vocab_size=50))
    add_adapter(model, "task", AdapterConfig(bottleneck=m))
    assert _adapter_count(model) == adapter_parameter_count(32, m, layers)


def test_formula_equals_the_real_count_in_an_encoder_decoder_three_per_decoder_layer():
    config = BertConfig.preset("tiny", hidden_size=16, num_layers=2, num_heads=2, vocab_size=30, ff_size=32)
    model = EncoderDecoder(config)
    add_adapter(model, "summarize", AdapterConfig(bottleneck=4))
    wrappers = [name for name, module in model.named_modules() if isinstance(module, AdapterWrapper)]
    assert len(wrappers) == 2 * 2 + 3 * 2
    assert _adapter_count(model) == adapter_parameter_count(16, 4, 2) + adapter_parameter_count(16, 4, 2, sublayers=3)


def test_layers_subset_puts_adapters_only_there():
    model = BertModel(BertConfig.preset("tiny", hidden_size=32, num_layers=3, vocab_size=50))
    add_adapter(model, "top", AdapterConfig(bottleneck=4, layers=[2]))
    wrapped = sorted(name for name, module in model.named_modules() if isinstance(module, AdapterWrapper))
    assert wrapped == ["layers.2.attention.output", "layers.2.feed_forward.output"]
    add_adapter(model, "bottom", AdapterConfig(bottleneck=4, layers=[0, 2]))  # re-uses layer 2's wrappers
    wrapped = sorted(name for name, module in model.named_modules() if isinstance(module, AdapterWrapper))
    assert len(wrapped) == 4
    assert list(model.layers[2].attention.output.adapters.keys()) == ["top", "bottom"]
    set_adapter(model, "top")
    assert model.layers[0].attention.output.active is None and model.layers[2].attention.output.active == "top"
