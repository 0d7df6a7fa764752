"""BertConfig, parameter counts, BertModel, its heads, and the encoder-decoder."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.nn import (BertConfig, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
                         BertModel, EncoderDecoder, NextSentenceHead, SequenceClassificationHead,
                         SpanQAHead, count_parameters, parameter_breakdown)

# a BERT small enough for gradient checks: vocabulary 11, d 8, 2 heads, 1 layer
MICRO = dict(vocab_size=11, hidden_size=8, num_layers=1, num_heads=2, ff_size=16, max_position=8)
IDS = np.array([[1, 4, 6, 2, 0], [1, 7, 2, 3, 9]])
SEGMENTS = np.array([[0, 0, 0, 1, 1], [0, 0, 1, 1, 1]])
MASK = np.array([[True, True, True, True, False], [True, True, True, True, True]])


def micro(**overrides):
    return BertConfig.preset("tiny", **{**MICRO, **overrides})


# ---- config and counting ------------------------------------------------------------------------
def test_count_parameters_matches_hugging_face_bert_base_and_large():
    assert count_parameters(BertConfig.preset("base")) == 109_482_240
    assert count_parameters(BertConfig.preset("large")) == 335_141_888


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_count_parameters_equals_the_built_model(name):
    config = BertConfig.preset(name)
    assert count_parameters(config) == BertModel(config).num_parameters()
    assert sum(parameter_breakdown(config).values()) == count_parameters(config)


def test_parameter_breakdown_of_bert_base():
    parts = parameter_breakdown(BertConfig.preset("base"))
    assert parts["embeddings"] == (30522 + 512 + 2) * 768
    assert parts["attention"] == 12 * 4 * (768 * 768 + 768)
    assert parts["pooler"] == 768 * 768 + 768
    assert parameter_breakdown(BertConfig.preset("base", pooler=False))["pooler"] == 0


def test_presets():
    tiny = BertConfig.preset("tiny")
    assert (tiny.d_model, tiny.num_layers, tiny.num_heads, tiny.ff_size, tiny.vocab_size, tiny.max_position) == \
        (64, 2, 4, 256, 128, 64)
    assert tiny.init == "xavier" and BertConfig.preset("base").init == "bert"
    small = BertConfig.preset("small", dropout=0.2)
    assert (small.hidden_size, small.num_layers, small.vocab_size, small.dropout) == (128, 4, 1000, 0.2)
    assert BertConfig.preset("large").head_dim == 64


@pytest.mark.parametrize("change, error, message", [
    (dict(num_heads=3), ValueError, r"hidden_size \(64\) must be divisible by num_heads \(3\)"),
    (dict(num_layers=0), ValueError, "num_layers must be a positive integer, got 0"),
    (dict(vocab_size=-5), ValueError, "vocab_size must be a positive integer"),
    (dict(dropout=1.0), ValueError, r"dropout must be in \[0, 1\)"),
    (dict(init="he"), ValueError, "init must be one of"),
    (dict(hidden=64), TypeError, r"unknown fields \['hidden'\]"),
])
def test_config_rejects_bad_values(change, error, message):
    with pytest.raises(error, match=message):
        BertConfig.preset("tiny", **change)


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown preset 'huge'.*tiny"):
        BertConfig.preset("huge")


def test_bert_init_scheme_draws_linears_from_n_0_002():
    model = BertModel(BertConfig.preset("small", init="bert"))
    assert abs(float(model.layers[0].feed_forward.intermediate.weight.numpy().std()) - 0.02) < 1e-3
    xavier = BertModel(BertConfig.preset("small"))
    assert float(xavier.layers[0].feed_forward.intermediate.weight.numpy().std()) > 0.04


# ---- BertModel --------------------------------------------------------------------------------
def test_bert_model_shapes_and_attention_maps():
    model = BertModel(micro(num_layers=2))
    hidden, weights = model(IDS, SEGMENTS, MASK, return_weights=True)
    assert hidden.shape == (2, 5, 8) and model.pool(hidden).shape == (2, 8)
    assert len(weights) == 2 and weights[0].shape == (2, 2, 5, 5)
    np.testing.assert_array_equal(weights[1].numpy()[0, :, :, 4], 0.0)  # nobody attends to the padding


def test_bert_model_gradcheck_end_to_end(float64):
    model = float64(BertModel(micro()))
    layer = model.layers[0]
    weights = [model.embeddings.token.weight, model.embeddings.segment.weight, layer.attention.query.weight,
               layer.feed_forward.output.dense.weight, model.pooler.dense.bias]

    def fn(*_):
        hidden = model(IDS, SEGMENTS, MASK)
        return mp.concatenate([hidden[:, 1:3].reshape(2, -1), model.pool(hidden)], axis=1)

    assert mp.gradcheck(fn, *weights)


def test_padding_leaves_real_tokens_unchanged():
    model = BertModel(micro()).eval()
    short = model(IDS[:1, :3]).numpy()
    padded = model(np.array([[1, 4, 6, 0, 0]]), attention_mask=np.array([[1, 1, 1, 0, 0]])).numpy()
    np.testing.assert_allclose(padded[:, :3], short, atol=1e-5)


def test_state_dict_round_trip():
    source = BertModel(micro())
    mp.manual_seed(1)
    target = BertModel(micro())
    assert not np.allclose(source(IDS).numpy(), target(IDS).numpy())
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(source(IDS).numpy(), target(IDS).numpy())


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(input_ids=[[1, 11, 2]]), ValueError, r"token id 11 is outside the vocabulary of 11 \(valid ids are 0..10\)"),
    (dict(input_ids=[[1, -1, 2]]), ValueError, "token id -1 is outside the vocabulary of 11"),
    (dict(input_ids=[[1] * 9]), ValueError, r"sequences of length 9 are longer than the position table "
                                            r"\(max_position = 8\)"),
    (dict(input_ids=[1, 2, 3]), ValueError, r"input_ids: expected shape \(batch, length\), got \(3,\)"),
    (dict(input_ids=[[1.0, 2.0]]), TypeError, "token ids must be integers, got dtype float64"),
    (dict(input_ids=IDS, attention_mask=np.ones((2, 4), bool)), ValueError,
     r"attention_mask: expected shape \(batch, length\) = \(2, 5\), got \(2, 4\)"),
    (dict(input_ids=IDS, segment_ids=np.full((2, 5), 2)), ValueError,
     "segment_ids: token id 2 is outside the vocabulary of 2"),
    (dict(input_ids=IDS, segment_ids=np.zeros((2, 4), int)), ValueError,
     r"segment_ids: expected the shape of input_ids \(2, 5\), got \(2, 4\)"),
])
def test_bert_model_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        BertModel(micro())(**kwargs)


# ---- heads --------------------------------------------------------------------------------------
def test_mlm_head_gradcheck_with_the_tied_weight(float64, randn):
    model = float64(BertForPreTraining(micro()))
    hidden = randn(2, 3, 8, requires_grad=True)
    tied = model.mlm.decoder_weight
    assert mp.gradcheck(lambda h, *w: model.mlm(h), hidden, tied, model.mlm.dense.weight, model.mlm.bias)


def test_mlm_decoder_is_the_token_embedding_counted_once():
    config = micro()
    model = BertForPreTraining(config)
    assert model.mlm.decoder_weight is model.bert.embeddings.token.weight
    d, v = config.hidden_size, config.vocab_size
    heads = (d * d + d) + 2 * d + v + (2 * d + 2)  # MLM dense, MLM layer norm, MLM bias, NSP classifier
    assert model.num_parameters() == count_parameters(config) + heads
    assert "mlm.decoder_weight" not in model.state_dict()


def test_tied_weight_gets_gradient_from_both_uses(float64):
    # the token table is used twice (input lookup and MLM decoder): the two gradients add up
    model = float64(BertForPreTraining(micro()))
    table = model.bert.embeddings.token.weight
    assert mp.gradcheck(lambda t: model(IDS, SEGMENTS, MASK)["mlm_logits"][:, :2], table)


def test_nsp_and_classification_heads_gradcheck(float64, randn):
    config = micro()
    hidden, pooled = randn(2, 5, 8, requires_grad=True), randn(2, 8, seed=1, requires_grad=True)
    nsp = float64(NextSentenceHead(config))
    assert mp.gradcheck(lambda p, w: nsp(p), pooled, nsp.classifier.weight)
    cls = float64(SequenceClassificationHead(config, num_labels=3, pooling="cls"))
    assert mp.gradcheck(lambda p, w: cls(hidden, pooled=p), pooled, cls.classifier.weight)
    mean = float64(SequenceClassificationHead(config, num_labels=3, pooling="mean"))
    assert mp.gradcheck(lambda h, w: mean(h, MASK), hidden, mean.classifier.weight)


def test_mean_pooling_ignores_padding(float64, randn):
    head = float64(SequenceClassificationHead(micro(), num_labels=3, pooling="mean"))
    hidden = randn(2, 5, 8)
    changed = hidden.numpy().copy()
    changed[0, 4] = 50.0  # a padding position of the first sequence
    np.testing.assert_allclose(head(mp.tensor(changed, dtype="float64"), MASK).numpy(),
                               head(hidden, MASK).numpy())


def test_span_qa_head_gradcheck_and_padding(float64, randn):
    head = float64(SpanQAHead(micro()))
    hidden = randn(2, 5, 8, requires_grad=True)
    # probe positions 0..3 only: the huge constant at the padding would swamp the finite differences
    assert mp.gradcheck(lambda h, w: mp.stack(head(h, MASK), axis=0)[:, :, :4], hidden, head.qa_outputs.weight)
    start, end = head(hidden, MASK)
    assert start.shape == end.shape == (2, 5)
    assert start.numpy()[0, 4] < -1e300 and end.numpy()[0, 4] < -1e300  # padding is never the answer


def test_head_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be one of.*'max'"):
        SequenceClassificationHead(micro(), 2, pooling="max")


def test_task_models_return_logits_and_losses():
    config = micro()
    pre = BertForPreTraining(config)(IDS, SEGMENTS, MASK, mlm_labels=np.where(IDS > 5, IDS, -100),
                                     nsp_labels=[0, 1])
    assert pre["mlm_logits"].shape == (2, 5, 11) and pre["nsp_logits"].shape == (2, 2)
    np.testing.assert_allclose(pre["loss"].item(), pre["mlm_loss"].item() + pre["nsp_loss"].item(), rtol=1e-6)
    classifier = BertForSequenceClassification(config, num_labels=3, pooling="mean")
    out = classifier(IDS, attention_mask=MASK, labels=[2, 0])
    assert out["logits"].shape == (2, 3) and out["loss"].requires_grad
    qa = BertForQuestionAnswering(config)(IDS, attention_mask=MASK, start_positions=[1, 2], end_positions=[2, 4])
    assert qa["start_logits"].shape == (2, 5) and np.isfinite(qa["loss"].item())
    qa["loss"].backward()


# ---- encoder-decoder ------------------------------------------------------------------------------
def test_encoder_decoder_shares_one_token_table():
    model = EncoderDecoder(micro())
    table = model.encoder.embeddings.token.weight
    assert model.decoder_embeddings.token.weight is table
    assert [name for name, p in model.named_parameters() if p is table] == ["encoder.embeddings.token.weight"]


def test_encoder_decoder_logits_loss_and_gradcheck(float64):
    model = float64(EncoderDecoder(micro()))
    target = np.array([[1, 5, 6], [1, 8, 2]])
    logits = model(IDS, MASK, target)
    assert logits.shape == (2, 3, 11)
    labels = np.array([[5, 6, 2], [8, 2, -100]])
    loss = model.loss(IDS, MASK, target, labels)
    assert loss.shape == () and np.isfinite(loss.item())
    layer = model.decoder_layers[0]
    weights = [layer.cross_attention.key.weight, model.output_bias, model.decoder_embeddings.position.weight]
    assert mp.gradcheck(lambda *w: model(IDS, MASK, target), *weights)


def test_encoder_decoder_is_causal_in_the_target():
    model = EncoderDecoder(micro()).eval()
    before = model(IDS, MASK, np.array([[1, 5, 6, 7]])[[0, 0]]).numpy()
    after = model(IDS, MASK, np.array([[1, 5, 9, 3]])[[0, 0]]).numpy()
    np.testing.assert_allclose(after[:, :2], before[:, :2], atol=1e-5)


def test_greedy_decode_shape_and_stop_at_eos():
    model = EncoderDecoder(micro())
    free = model.greedy_decode(IDS, MASK, bos_id=1, eos_id=2, max_len=6)
    assert free.dtype == np.int64 and free.shape[0] == 2 and 1 <= free.shape[1] <= 6
    model.output_bias.data[2] = 1e6  # EOS always wins: every sequence stops after one token
    np.testing.assert_array_equal(model.greedy_decode(IDS, MASK, bos_id=1, eos_id=2, max_len=6), [[2], [2]])
    model.output_bias.data[2] = -1e6  # EOS never wins: decoding runs to max_len
    assert model.greedy_decode(IDS, MASK, bos_id=1, eos_id=2, max_len=6).shape == (2, 6)
    assert model.training  # the mode it was in comes back


def test_greedy_decode_pads_sequences_that_have_stopped():
    # a scripted decoder: sequence 0 says 3, EOS; sequence 1 says 4, 5, 6, EOS
    model = EncoderDecoder(micro())
    script = np.array([[3, 2, 7, 7], [4, 5, 6, 2]])

    def scripted_decode(target, memory, attention_mask=None):
        step = target.shape[1] - 1
        logits = np.zeros((2, step + 1, 11))
        logits[[0, 1], -1, script[:, step]] = 1.0
        return mp.tensor(logits)

    model.decode = scripted_decode
    out = model.greedy_decode(IDS, MASK, bos_id=1, eos_id=2, max_len=6, pad_id=0)
    np.testing.assert_array_equal(out, [[3, 2, 0, 0], [4, 5, 6, 2]])


def test_greedy_decode_rejects_a_length_beyond_the_position_table():
    with pytest.raises(ValueError, match=r"max_len must be in 1..8 \(the position table\), got 9"):
        EncoderDecoder(micro()).greedy_decode(IDS, MASK, bos_id=1, eos_id=2, max_len=9)
