"""minipeft.train.sweeps: task models that share the pre-trained encoder, the fine-tuning methods
(what each leaves trainable), a fit-and-score run, and fresh copies of the pre-trained model.

The shared encoder is what lets lesson 07 measure forgetting: the BertForPreTraining beside a
classifier sees every change full fine-tuning makes, and none that adapter training makes.
"""
import os

import numpy as np
import pytest

from minipeft.data import PretrainingCorpus, load_task
from minipeft.nn import BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, EncoderDecoder
from minipeft.peft import AdapterConfig, disable_adapter
from minipeft.train import pretraining_metrics, save_checkpoint
from minipeft.train.sweeps import (METHODS, choose_trainable, fit, fresh_pretrained, score, shared_task_model,
                                   step_times_ms)


@pytest.fixture(scope="module")
def tasks():
    return {name: load_task(name, seed=0, n_train=48, n_dev=16, n_test=32)
            for name in ("sentiment", "qa", "summarization")}


@pytest.fixture
def pretrained(config):
    return BertForPreTraining(config)


def trainable_names(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def test_classifier_and_qa_models_share_the_encoder_and_seq2seq_copies_it(pretrained, tasks):
    classifier = shared_task_model(pretrained, tasks["sentiment"], seed=0)
    assert isinstance(classifier, BertForSequenceClassification) and classifier.bert is pretrained.bert
    assert classifier.head.pooling == "mean"
    qa = shared_task_model(pretrained, tasks["qa"], seed=0)
    assert isinstance(qa, BertForQuestionAnswering) and qa.bert is pretrained.bert
    seq2seq = shared_task_model(pretrained, tasks["summarization"], seed=0)
    assert isinstance(seq2seq, EncoderDecoder) and seq2seq.encoder is not pretrained.bert
    copied = seq2seq.encoder.state_dict()
    for name, array in pretrained.bert.state_dict().items():
        if not name.startswith("pooler."):
            assert np.array_equal(copied[name], array), name


def test_the_seed_fixes_the_new_head(pretrained, tasks):
    a = shared_task_model(pretrained, tasks["sentiment"], seed=3).head.state_dict()
    b = shared_task_model(pretrained, tasks["sentiment"], seed=3).head.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_each_method_trains_what_it_says(pretrained, tasks, config):
    task = tasks["sentiment"]
    counts = {}
    for method, choice in (("full", {}), ("adapter", {"adapter": AdapterConfig(bottleneck=2)}),
                           ("top_layers", {"k": 1}), ("layer_norm", {}), ("head", {})):
        model = shared_task_model(BertForPreTraining(config), task, seed=0)
        summary = choose_trainable(model, method, **choice)
        names = trainable_names(model)
        counts[method] = summary["trainable"]
        assert summary["trainable"] == sum(p.size for p in model.parameters(trainable_only=True))
        if method == "full":
            assert names == {name for name, _ in model.named_parameters()}
        elif method == "head":
            assert names == {"head.classifier.weight", "head.classifier.bias"}
        elif method == "layer_norm":
            assert names - {"head.classifier.weight", "head.classifier.bias"} == {
                n for n, _ in model.named_parameters() if "_norm." in n and n.startswith("bert.layers.")}
        elif method == "top_layers":
            top = f"bert.layers.{config.num_layers - 1}."
            assert all(n.startswith(top) or n.startswith("head.") for n in names)
            assert any(n.startswith(top) for n in names)
        else:
            assert any(".adapters." in n for n in names) and not any(n.endswith("dense.weight") and
                                                                      ".adapters." not in n for n in names)
    assert counts["head"] < counts["layer_norm"] < counts["adapter"] < counts["top_layers"] < counts["full"]
    assert METHODS == ("full", "adapter", "top_layers", "layer_norm", "head")


def test_bad_choices_are_clear_errors(pretrained, tasks):
    model = shared_task_model(pretrained, tasks["sentiment"], seed=0)
    with pytest.raises(ValueError, match="method must be one of"):
        choose_trainable(model, "lora")
    with pytest.raises(ValueError, match="top_layers needs k"):
        choose_trainable(model, "top_layers", k=5)
    seq2seq = shared_task_model(pretrained, tasks["summarization"], seed=0)
    with pytest.raises(ValueError, match="needs a model with a `bert` encoder and a `head`"):
        choose_trainable(seq2seq, "layer_norm")
    with pytest.raises(TypeError, match="pre-trained BertForPreTraining"):
        shared_task_model(pretrained.bert, tasks["sentiment"])


def test_fit_trains_scores_and_times(pretrained, tasks):
    task = tasks["sentiment"]
    model = shared_task_model(pretrained, task, seed=0)
    choose_trainable(model, "adapter", adapter=AdapterConfig(bottleneck=2))
    run = fit(model, task, steps=6, lr=1e-2, seed=0, batch_size=8)
    assert run["score"] == run["metrics"]["accuracy"] == score(task, run["metrics"])
    assert 0.0 <= run["score"] <= 1.0 and run["step_ms"] > 0 and run["train_time_s"] > 0
    assert run["trainable"] < run["total"] and run["trainable_fraction"] == run["trainable"] / run["total"]
    assert len(step_times_ms(run["history"])) == 6


def test_forgetting_through_the_shared_encoder(config, tasks, tokenizer):
    """Full fine-tuning changes the pre-trained model's MLM predictions; adapters, once disabled, do not."""
    task = tasks["sentiment"]
    heldout = PretrainingCorpus(20, seed=0, split="heldout", tokenizer=tokenizer).fixed_batches(1, 16)
    results = {}
    for method in ("full", "adapter"):
        pretrained = BertForPreTraining(config)
        pretrained.load_state_dict(BertForPreTraining(config).state_dict())  # a fixed start
        before = pretraining_metrics(pretrained, heldout)["mlm_loss"]
        model = shared_task_model(pretrained, task, seed=0)
        choose_trainable(model, method, adapter=AdapterConfig(bottleneck=2))
        fit(model, task, steps=5, lr=1e-2, seed=0, batch_size=8)
        if method == "adapter":
            with disable_adapter(model):
                results[method] = (before, pretraining_metrics(pretrained, heldout)["mlm_loss"])
        else:
            results[method] = (before, pretraining_metrics(pretrained, heldout)["mlm_loss"])
    assert results["adapter"][0] == results["adapter"][1]
    assert results["full"][0] != results["full"][1]


def test_fresh_pretrained_reads_a_checkpoint(config, tmp_path):
    model = BertForPreTraining(config)
    path = tmp_path / "bert.npz"
    save_checkpoint(model, path)
    again = fresh_pretrained(path)
    assert again is not model
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_fresh_pretrained_gives_independent_copies_and_rereads_a_changed_file(config, tmp_path):
    path = tmp_path / "bert.npz"
    save_checkpoint(BertForPreTraining(config), path)
    first, second = fresh_pretrained(path), fresh_pretrained(path)
    first.bert.embeddings.token.weight.data[...] = 0.0  # training one copy leaves the next untouched
    assert np.any(second.bert.embeddings.token.weight.data != 0.0)
    assert np.any(fresh_pretrained(path).bert.embeddings.token.weight.data != 0.0)
    changed = BertForPreTraining(config)
    changed.bert.embeddings.token.weight.data[...] = 1.0
    save_checkpoint(changed, path)
    os.utime(path, ns=(1, 1))  # a new modification time, however fast the file was rewritten
    assert np.all(fresh_pretrained(path).bert.embeddings.token.weight.data == 1.0)
