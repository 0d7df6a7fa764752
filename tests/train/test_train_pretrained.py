"""The shipped pre-trained checkpoint: it loads safely, it is the model the recipe says, and it
still knows what pre-training taught it (the probes of lesson 04, on a small held-out sample)."""
import json
import zipfile

import numpy as np
import pytest

from minipeft.data import PretrainingCorpus, Tokenizer
from minipeft.nn import BertConfig, BertForPreTraining
from minipeft.serialization import CheckpointError
from minipeft.train import (RECIPE, History, compact_history, fill_mask, load_shipped_pretrained, polarity_probe_fn,
                            pretrained_path, pretraining_metrics)
from minipeft.train import shipped as shipped_module

THRESHOLD, NSP_THRESHOLD = 0.8, 0.65


@pytest.fixture(scope="module")
def shipped():
    """(model, meta, history) of the shipped checkpoint, loaded once for this file."""
    return load_shipped_pretrained()


def test_the_shipped_files_are_package_data_of_a_few_hundred_kb():
    path = pretrained_path()
    assert path.parent.name == "pretrained" and path.parent.parent.name == "data"
    assert path.with_suffix(".json").is_file(), "the JSON sidecar must ship beside the weights"
    assert 100_000 < path.stat().st_size < 1_500_000, f"{path.name} is {path.stat().st_size:,} bytes"
    setup = (path.parents[3] / "setup.cfg")
    if setup.is_file():  # a source checkout: the files must be declared as package data
        assert "data/pretrained/*.npz" in setup.read_text() and "data/pretrained/*.json" in setup.read_text()


def test_the_file_opens_without_pickle_and_holds_only_numbers():
    with np.load(pretrained_path(), allow_pickle=False) as archive:
        assert archive.files, "empty archive"
        for name in archive.files:
            assert not archive[name].dtype.hasobject, f"{name} holds Python objects"
    with zipfile.ZipFile(pretrained_path()) as archive:
        assert archive.testzip() is None


def test_its_config_is_the_tiny_preset_of_the_recipe(shipped):
    model, meta, _ = shipped
    tokenizer = Tokenizer.from_lexicon()
    expected = BertConfig.preset(RECIPE["preset"], vocab_size=tokenizer.vocab_size)
    assert model.bert.config == expected
    assert isinstance(model, BertForPreTraining) and meta["model"] == "BertForPreTraining"
    sidecar = json.loads(pretrained_path().with_suffix(".json").read_text())
    assert sidecar["config"] == meta["config"] and sidecar["fingerprint"] == meta["fingerprint"]


def test_it_records_how_it_was_made(shipped):
    _, meta, history = shipped
    extra = meta["extra"]
    assert extra["command"].startswith("python -m lessons 4 --retrain --save-shipped")
    recipe = {k: (tuple(v) if isinstance(v, list) else v) for k, v in extra["recipe"].items()}
    assert recipe == RECIPE
    assert extra["seed"] == 0 and extra["total_time_s"] > 0
    assert isinstance(history, History)
    assert history.steps[-1] == RECIPE["steps"]
    steps, values = history.metric("probe_unseen")
    assert steps[0] == 0 and steps[-1] == RECIPE["steps"] and len(steps) == RECIPE["steps"] // 250 + 1
    assert abs(values[0] - 0.5) < 0.05, "before training the probe must be at chance"
    assert set(history.losses) >= {"loss", "mlm_loss", "nsp_loss"}


def test_it_passes_its_probes_on_a_fresh_heldout_sample(shipped):
    model, meta, _ = shipped
    tokenizer = Tokenizer.from_lexicon()
    probes = polarity_probe_fn(tokenizer, n=128, seed=7)(model)  # not the sentences used while training
    assert probes["probe_unseen"] >= THRESHOLD, probes
    assert probes["probe_negated_unseen"] >= THRESHOLD, probes
    assert probes["probe_seen"] >= THRESHOLD and probes["probe_negated_seen"] >= THRESHOLD, probes
    heldout = PretrainingCorpus(300, seed=meta["extra"]["seed"], split="heldout", tokenizer=tokenizer)
    metrics = pretraining_metrics(model, heldout.fixed_batches(4, 64, RECIPE["mask_prob"], seed=7))
    assert metrics["nsp_accuracy"] >= NSP_THRESHOLD, metrics
    assert metrics["mlm_accuracy"] > 0.55, metrics


def test_fill_mask_puts_unseen_positive_words_after_loves(shipped):
    model, _, _ = shipped
    tokenizer = Tokenizer.from_lexicon()
    top = fill_mask(model, tokenizer, [("alice loves the [MASK] cake .", "bob eats the cake ."),
                                       ("alice hates the [MASK] cake .", "bob eats the cake .")], k=3)
    assert all(len(row) == 3 and row[0][1] >= row[1][1] >= row[2][1] for row in top)
    positive, negative = ({"good", "great", "nice", "lovely", "superb", "wonderful", "pleasant", "brilliant"},
                          {"bad", "awful", "poor", "nasty", "terrible", "horrible", "dreadful", "boring"})
    assert {w for w, _ in top[0]} <= positive and {w for w, _ in top[1]} <= negative
    with pytest.raises(ValueError, match="exactly one \\[MASK\\]"):
        fill_mask(model, tokenizer, ["alice loves the cake ."])


def test_a_missing_checkpoint_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped_module, "pretrained_dir", lambda: tmp_path)
    with pytest.raises(CheckpointError, match="--retrain --save-shipped"):
        load_shipped_pretrained()
    assert pretrained_path(must_exist=False) == tmp_path / "bert_tiny.npz"


def test_compact_history_averages_blocks_and_keeps_every_evaluation():
    history = History(name="pretrain", steps=list(range(1, 11)), losses={"loss": [float(i) for i in range(1, 11)]},
                      lr=[1.0] * 10, tokens_per_s=[5.0] * 10, time_s=[0.1 * i for i in range(1, 11)],
                      evals=[{"step": 0, "acc": 0.123456789}, {"step": 10, "acc": 0.9}], total_time_s=1.234)
    compact = compact_history(history, block=4)
    assert compact.steps == [4, 8, 10]
    assert compact.losses["loss"] == [2.5, 6.5, 9.5]
    assert compact.time_s == [0.4, 0.8, 1.0]
    assert compact.evals == [{"step": 0, "acc": 0.12346}, {"step": 10, "acc": 0.9}]
    assert compact.settings["compacted_every"] == 4
    assert History.from_dict(json.loads(json.dumps(compact.to_dict()))).steps == compact.steps
