"""The two generic hooks: extra positions before the embeddings, extra keys and values in attention.

They know nothing of peft: any module returning vectors of the right shape can fill them.
Each is checked against the same computation written out by hand.
"""
import numpy as np
import pytest

import minipeft as mp
from minipeft import functional as F
from minipeft.nn import BertConfig, BertModel, Module, MultiHeadAttention, Parameter

CONFIG = BertConfig.preset("tiny", hidden_size=16, num_layers=2, num_heads=2, ff_size=32, vocab_size=30,
                           max_position=12)


class Fixed(Module):
    """A hook that returns the same vectors (P, d) for every row, or pairs of them."""

    def __init__(self, *tables):
        super().__init__()
        for i, table in enumerate(tables):
            setattr(self, f"table{i}", Parameter(table))
        self.count = len(tables)

    def forward(self, batch):
        out = tuple(F.stack([getattr(self, f"table{i}")] * batch, axis=0) for i in range(self.count))
        return out[0] if self.count == 1 else out


def test_extra_positions_go_before_the_tokens_with_positions_and_segment_zero(randn):
    model = BertModel(CONFIG).eval()
    emb = model.embeddings
    ids = np.random.default_rng(0).integers(0, 30, (2, 5))
    extra = randn(3, 16).astype("float32")
    emb.extra_positions = Fixed(extra.data)
    h = emb(ids)
    assert h.shape == (2, 8, 16)
    tokens = np.concatenate([np.stack([extra.data] * 2), emb.token.weight.data[ids]], axis=1)  # (2, 8, 16)
    by_hand = F.layer_norm(mp.tensor(tokens + emb.position.weight.data[:8] + emb.segment.weight.data[0]),
                           emb.norm.weight, emb.norm.bias, emb.norm.eps)
    np.testing.assert_allclose(h.data, by_hand.data, rtol=1e-6, atol=1e-6)


def test_bert_model_returns_the_token_positions_and_never_hides_the_extra_ones():
    model = BertModel(CONFIG).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, (2, 5))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    model.embeddings.extra_positions = Fixed(rng.standard_normal((3, 16)).astype(np.float32))
    hidden, weights = model(ids, attention_mask=mask, return_weights=True)
    assert hidden.shape == (2, 5, 16)  # the heads read the same positions as without the hook
    assert weights[0].shape == (2, 2, 8, 8)
    w = weights[0].data
    assert np.all(w[0, :, :, 6:] == 0)  # padding stays hidden (the extra 3 shift it to positions 6, 7)
    assert np.all(w[:, :, :, :3] > 0)  # every query sees the extra positions
    other = ids.copy()
    other[0, 3:] = 7  # what the padding holds does not matter
    np.testing.assert_array_equal(model(other, attention_mask=mask).data[0, :3], hidden.data[0, :3])


def test_extra_positions_past_the_position_table_are_a_clear_error():
    model = BertModel(CONFIG)
    model.embeddings.extra_positions = Fixed(np.zeros((4, 16), dtype=np.float32))
    with pytest.raises(ValueError, match=r"length 9 with 4 extra positions before them \(13 in all\) are longer "
                                         r"than the position table \(max_position = 12\)"):
        model(np.zeros((1, 9), dtype=np.int64))
    model.embeddings.extra_positions = Fixed(np.zeros((4, 8), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected vectors of shape \(1, P, 16\), got \(1, 4, 8\)"):
        model(np.zeros((1, 3), dtype=np.int64))


def test_extra_keys_values_equal_attending_over_extra_input_positions(randn, float64):
    """If the hook returns the keys and values that P extra inputs z would have, attention over x is
    attention over [z; x], read at x's positions."""
    attention = float64(MultiHeadAttention(16, 2))
    x, z = randn(2, 5, 16), randn(2, 3, 16)
    keys, values = attention.key(z), attention.value(z)  # (2, 3, 16) each
    joint = attention(F.concatenate([z, x], axis=1)).data[:, 3:]
    attention.extra_keys_values = lambda batch: (keys, values)
    np.testing.assert_allclose(attention(x).data, joint, rtol=1e-12, atol=1e-12)
    causal_and_padded = attention(x, key_padding_mask=np.ones((2, 5), dtype=bool), causal=True)
    assert causal_and_padded.shape == (2, 5, 16)
    with pytest.raises(ValueError, match=r"expected keys of shape \(2, P, 16\), got \(3, 16\)"):
        attention.extra_keys_values = lambda batch: (keys.data[0], values)
        attention(x)


def test_gradcheck_through_both_hooks(randn):
    config = BertConfig.preset("tiny", hidden_size=8, num_layers=1, num_heads=2, ff_size=16, vocab_size=20,
                               max_position=12)
    model = BertModel(config)
    rng = np.random.default_rng(0)
    model.embeddings.extra_positions = Fixed(rng.standard_normal((2, 8)))
    model.layers[0].attention.extra_keys_values = Fixed(rng.standard_normal((3, 8)), rng.standard_normal((3, 8)))
    for param in model.parameters():
        param.data = param.data.astype(np.float64)
    hooks = [model.embeddings.extra_positions.table0, model.layers[0].attention.extra_keys_values.table0,
             model.layers[0].attention.extra_keys_values.table1]
    ids = rng.integers(0, 20, (2, 4))
    assert mp.gradcheck(lambda *tables: model(ids, attention_mask=np.array([[1, 1, 1, 0], [1] * 4])), *hooks)
