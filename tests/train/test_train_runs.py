"""Short real runs: pre-training lowers its loss, fine-tuning learns sentiment, qa and summarization run."""
import numpy as np
import pytest

from minipeft.data import PretrainingCorpus, load_task
from minipeft.nn import (BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
                         EncoderDecoder, RNNClassifier)
from minipeft.train import evaluate, finetune, polarity_probe_fn, predict, pretrain
from minipeft.train.evaluate import best_spans


def in_unit_interval(metrics, keys):
    return all(key in metrics and 0.0 <= metrics[key] <= 1.0 for key in keys)


def test_quick_pretrain_lowers_the_loss_and_records_everything(config, tokenizer):
    model = BertForPreTraining(config)
    corpus = PretrainingCorpus(200, seed=0, tokenizer=tokenizer)
    history = pretrain(model, corpus, steps=30, batch_size=16, eval_every=15,
                       probe_fn=polarity_probe_fn(tokenizer, n=32), quiet=True)
    assert history.name == "pretrain" and history.steps == list(range(1, 31))
    assert set(history.losses) == {"loss", "mlm_loss", "nsp_loss"}
    total, parts = np.array(history.losses["loss"]), np.add(history.losses["mlm_loss"], history.losses["nsp_loss"])
    assert np.allclose(total, parts, rtol=1e-5)
    assert history.mean_loss("mlm_loss", last=5) < history.mean_loss("mlm_loss", first=5) - 0.3
    assert max(history.lr) == pytest.approx(3e-3) and history.lr[-1] < 3e-4  # warm-up, then linear decay
    assert [e["step"] for e in history.evals] == [0, 15, 30]
    keys = ["mlm_accuracy", "nsp_accuracy", "probe_seen", "probe_unseen", "probe_negated_seen",
            "probe_negated_unseen"]
    assert all(in_unit_interval(e, keys) for e in history.evals)
    assert history.evals[-1]["mlm_accuracy"] > history.evals[0]["mlm_accuracy"]
    assert history.settings["mask_prob"] == 0.25 and history.settings["betas"] == (0.9, 0.98)


def test_pretrain_needs_the_pretraining_model(config, tokenizer):
    with pytest.raises(TypeError, match="BertForPreTraining"):
        pretrain(BertForSequenceClassification(config, 2), PretrainingCorpus(10, tokenizer=tokenizer), 1)


def test_finetune_learns_sentiment(config):
    task = load_task("sentiment", seed=0, n_train=200, n_dev=100, n_test=100)
    model = BertForSequenceClassification(config, task.num_labels, pooling="mean")
    history = finetune(model, task, steps=60, batch_size=32, lr=3e-3, eval_every=30, quiet=True)
    assert history.mean_loss(last=5) < history.mean_loss(first=5)
    assert history.evals[-1]["accuracy"] >= 0.8  # dev: seen adjectives, negation included
    result = evaluate(model, task, "test")
    assert in_unit_interval(result, ["accuracy", "accuracy_seen", "accuracy_unseen"])
    seen = task.test.seen
    assert result["accuracy"] == pytest.approx((result["accuracy_seen"] * seen.sum()
                                                + result["accuracy_unseen"] * (~seen).sum()) / len(seen))
    assert "accuracy_unseen" not in evaluate(model, task, "dev")  # dev has seen adjectives only
    assert predict(model, task, "test").shape == (len(task.test),)


def test_finetune_qa_smoke(config):
    task = load_task("qa", seed=0, n_train=48, n_dev=24, n_test=24)
    model = BertForQuestionAnswering(config)
    history = finetune(model, task, steps=4, batch_size=16, quiet=True)
    assert in_unit_interval(history.last_eval, ["exact_match", "f1"])
    assert history.last_eval["f1"] >= history.last_eval["exact_match"]
    spans = predict(model, task, "test")
    assert spans.shape == (24, 2) and (spans[:, 0] <= spans[:, 1]).all()


def test_finetune_summarization_smoke(config, tokenizer):
    task = load_task("summarization", seed=0, n_train=32, n_dev=16, n_test=16)
    model = EncoderDecoder(config)
    history = finetune(model, task, steps=3, batch_size=16, quiet=True, max_summary_len=8)
    assert in_unit_interval(history.last_eval, ["rouge1", "rougeL", "exact_match"])
    assert history.last_eval["rouge1"] >= history.last_eval["rougeL"]
    summaries = predict(model, task, "test", max_summary_len=8)
    assert len(summaries) == 16 and all(len(s) <= 8 for s in summaries)
    assert tokenizer.sep_id not in summaries[0]


def test_a_frozen_base_stays_bit_identical(config):
    task = load_task("sentiment", seed=0, n_train=64, n_dev=32, n_test=32)
    model = BertForSequenceClassification(config, 2, pooling="mean")
    model.bert.freeze()
    before = model.bert.state_dict()
    finetune(model, task, steps=5, batch_size=16, lr=1e-2, weight_decay=0.1, quiet=True)
    assert all(np.array_equal(a, before[n]) for n, a in model.bert.state_dict().items())


def test_the_rnn_baseline_finetunes_too(tokenizer):
    task = load_task("sentiment", seed=0, n_train=64, n_dev=32, n_test=32)
    model = RNNClassifier(tokenizer.vocab_size, 16, 16, 2)
    history = finetune(model, task, steps=3, batch_size=16, quiet=True)
    assert in_unit_interval(history.last_eval, ["accuracy"])


def test_model_and_task_must_match(config):
    task = load_task("sentiment", seed=0, n_train=16, n_dev=8, n_test=8)
    with pytest.raises(TypeError, match="BertForSequenceClassification"):
        finetune(BertForQuestionAnswering(config), task, steps=1)
    with pytest.raises(ValueError, match="2 classes but the model's head has 3"):
        evaluate(BertForSequenceClassification(config, 3), task)
    with pytest.raises(TypeError, match="EncoderDecoder"):
        finetune(BertForSequenceClassification(config, 2), load_task("summarization", n_train=4, n_dev=2,
                                                                       n_test=2), steps=1)


def test_best_spans_never_end_before_they_start():
    start = np.array([[0.0, 1.0, 9.0, 0.0]])
    end = np.array([[0.0, 8.0, 0.0, 2.0]])  # argmax(end) = 1 lies before argmax(start) = 2
    allowed = np.ones((1, 4), dtype=bool)
    assert best_spans(start, end, allowed).tolist() == [[2, 3]]
    assert best_spans(start, end, allowed, max_answer_len=1).tolist() == [[1, 1]]
    allowed[0, 1] = False
    assert best_spans(start, end, allowed).tolist() == [[2, 3]]
