"""Scaled dot-product attention (the fused op) and MultiHeadAttention.

The fused op's hand-written backward is checked against central differences, its forward
against a plain Python loop over query positions, and its masks against what they
promise: the causal mask hides the future, padding changes nothing for real tokens.
"""
import math

import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import MultiHeadAttention, SublayerOutput

B, H, TQ, TK, DH = 2, 2, 3, 5, 4


def qkv(randn, requires_grad=True, tq=TQ, tk=TK):
    return (randn(B, H, tq, DH, seed=1, requires_grad=requires_grad),
            randn(B, H, tk, DH, seed=2, requires_grad=requires_grad),
            randn(B, H, tk, DH, seed=3, requires_grad=requires_grad))


def padding(lengths, tk=TK):
    """(B, 1, 1, Tk) mask: True for the first lengths[b] keys of sequence b."""
    return (np.arange(tk)[None, :] < np.array(lengths)[:, None])[:, None, None, :]


def loop_attention(q, k, v, mask=None):
    """Attention written the slow way: one query at a time, a softmax over its allowed keys."""
    q, k, v = q.numpy(), k.numpy(), v.numpy()
    mask = np.ones(q.shape[:-1] + (k.shape[-2],), bool) if mask is None else np.broadcast_to(
        mask, q.shape[:-1] + (k.shape[-2],))
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            for t in range(q.shape[2]):
                keys = [j for j in range(k.shape[2]) if mask[b, h, t, j]]
                scores = np.array([q[b, h, t] @ k[b, h, j] / math.sqrt(q.shape[-1]) for j in keys])
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                out[b, h, t] = sum(w * v[b, h, j] for w, j in zip(weights, keys))
    return out


# ---- the fused op ----------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [
    pytest.param(None, id="no-mask"),
    pytest.param(padding([5, 3]), id="padding"),
    pytest.param(np.random.default_rng(0).random((B, H, TQ, TK)) < 0.6, id="random-full-shape"),
])
def test_attention_gradcheck_all_inputs(randn, mask):
    q, k, v = qkv(randn)
    assert mp.gradcheck(lambda q, k, v: mp.scaled_dot_product_attention(q, k, v, mask), q, k, v)


def test_attention_gradcheck_causal(randn):
    q, k, v = qkv(randn, tq=4, tk=4)
    causal = np.tril(np.ones((4, 4), bool))  # (Tq, Tk) broadcasts over batch and heads
    assert mp.gradcheck(lambda q, k, v: mp.scaled_dot_product_attention(q, k, v, causal), q, k, v)


def test_fully_masked_row_attends_uniformly_without_nan(randn):
    # a query that may attend to nothing: equal scores everywhere, so the mean of v, and no
    # gradient to q or k (its scores were constants)
    q, k, v = qkv(randn)
    mask = np.ones((B, H, TQ, TK), bool)
    mask[0, 1, 2] = False
    out = mp.scaled_dot_product_attention(q, k, v, mask)
    assert np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(out.numpy()[0, 1, 2], v.numpy()[0, 1].mean(axis=0))
    out.sum().backward()
    np.testing.assert_array_equal(q.grad[0, 1, 2], 0.0)
    assert mp.gradcheck(lambda q, k, v: mp.scaled_dot_product_attention(q, k, v, mask), q, k, v)


@pytest.mark.parametrize("mask", [None, padding([2, 4]), np.tril(np.ones((TQ, TK), bool))],
                         ids=["no-mask", "padding", "causal"])
def test_attention_equals_a_loop_over_query_positions(randn, mask):
    q, k, v = qkv(randn, requires_grad=False)
    out = mp.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(out.numpy(), loop_attention(q, k, v, mask), atol=1e-12)


def test_attention_weights_are_returned_outside_the_graph(randn):
    q, k, v = qkv(randn)
    out, weights = mp.scaled_dot_product_attention(q, k, v, padding([5, 2]), return_weights=True)
    assert weights.shape == (B, H, TQ, TK) and not weights.requires_grad
    np.testing.assert_allclose(weights.numpy().sum(axis=-1), 1.0)
    np.testing.assert_array_equal(weights.numpy()[1, :, :, 2:], 0.0)  # padding gets weight exactly 0


@pytest.mark.parametrize("wanted, gemms", [("qkv", 4), ("v", 1), ("q", 2), ("k", 2), ("", 0)])
def test_backward_computes_only_the_gradients_asked_for(randn, wanted, gemms):
    # forward: S = q k^T and O = P v; backward: dV = P^T dO (1 GEMM), dP = dO V^T plus dQ and/or dK
    q, k, v = qkv(randn, requires_grad=False)
    for name, t in zip("qkv", (q, k, v)):
        t.requires_grad = name in wanted
    x = randn(B, H, TQ, DH, seed=9, requires_grad=True)  # keeps a graph even when q, k, v are constants
    out = mp.scaled_dot_product_attention(q, k, v) + x
    with count_gemms() as count:
        out.sum().backward()
    assert count.calls == gemms
    for name, t in zip("qkv", (q, k, v)):
        assert (t.grad is not None) == (name in wanted)


def test_attention_rejects_bad_masks_and_shapes(randn):
    q, k, v = qkv(randn)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 4\) does not broadcast to the scores' "
                                         r"shape \(2, 2, 3, 5\)"):
        mp.scaled_dot_product_attention(q, k, v, np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="mask must be boolean.*float64"):
        mp.scaled_dot_product_attention(q, k, v, np.ones((TQ, TK)))
    with pytest.raises(ValueError, match="same last axis"):
        mp.scaled_dot_product_attention(q, randn(B, H, TK, DH + 1), v)
    with pytest.raises(ValueError, match="same number of keys"):
        mp.scaled_dot_product_attention(q, k, randn(B, H, TK + 1, DH))


# ---- MultiHeadAttention ------------------------------------------------------------------------
D, HEADS = 8, 2


def mha(float64, dropout=0.0):
    return float64(MultiHeadAttention(D, HEADS, dropout))


def test_mha_has_the_projections_and_a_wrappable_output():
    attention = MultiHeadAttention(D, HEADS, dropout=0.1)
    names = [name for name, _ in attention.named_parameters()]
    assert names == ["query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias",
                     "output.dense.weight", "output.dense.bias"]
    assert isinstance(attention.output, SublayerOutput) and attention.output.dropout.p == 0.1


def test_mha_gradcheck_self_attention_with_padding(float64, randn):
    attention = mha(float64)
    x = randn(2, 4, D, requires_grad=True)
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    weights = [attention.query.weight, attention.value.weight, attention.output.dense.weight]
    assert mp.gradcheck(lambda x, *w: attention(x, key_padding_mask=mask), x, *weights)


def test_mha_gradcheck_causal_and_cross_attention(float64, randn):
    attention = mha(float64)
    x = randn(2, 3, D, requires_grad=True)
    memory = randn(2, 5, D, seed=1, requires_grad=True)
    assert mp.gradcheck(lambda x: attention(x, causal=True), x)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])  # 0/1 integers work as well as booleans
    assert mp.gradcheck(lambda x, m, k: attention(x, key_padding_mask=mask, memory=m), x, memory,
                        attention.key.weight)


def test_mha_equals_per_head_attention_by_hand(float64, randn):
    attention = mha(float64)
    x = randn(2, 4, D, requires_grad=False)
    xs, dh = x.numpy(), D // HEADS
    q, k, v = (xs @ lin.weight.numpy() + lin.bias.numpy() for lin in (attention.query, attention.key, attention.value))
    heads = []
    for h in range(HEADS):  # each head attends with its own slice of q, k, v
        cols = slice(h * dh, (h + 1) * dh)
        scores = q[:, :, cols] @ k[:, :, cols].transpose(0, 2, 1) / math.sqrt(dh)
        p = np.exp(scores - scores.max(-1, keepdims=True))
        heads.append(p / p.sum(-1, keepdims=True) @ v[:, :, cols])
    expected = np.concatenate(heads, -1) @ attention.output.dense.weight.numpy() + attention.output.dense.bias.numpy()
    np.testing.assert_allclose(attention(x).numpy(), expected, atol=1e-12)


def test_causal_mask_hides_the_future(float64, randn):
    # changing tokens after position t leaves outputs 0..t unchanged
    attention = mha(float64)
    x = randn(2, 5, D)
    changed = x.numpy().copy()
    changed[:, 3:] = np.random.default_rng(7).standard_normal((2, 2, D))
    before = attention(x, causal=True).numpy()
    after = attention(mp.tensor(changed, dtype="float64"), causal=True).numpy()
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-12)
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_padding_leaves_real_tokens_unchanged(float64, randn):
    # appending padding (whatever its values) with mask False changes nothing at real positions
    attention = mha(float64)
    x = randn(1, 3, D)
    padded = np.concatenate([x.numpy(), 100 * np.ones((1, 2, D))], axis=1)
    mask = np.array([[True, True, True, False, False]])
    out = attention(mp.tensor(padded, dtype="float64"), key_padding_mask=mask).numpy()
    np.testing.assert_allclose(out[:, :3], attention(x).numpy(), atol=1e-12)


def test_mha_returns_weights_per_head(float64, randn):
    out, weights = mha(float64)(randn(2, 4, D), causal=True, return_weights=True)
    assert out.shape == (2, 4, D) and weights.shape == (2, HEADS, 4, 4)
    np.testing.assert_array_equal(np.triu(weights.numpy(), k=1), 0.0)  # nothing above the diagonal


def test_mha_bad_input_errors_name_the_shapes(randn):
    attention = MultiHeadAttention(D, HEADS)
    x = mp.tensor(np.zeros((2, 5, D)))
    with pytest.raises(ValueError, match=r"key_padding_mask: expected shape \(batch, length\) = \(2, 5\), "
                                         r"got \(2, 4\)"):
        attention(x, key_padding_mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="key_padding_mask: expected booleans.*float"):
        attention(x, key_padding_mask=np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"expected x of shape \(batch, length, 8\), got \(2, 5, 6\)"):
        attention(mp.tensor(np.zeros((2, 5, 6))))
    with pytest.raises(ValueError, match="batch size 2 but memory has 3"):
        attention(x, memory=mp.tensor(np.zeros((3, 4, D))))
    with pytest.raises(ValueError, match="causal=True is for self-attention"):
        attention(x, causal=True, memory=x)
    with pytest.raises(ValueError, match=r"d_model \(10\) must be a positive multiple of num_heads \(4\)"):
        MultiHeadAttention(10, 4)
