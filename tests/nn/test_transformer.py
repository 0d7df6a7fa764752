"""EncoderLayer and DecoderLayer: gradients, the post-LN formula, masks, and the places
where adapters will attach (each SublayerOutput, before the residual add and layer norm)."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.nn import DecoderLayer, EncoderLayer, Module, SublayerOutput

D, HEADS, FF = 8, 2, 16


def encoder_layer(float64, dropout=0.0):
    return float64(EncoderLayer(D, HEADS, FF, dropout))


def decoder_layer(float64):
    return float64(DecoderLayer(D, HEADS, FF))


class AddAfter(Module):
    """What an adapter wrapper does: run the wrapped module, then add something to its output."""

    def __init__(self, inner, delta):
        super().__init__()
        self.inner, self.delta = inner, delta

    def forward(self, x):
        return self.inner(x) + self.delta


def test_encoder_layer_gradcheck(float64, randn):
    layer = encoder_layer(float64)
    x = randn(2, 4, D, requires_grad=True)
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    weights = [layer.attention.key.weight, layer.feed_forward.intermediate.weight,
               layer.feed_forward.output.dense.bias, layer.attention_norm.weight]
    assert mp.gradcheck(lambda x, *w: layer(x, mask), x, *weights)


def test_decoder_layer_gradcheck(float64, randn):
    layer = decoder_layer(float64)
    x = randn(2, 3, D, requires_grad=True)
    memory = randn(2, 4, D, seed=1, requires_grad=True)
    memory_mask = np.array([[True, True, True, False], [True, True, True, True]])
    weights = [layer.self_attention.query.weight, layer.cross_attention.value.weight, layer.feed_forward_norm.bias]
    assert mp.gradcheck(lambda x, m, *w: layer(x, m, memory_mask=memory_mask), x, memory, *weights)


def test_encoder_layer_is_post_ln_bert(float64, randn):
    # x = LN(x + Attn(x)); x = LN(x + W2 GELU(W1 x)), written out with the layer's own parts
    layer = encoder_layer(float64)
    x = randn(2, 4, D)
    h = layer.attention_norm(x + layer.attention(x))
    ff = layer.feed_forward.intermediate(h).gelu()
    expected = layer.feed_forward_norm(h + layer.feed_forward.output.dense(ff))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), atol=1e-12)


@pytest.mark.parametrize("cls", [EncoderLayer, DecoderLayer])
def test_sublayer_outputs_name_the_projection_dropout_modules(cls):
    layer = cls(D, HEADS, FF, dropout=0.1)
    modules = dict(layer.named_modules())
    assert {name for name, m in modules.items() if isinstance(m, SublayerOutput)} == set(cls.SUBLAYER_OUTPUTS)
    for name in cls.SUBLAYER_OUTPUTS:
        assert modules[name].dropout.p == 0.1


def test_wrapping_a_sublayer_output_acts_before_the_residual_add_and_layer_norm(float64, randn):
    # Houlsby's position: adapter(Drop(W h)) is added to the residual stream, then normalised
    layer = encoder_layer(float64)
    x = randn(2, 4, D)
    delta_attention, delta_ff = randn(D, seed=5), randn(D, seed=6)
    attention_output, ff_output = layer.attention.output, layer.feed_forward.output
    layer.attention.output = AddAfter(attention_output, delta_attention)
    layer.feed_forward.output = AddAfter(ff_output, delta_ff)
    got = layer(x).numpy()
    layer.attention.output, layer.feed_forward.output = attention_output, ff_output
    h = layer.attention_norm(x + (layer.attention(x) + delta_attention))
    expected = layer.feed_forward_norm(h + (layer.feed_forward(h) + delta_ff))
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-12)


def test_encoder_padding_leaves_real_tokens_unchanged(float64, randn):
    layer = encoder_layer(float64)
    x = randn(1, 3, D)
    padded = mp.tensor(np.concatenate([x.numpy(), np.ones((1, 2, D))], axis=1), dtype="float64")
    out = layer(padded, np.array([[True, True, True, False, False]])).numpy()
    np.testing.assert_allclose(out[:, :3], layer(x).numpy(), atol=1e-12)


def test_decoder_self_attention_is_causal(float64, randn):
    layer = decoder_layer(float64)
    x, memory = randn(2, 5, D), randn(2, 4, D, seed=1)
    changed = x.numpy().copy()
    changed[:, 2:] += 1.0  # change the "future" after position 1
    before = layer(x, memory).numpy()
    after = layer(mp.tensor(changed, dtype="float64"), memory).numpy()
    np.testing.assert_allclose(after[:, :2], before[:, :2], atol=1e-12)
    assert not np.allclose(after[:, 2:], before[:, 2:])


def test_decoder_ignores_padded_memory(float64, randn):
    layer = decoder_layer(float64)
    x, memory = randn(1, 3, D), randn(1, 2, D, seed=1)
    padded = mp.tensor(np.concatenate([memory.numpy(), np.zeros((1, 3, D))], axis=1), dtype="float64")
    out = layer(x, padded, memory_mask=np.array([[True, True, False, False, False]])).numpy()
    np.testing.assert_allclose(out, layer(x, memory).numpy(), atol=1e-12)


def test_decoder_returns_both_attention_maps(float64, randn):
    out, (self_weights, cross_weights) = decoder_layer(float64)(randn(2, 3, D), randn(2, 4, D), return_weights=True)
    assert out.shape == (2, 3, D)
    assert self_weights.shape == (2, HEADS, 3, 3) and cross_weights.shape == (2, HEADS, 3, 4)


def test_dropout_is_active_only_in_training(float64, randn):
    layer = encoder_layer(float64, dropout=0.5)
    x = randn(2, 4, D)
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())  # two different dropout masks
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
