"""add_adapter / set_adapter / disable_adapter / delete_adapter on real models, and training with them.

The promises tested here: adding an adapter changes nothing until it trains; training it
changes no base weight; switching it off gives the base model bit for bit; switching
between two trained adapters gives each one's outputs bit for bit; adapters learn (no
saddle); frozen weights cost no weight-gradient matrix product and no optimizer state.
"""
import math

import numpy as np
import pytest

import minipeft as mp
from minipeft.kernels.matmul import count_gemms
from minipeft.nn import BertConfig, BertForPreTraining, EncoderDecoder, LayerNorm, Linear
from minipeft.peft import (Adapter, AdapterConfig, active_adapter, add_adapter, adapter_parameter_count,
                           delete_adapter, disable_adapter, list_adapters, parameter_summary,
                           print_trainable_parameters, set_adapter)


# ---- identity at the start -------------------------------------------------------------------------
def test_zero_up_projection_leaves_the_outputs_bit_identical(kit):
    model = kit.classifier()
    ids, _ = kit.heldout()
    before = kit.logits(model, ids)
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    assert np.array_equal(kit.logits(model, ids), before)


def test_near_identity_adapters_change_the_outputs_only_within_float_tolerance(kit):
    model = kit.classifier()
    ids, _ = kit.heldout()
    before = kit.logits(model, ids)
    add_adapter(model, "task", AdapterConfig(bottleneck=4, up_init="normal", init_std=1e-4))
    change = np.abs(kit.logits(model, ids) - before).max()
    assert 0 < change < 1e-3


def test_identity_holds_in_pretraining_and_encoder_decoder_models_too():
    config = BertConfig.preset("tiny", hidden_size=16, num_layers=2, num_heads=2, vocab_size=30, ff_size=32)
    ids = np.random.default_rng(0).integers(0, 30, (2, 6))
    pretraining = BertForPreTraining(config).eval()
    seq2seq = EncoderDecoder(config).eval()
    with mp.no_grad():
        before = [pretraining(ids)["mlm_logits"].data, seq2seq(ids, None, ids).data]
        add_adapter(pretraining, "a", AdapterConfig(bottleneck=4))
        add_adapter(seq2seq, "a", AdapterConfig(bottleneck=4))
        after = [pretraining(ids)["mlm_logits"].data, seq2seq(ids, None, ids).data]
    assert all(np.array_equal(b, a) for b, a in zip(before, after))
    # the masked-LM decoder is the token table: tied to the body, so it stays frozen
    assert not pretraining.mlm.decoder_weight.requires_grad and pretraining.mlm.bias.requires_grad


def test_dropout_follows_train_and_eval_through_the_wrapper(kit):
    model = kit.classifier(config=BertConfig.preset("tiny", hidden_size=32, num_layers=2, vocab_size=50,
                                                    ff_size=64, max_position=16, dropout=0.3))
    ids, _ = kit.heldout()
    before = kit.logits(model, ids)
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    assert np.array_equal(kit.logits(model, ids), before)  # eval: no dropout anywhere
    model.train()
    assert all(m.training for m in model.modules())
    first, second = model(ids)["logits"].data, model(ids)["logits"].data
    assert not np.array_equal(first, second)  # train: the wrapped dropout is on


# ---- what trains -----------------------------------------------------------------------------------------
def test_add_adapter_freezes_the_base_and_trains_adapters_layer_norms_and_head(kit):
    model = kit.classifier()
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    trainable = dict(model.named_parameters(trainable_only=True))
    for name, param in model.named_parameters():
        module = model
        for part in name.split(".")[:-1]:
            module = module._modules[part]
        in_a_layer = name.startswith("bert.layers.")  # by default the embeddings' norm stays frozen
        expected = ".adapters." in name or (isinstance(module, LayerNorm) and in_a_layer) or name.startswith("head.")
        assert param.requires_grad == expected, name
    d, layers = 32, 2
    layer_norms = 2 * layers * 2 * d
    head = d * 2 + 2
    assert sum(p.size for p in trainable.values()) == adapter_parameter_count(d, 4, layers) + layer_norms + head


def test_layer_norms_of_the_transformer_layers_only(kit):
    """train_layer_norms="layers": the embeddings' layer norm stays frozen, as in Houlsby et al.'s count
    (BERT-Large: 24 x 2 x 2 x 1024 = 98,304), and the backward stops below the first adapter."""
    model = kit.classifier()
    add_adapter(model, "task", AdapterConfig(bottleneck=4, train_layer_norms="layers"))
    names = [n for n, _ in model.named_parameters(trainable_only=True) if "norm" in n]
    assert len(names) == 2 * 2 * 2 and not any(n.startswith("bert.embeddings") for n in names)
    assert model.num_parameters(trainable_only=True) == adapter_parameter_count(32, 4, 2) + 2 * 2 * 2 * 32 + 66
    ids, labels = kit.halves(np.random.default_rng(0), n=4)

    def backward_gemms(model):
        loss = model(ids, labels=labels)["loss"]
        with count_gemms() as count:
            loss.backward()
        return count.calls

    every_norm = kit.classifier()
    add_adapter(every_norm, "task", AdapterConfig(bottleneck=4, train_layer_norms=True))
    assert backward_gemms(model) < backward_gemms(every_norm)  # nothing below layer 0's first adapter trains


def test_print_trainable_parameters_states_both_denominators(kit, capsys):
    model = kit.classifier()
    base = model.num_parameters()
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    text = print_trainable_parameters(model)
    assert capsys.readouterr().out.strip() == text
    summary = parameter_summary(model)
    adapters = adapter_parameter_count(32, 4, 2)
    assert summary["adapters"] == adapters and summary["base"] == base and summary["total"] == base + adapters
    assert f"of {base + adapters:,} parameters" in text and "denominator = all parameters" in text
    assert f"of the base model alone ({base:,})" in text
    assert summary["trainable_fraction_of_base"] > summary["trainable_fraction"]


def test_the_printed_model_marks_the_adapters(kit):
    model = kit.classifier()
    add_adapter(model, "sentiment", AdapterConfig(bottleneck=4))
    text = repr(model)
    assert text.count("AdapterWrapper(wraps SublayerOutput; adapters: {sentiment: m=4}, active='sentiment'") == 4
    assert "Adapter(32 -> 4 -> 32, gelu" in text


def test_base_weights_keep_their_names(kit):
    model = kit.classifier()
    names = list(model.state_dict())
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    assert [n for n in model.state_dict() if ".adapters." not in n] == names


# ---- training ---------------------------------------------------------------------------------------------
def test_every_base_weight_is_bit_identical_after_adapter_training(kit):
    model = kit.classifier()
    before = model.state_dict()
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    kit.train_steps(model, 5)
    now = model.state_dict()
    moved = [n for n in before if not np.array_equal(now[n], before[n])]
    assert moved and all("norm" in n or n.startswith("head.") for n in moved)  # only the adapter's own copies
    with disable_adapter(model):
        base_now = model.state_dict()
    for name, array in before.items():
        assert np.array_equal(base_now[name], array), name


def adapter_trained_for_5_steps(kit):
    """A classifier, held-out ids, its logits before adding an adapter ("base") and after 5 steps
    of training one ("tuned")."""
    model = kit.classifier()
    ids, _ = kit.heldout()
    base = kit.logits(model, ids)
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    kit.train_steps(model, 5)
    return model, ids, base, kit.logits(model, ids)


def test_disable_adapter_gives_the_base_outputs_exactly_even_after_training(kit):
    model, ids, base, tuned = adapter_trained_for_5_steps(kit)
    assert not np.allclose(tuned, base)
    with disable_adapter(model):
        assert active_adapter(model) is None
        assert np.array_equal(kit.logits(model, ids), base)  # base layer norms and head are back
        assert model.parameters(trainable_only=True) == []
    assert active_adapter(model) == "task"
    assert np.array_equal(kit.logits(model, ids), tuned)
    set_adapter(model, None)
    assert np.array_equal(kit.logits(model, ids), base)


def test_disable_adapter_in_some_layers_only_keeps_the_adapters_layer_norms_and_head(kit):
    """Houlsby's ablation: take the adapters out of some layers at test time."""
    model, ids, base, tuned = adapter_trained_for_5_steps(kit)
    wrappers = [model.bert.layers[i].attention.output for i in (0, 1)]
    with disable_adapter(model, layers=[1]):
        assert [w.active for w in wrappers] == ["task", None]
        top_off = kit.logits(model, ids)
    with disable_adapter(model, layers=[0, 1]):
        all_off = kit.logits(model, ids)
        assert active_adapter(model) == "task"  # its layer norms and head are still in place
    assert [w.active for w in wrappers] == ["task", "task"]
    assert np.array_equal(kit.logits(model, ids), tuned)
    for out in (top_off, all_off):
        assert not np.array_equal(out, tuned) and not np.array_equal(out, base)
    with pytest.raises(ValueError, match=r"layers \[4\] hold no adapters; the layers with adapters are \[0, 1\]"):
        with disable_adapter(model, layers=[4]):
            pass


def test_adapters_learn_from_the_first_steps_no_saddle(kit):
    """Only the adapters train here (head and layer norms frozen): the loss must still fall far below chance."""
    model = kit.classifier()
    add_adapter(model, "task", AdapterConfig(bottleneck=4, train_layer_norms=False, train_head=False))
    assert all(".adapters." in n for n, _ in model.named_parameters(trainable_only=True))
    losses = kit.train_steps(model, 30)
    ids, labels = kit.heldout()
    model.eval()
    with mp.no_grad():
        heldout_loss = float(model(ids, labels=labels)["loss"].data)
    assert heldout_loss < 0.5 * math.log(2), (losses[::5], heldout_loss)
    assert kit.accuracy(model, ids, labels) >= 0.9


def test_swapping_between_two_trained_adapters_reproduces_each_exactly(kit):
    model = kit.classifier()
    ids, labels = kit.heldout()
    add_adapter(model, "plain", AdapterConfig(bottleneck=4))
    kit.train_steps(model, 30, flip=False)
    plain = kit.logits(model, ids)
    add_adapter(model, "flipped", AdapterConfig(bottleneck=4))
    assert active_adapter(model) == "flipped" and list_adapters(model) == ["plain", "flipped"]
    kit.train_steps(model, 30, flip=True, seed=1)
    flipped = kit.logits(model, ids)
    set_adapter(model, "plain")
    assert np.array_equal(kit.logits(model, ids), plain)
    score_plain = kit.accuracy(model, ids, labels)
    set_adapter(model, "flipped")
    assert np.array_equal(kit.logits(model, ids), flipped)
    score_flipped = kit.accuracy(model, ids, 1 - labels)
    assert score_plain >= 0.9 and score_flipped >= 0.9  # two opposite label mappings, one frozen base
    set_adapter(model, "plain")
    assert kit.accuracy(model, ids, labels) == score_plain


def test_each_adapter_has_its_own_layer_norms_and_head(kit):
    model = kit.classifier()
    base_gamma = model.bert.layers[0].attention_norm.weight
    add_adapter(model, "a", AdapterConfig(bottleneck=4))
    gamma_a, head_a = model.bert.layers[0].attention_norm.weight, model.head.classifier.weight
    add_adapter(model, "b", AdapterConfig(bottleneck=4))
    gamma_b = model.bert.layers[0].attention_norm.weight
    assert len({id(base_gamma), id(gamma_a), id(gamma_b)}) == 3
    assert gamma_b.requires_grad and not gamma_a.requires_grad and not base_gamma.requires_grad
    assert not head_a.requires_grad and model.head.classifier.weight.requires_grad
    trainable = model.parameters(trainable_only=True)
    assert all(model.bert.layers[0].attention.output.adapters["a"].down.weight is not p for p in trainable)


def test_an_adapter_step_computes_no_weight_gradient_for_frozen_linears(kit):
    """Each trainable Linear costs 2 GEMMs in backward (dx, dW), a frozen one only dx.

    With adapters the backward drops the dW GEMM of every frozen Linear and adds 4 per adapter
    (dx and dW of its two small projections); those are tiny, so the FLOPs fall a lot.
    """
    ids, labels = kit.halves(np.random.default_rng(0), n=4)

    def backward_gemms(model):
        model.zero_grad()
        loss = model(ids, labels=labels)["loss"]
        with count_gemms() as count:
            loss.backward()
        return count

    model = kit.classifier()
    full = backward_gemms(model)
    # every layer norm trains (the embeddings' too), so the gradient runs all the way down
    add_adapter(model, "task", AdapterConfig(bottleneck=4, train_layer_norms=True))
    adapter = backward_gemms(model)
    frozen_linears = [m for m in model.bert.layers.modules() if isinstance(m, Linear) and not m.weight.requires_grad]
    adapters = [m for m in model.modules() if isinstance(m, Adapter)]
    assert len(frozen_linears) == 6 * 2 and len(adapters) == 2 * 2
    assert adapter.calls == full.calls - len(frozen_linears) + 4 * len(adapters)
    assert adapter.flops < 0.7 * full.flops
    assert all(m.weight.grad is None for m in frozen_linears)
    assert all(p.grad is not None for p in model.parameters(trainable_only=True))


def test_an_optimizer_holds_state_only_for_the_trainable_parameters(kit):
    model = kit.classifier()
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    trainable = model.parameters(trainable_only=True)
    optimizer = mp.optim.Adam(model.parameters(), lr=1e-2)  # even given everything, it keeps the trainable ones
    assert [id(p) for p in optimizer.params] == [id(p) for p in trainable]
    ids, labels = kit.halves(np.random.default_rng(0), n=8)
    model(ids, labels=labels)["loss"].backward()
    optimizer.step()
    assert {id(p) for p in optimizer.state} == {id(p) for p in trainable}
    assert optimizer.state_size_bytes() == 2 * 4 * sum(p.size for p in trainable)  # Adam: two float32 moments


# ---- removing -------------------------------------------------------------------------------------------
def test_deleting_the_last_adapter_restores_the_model_exactly(kit):
    model = kit.classifier()
    before = kit.snapshot(model)
    add_adapter(model, "a", AdapterConfig(bottleneck=4))
    kit.train_steps(model, 3)
    add_adapter(model, "b", AdapterConfig(bottleneck=2, layers=[1]))
    delete_adapter(model, "b")
    assert list_adapters(model) == ["a"] and active_adapter(model) is None
    delete_adapter(model, "a")
    assert list_adapters(model) == [] and active_adapter(model) is None
    kit.assert_same(before, kit.snapshot(model))


def test_disable_adapter_on_a_model_without_adapters_is_a_no_op(kit):
    model = kit.classifier()
    before = kit.snapshot(model)
    with disable_adapter(model):
        pass
    kit.assert_same(before, kit.snapshot(model))


# ---- bad input: a clear error, and the model left as it was -------------------------------------------------
def test_adding_a_name_twice_is_an_error_that_changes_nothing(kit):
    model = kit.classifier()
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=r"already has an adapter named 'task' \(it has \['task'\]\)"):
        add_adapter(model, "task", AdapterConfig(bottleneck=8))
    kit.assert_same(before, kit.snapshot(model))


def test_activating_a_missing_adapter_lists_the_available_ones(kit):
    model = kit.classifier()
    add_adapter(model, "sentiment", AdapterConfig(bottleneck=4))
    add_adapter(model, "pair", AdapterConfig(bottleneck=4))
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=r"no adapter named 'sentimnet'; it has \['sentiment', 'pair'\]"):
        set_adapter(model, "sentimnet")
    with pytest.raises(ValueError, match="no adapter named 'x'"):
        delete_adapter(model, "x")
    kit.assert_same(before, kit.snapshot(model))
    with pytest.raises(ValueError, match="the model has no adapters"):
        set_adapter(kit.classifier(), "sentiment")


@pytest.mark.parametrize("bottleneck", [33, 1000])
def test_a_bottleneck_wider_than_d_is_an_error_that_changes_nothing(kit, bottleneck):
    model = kit.classifier()
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=f"bottleneck m = {bottleneck} is larger than the model's hidden size "
                                         f"d = 32; .* choose 1 <= m <= 32"):
        add_adapter(model, "task", AdapterConfig(bottleneck=bottleneck))
    kit.assert_same(before, kit.snapshot(model))
    add_adapter(model, "task", AdapterConfig(bottleneck=32))  # m = d is allowed


def test_a_bottleneck_of_zero_or_less_never_reaches_the_model():
    for m in (0, -1):
        with pytest.raises(ValueError, match="bottleneck must be a positive integer"):
            AdapterConfig(bottleneck=m)


def test_other_bad_adapters_are_errors_that_change_nothing(kit):
    model = kit.classifier()
    add_adapter(model, "a", AdapterConfig(bottleneck=4))
    before = kit.snapshot(model)
    with pytest.raises(ValueError, match=r"layers \[5\] do not exist; the model's layers are numbered 0..1"):
        add_adapter(model, "b", AdapterConfig(bottleneck=4, layers=[0, 5]))
    for bad in ("has.dot", "", "_private", "keys", "training", "train", 3):
        with pytest.raises(ValueError, match="an adapter name must be a Python identifier"):
            add_adapter(model, bad, AdapterConfig(bottleneck=4))
    with pytest.raises(TypeError, match="config must be an AdapterConfig"):
        add_adapter(model, "b", {"bottleneck": 4})
    kit.assert_same(before, kit.snapshot(model))
    with pytest.raises(ValueError, match="has no Transformer layers"):
        add_adapter(Linear(4, 4), "a", AdapterConfig(bottleneck=2))
