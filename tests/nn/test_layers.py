"""The basic layers (gradient checks) and the Module API: names, modes, freezing, counting,
saving and loading."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import (GELU, Dropout, Embedding, LayerNorm, Linear, Module, ModuleDict, ModuleList, Parameter,
                         Sequential)


class TiedOutput(Module):
    """logits = h E^T: an output layer that reuses an embedding table (as BERT's MLM decoder)."""

    def __init__(self, embedding):
        super().__init__()
        self.weight = embedding.weight  # the same Parameter, not a copy

    def forward(self, h):
        return h @ self.weight.T


class TwoLayers(Module):
    """A small model with a tied weight: ``out.weight`` is ``embed.weight``."""

    def __init__(self):
        super().__init__()
        self.embed = Embedding(5, 4)
        self.hidden = Linear(4, 4)
        self.norm = LayerNorm(4)
        self.out = TiedOutput(self.embed)

    def forward(self, ids):
        return self.out(self.norm(self.hidden(self.embed(ids))))  # (B, T, 5)


# ---- gradient checks of each layer ------------------------------------------------------------
def test_linear_gradcheck(float64, randn):
    layer = float64(Linear(3, 4))
    x = randn(2, 5, 3, requires_grad=True)
    assert mp.gradcheck(lambda x, w, b: layer(x), x, layer.weight, layer.bias)


def test_frozen_linear_weight_costs_no_weight_gradient_gemm(randn):
    layer = Linear(3, 4)
    x = randn(2, 3, requires_grad=True).astype("float32")
    layer.weight.requires_grad = False
    with count_gemms() as count:
        layer(x).sum().backward()
    assert count.calls == 2  # forward x W, backward dx = dy W^T; no dW = x^T dy
    assert layer.weight.grad is None and layer.bias.grad is not None


def test_embedding_gradcheck_and_repeated_ids_add_up(float64):
    table = float64(Embedding(6, 3))
    ids = np.array([[1, 4, 1], [0, 1, 5]])
    assert mp.gradcheck(lambda w: table(ids), table.weight)
    table.weight.grad = None
    table(ids).sum().backward()
    np.testing.assert_array_equal(table.weight.grad[:, 0], [1, 3, 0, 0, 1, 1])  # id 1 was looked up 3 times


def test_layer_norm_gradcheck(float64, randn):
    norm = float64(LayerNorm(5))
    x = randn(2, 3, 5, requires_grad=True)
    assert mp.gradcheck(lambda x, g, b: norm(x), x, norm.weight, norm.bias)


def test_summing_a_layer_norm_output_gives_zero_gradient(float64, randn):
    # sum_i xhat_i = 0 whatever x is (with gamma = 1, beta = 0), so a plain sum cannot probe x's gradient
    norm = float64(LayerNorm(5))
    x = randn(2, 5, requires_grad=True)
    norm(x).sum().backward()
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-12)


def test_dropout_gradcheck_with_a_fixed_mask(float64, randn):
    drop = Dropout(0.5)
    x = randn(3, 4, requires_grad=True)

    def fn(x):
        mp.manual_seed(3)  # the same mask on every call
        return drop(x)

    assert mp.gradcheck(fn, x)
    kept = fn(x).numpy() != 0
    np.testing.assert_allclose(fn(x).numpy()[kept], 2 * x.numpy()[kept])  # survivors scaled by 1/(1-p)


def test_dropout_is_the_identity_in_eval_mode(randn):
    drop = Dropout(0.9).eval()
    x = randn(3, 4)
    assert drop(x) is x


def test_gelu_gradcheck(randn):
    x = randn(4, 5, requires_grad=True)
    assert mp.gradcheck(GELU(), x)


# ---- the Module API -----------------------------------------------------------------------------
def test_named_parameters_and_tied_weight_counted_once():
    model = TwoLayers()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["embed.weight", "hidden.weight", "hidden.bias", "norm.weight", "norm.bias"]  # no out.weight
    assert model.num_parameters() == 5 * 4 + 4 * 4 + 4 + 4 + 4


def test_containers_name_their_children():
    seq = Sequential(Linear(2, 3), GELU(), Linear(3, 1))
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(seq) == 3 and isinstance(seq[1], GELU)
    layers = ModuleList([Linear(2, 2), Linear(2, 2)])
    heads = ModuleDict({"sentiment": Linear(2, 2)})
    assert [n for n, _ in layers.named_parameters()][-1] == "1.bias"
    assert "sentiment" in heads and [n for n, _ in heads.named_parameters()] == ["sentiment.weight", "sentiment.bias"]


def test_train_and_eval_reach_every_submodule():
    model = Sequential(Linear(2, 2), Sequential(Dropout(0.5)))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_freeze_unfreeze_and_trainable_count():
    model = TwoLayers()
    total = model.num_parameters()
    model.hidden.freeze()
    assert model.num_parameters(trainable_only=True) == total - (16 + 4)
    assert [n for n, _ in model.named_parameters(trainable_only=True)] == ["embed.weight", "norm.weight", "norm.bias"]
    model.freeze()
    assert model.num_parameters(trainable_only=True) == 0 and model.num_parameters() == total
    model.unfreeze()
    assert model.num_parameters(trainable_only=True) == total


def test_state_dict_round_trip_and_copy():
    source, target = TwoLayers(), TwoLayers()
    state = source.state_dict()
    assert list(state) == ["embed.weight", "hidden.weight", "hidden.bias", "norm.weight", "norm.bias"]
    target.load_state_dict(state)
    ids = np.array([[0, 3, 4]])
    np.testing.assert_array_equal(target(ids).numpy(), source(ids).numpy())
    assert target.out.weight is target.embed.weight  # loading keeps the tie
    state["hidden.bias"][:] = 100.0  # the state is a copy: editing it leaves the model alone
    assert not (source.hidden.bias.numpy() == 100.0).any()


@pytest.mark.parametrize("edit, error, message", [
    (lambda s: s.pop("hidden.bias"), KeyError, r"missing keys \['hidden.bias'\]"),
    (lambda s: s.update(extra=np.zeros(2)), KeyError, r"unexpected keys \['extra'\]"),
    (lambda s: s.update({"norm.weight": np.zeros(3)}), ValueError,
     r"norm.weight has shape \(4,\) in the model but \(3,\) in the state"),
])
def test_bad_state_dict_is_refused_and_leaves_the_model_unchanged(edit, error, message):
    model = TwoLayers()
    before = model.state_dict()
    state = {name: np.zeros_like(value) for name, value in before.items()}  # would overwrite everything
    edit(state)
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_load_allows_missing_keys():
    model = TwoLayers()
    model.load_state_dict({"hidden.bias": np.ones(4)}, strict=False)
    np.testing.assert_array_equal(model.hidden.bias.numpy(), 1.0)


def test_parameter_is_a_trainable_leaf():
    p = Parameter(np.zeros(3))
    assert p.requires_grad and p.is_leaf


# ---- bad input ---------------------------------------------------------------------------------
def test_embedding_rejects_ids_outside_the_table():
    table = Embedding(6, 3)
    with pytest.raises(IndexError, match=r"id 6 is outside the table of 6 rows \(valid ids are 0..5\)"):
        table(np.array([[0, 6]]))
    with pytest.raises(IndexError, match="id -1 is outside"):
        table(np.array([-1]))
    with pytest.raises(TypeError, match="ids must be integers"):
        table(np.array([0.0, 1.0]))


def test_linear_names_the_expected_input_shape():
    with pytest.raises(ValueError, match=r"Linear\(3, 4\): expected input of shape \(..., 3\), got \(2, 5\)"):
        Linear(3, 4)(mp.tensor(np.zeros((2, 5))))


def test_tied_weight_gradient_adds_both_uses(float64):
    model = float64(TwoLayers())
    ids = np.array([[0, 3, 4], [1, 1, 2]])
    assert mp.gradcheck(lambda w: model(ids), model.embed.weight)
