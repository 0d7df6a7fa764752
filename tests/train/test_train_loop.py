"""The shared training loop: the NaN guard, what History records, the progress line, frozen weights."""
import json

import numpy as np
import pytest

import minipeft as mp
from minipeft import functional as F
from minipeft.data import load_task
from minipeft.nn import BertForSequenceClassification
from minipeft.optim import SGD
from minipeft.train import History, NonFiniteLossError, finetune, train
from minipeft.train.finetune import endless
from minipeft.train.objectives import classification_loss


@pytest.fixture(scope="module")
def sentiment():
    return load_task("sentiment", seed=0, n_train=96, n_dev=48, n_test=64)


@pytest.fixture
def classifier(config):
    return BertForSequenceClassification(config, 2, pooling="mean")


def test_nan_loss_stops_training_and_names_the_step(classifier, sentiment):
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        loss = classification_loss(model, batch)
        return loss * float("nan") if calls["n"] == 3 else loss

    with pytest.raises(NonFiniteLossError, match="step 3") as err:
        train(classifier, endless(sentiment, "train", 16), 10, None, loss_fn, quiet=True)
    assert isinstance(err.value, FloatingPointError)
    assert err.value.step == 3 and np.isnan(err.value.losses["loss"])
    assert classifier.training  # the mode is restored even after the error


def test_the_bad_step_is_not_applied(classifier, sentiment):
    starts = []  # the weights each step started from

    def loss_fn(model, batch):
        starts.append(model.state_dict())
        loss = classification_loss(model, batch)
        return {"loss": loss, "bad": loss * float("inf")} if len(starts) == 2 else loss  # any named loss counts

    with pytest.raises(NonFiniteLossError, match=r"step 2.*bad=inf"):
        train(classifier, endless(sentiment, "train", 16), 5, None, loss_fn, schedule=None, quiet=True)
    after = classifier.state_dict()
    assert any(not np.array_equal(after[k], v) for k, v in starts[0].items())  # step 1 was applied
    assert all(np.array_equal(after[k], v) for k, v in starts[1].items())  # step 2 was not


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow warnings on the way to inf
def test_huge_learning_rate_is_caught(classifier, sentiment):
    with pytest.raises(FloatingPointError, match=r"step \d+: the (loss|gradient norm) is not finite"):
        finetune(classifier, sentiment, steps=20, batch_size=16, lr=1e30, warmup_fraction=0.0, quiet=True)


def test_history_records_every_step_and_is_json(classifier, sentiment):
    history = finetune(classifier, sentiment, steps=10, batch_size=16, lr=1e-3, warmup_fraction=0.2,
                       eval_every=5, quiet=True)
    assert history.steps == list(range(1, 11))
    assert len(history.losses["loss"]) == len(history.lr) == len(history.tokens_per_s) == 10
    assert len(history.grad_norm) == 10 and all(g > 0 for g in history.grad_norm)  # clip=1.0 by default
    assert history.lr[0] == 0.0 and max(history.lr) == pytest.approx(1e-3)  # 2 warm-up steps, then decay
    assert history.lr[2:] == sorted(history.lr[2:], reverse=True)
    assert all(t > 0 for t in history.tokens_per_s)
    assert history.time_s == sorted(history.time_s) and history.total_time_s >= history.time_s[-1]
    assert [e["step"] for e in history.evals] == [0, 5, 10]
    steps, accuracy = history.metric("accuracy")
    assert steps == [0, 5, 10] and all(0 <= a <= 1 for a in accuracy)
    assert history.settings["task"] == "sentiment" and history.settings["batch_size"] == 16
    text = json.dumps(history.to_dict())
    again = History.from_dict(json.loads(text))
    assert again.to_dict() == history.to_dict()
    with pytest.raises(KeyError, match="recorded"):
        history.metric("rouge1")


def test_progress_line_and_quiet(classifier, sentiment, capsys):
    finetune(classifier, sentiment, steps=6, batch_size=16, log_every=3)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "tok/s" in line]
    assert len(lines) == 2 and "eval at step 6" in out
    assert "step 6/6" in lines[-1] and "tok/s" in lines[-1] and "elapsed" in lines[-1] and "left" in lines[-1]
    finetune(classifier, sentiment, steps=3, batch_size=16, quiet=True)
    assert capsys.readouterr().out == ""


def test_evaluation_runs_in_eval_mode_without_gradients(classifier, sentiment):
    seen = []

    def eval_fn(model):
        seen.append((model.training, mp.autograd.is_grad_enabled()))
        return {"constant": 1.0}

    classifier.eval()
    train(classifier, endless(sentiment, "train", 16), 4, None, classification_loss, eval_fn=eval_fn,
          eval_every=2, quiet=True)
    assert seen == [(False, False)] * 3  # before training, at step 2, at step 4
    assert not classifier.training  # the caller's mode comes back


def test_only_trainable_parameters_are_trained(classifier, sentiment):
    classifier.bert.freeze()
    base = classifier.bert.state_dict()
    head = classifier.head.state_dict()
    history = finetune(classifier, sentiment, steps=5, batch_size=16, lr=1e-2, quiet=True)
    assert history.settings["trainable_parameters"] == classifier.head.num_parameters()
    for name, array in classifier.bert.state_dict().items():
        assert np.array_equal(array, base[name]), f"frozen weight {name} changed"
    assert any(not np.array_equal(a, head[n]) for n, a in classifier.head.state_dict().items())
    assert all(p.grad is None for p in classifier.parameters())  # gradients are dropped at the end


def test_prebuilt_optimizer_or_parameter_list(classifier, sentiment):
    head_only = classifier.head.parameters()
    base = classifier.bert.state_dict()
    history = train(classifier, endless(sentiment, "train", 16), 3, None, classification_loss,
                    params=head_only, quiet=True)
    assert all(np.array_equal(a, base[n]) for n, a in classifier.bert.state_dict().items())
    optimizer = SGD(classifier.parameters(), lr=0.1)
    history = train(classifier, endless(sentiment, "train", 16), 4, optimizer, classification_loss,
                    warmup_fraction=0.5, quiet=True)
    assert history.lr == [0.0, 0.05, 0.1, 0.05] and optimizer.lr == 0.1  # the schedule ends, the base rate stays
    history = train(classifier, endless(sentiment, "train", 16), 3, optimizer, classification_loss,
                    schedule=None, quiet=True)
    assert "SGD" in history.settings["optimizer"] and history.lr == [0.1] * 3
    with pytest.raises(ValueError, match="not both"):
        train(classifier, endless(sentiment, "train", 16), 3, optimizer, classification_loss, params=head_only)


def test_clear_errors(classifier, sentiment):
    with pytest.raises(ValueError, match="ran out after 2 of 5"):
        train(classifier, list(sentiment.batches("train", 48)), 5, None, classification_loss, quiet=True)
    with pytest.raises(TypeError, match="loss_fn"):
        train(classifier, endless(sentiment), 2, None, lambda m, b: 1.0, quiet=True)
    with pytest.raises(TypeError, match="loss_fn is required"):
        train(classifier, endless(sentiment), 2)
    classifier.freeze()
    with pytest.raises(ValueError, match="no trainable parameters"):
        train(classifier, endless(sentiment), 2, None, classification_loss)


def test_loss_fn_may_return_named_losses(classifier, sentiment):
    def loss_fn(model, batch):
        ce = classification_loss(model, batch)
        penalty = F.mean(model.head.classifier.weight * model.head.classifier.weight)
        return {"loss": ce + penalty, "ce": ce, "penalty": penalty, "logits": model.head.classifier.weight}

    history = train(classifier, endless(sentiment, "train", 16), 3, None, loss_fn, quiet=True)
    assert set(history.losses) == {"loss", "ce", "penalty"}
    assert history.losses["loss"][0] == pytest.approx(history.losses["ce"][0] + history.losses["penalty"][0],
                                                      rel=1e-5)
