"""Checkpoints: exact round trips, and clear errors that leave both the model and the file untouched."""
import dataclasses
import json

import numpy as np
import pytest

import minipeft as mp
from minipeft.nn import BertForPreTraining, BertForSequenceClassification
from minipeft.serialization import CheckpointError
from minipeft.train import load_checkpoint, load_pretrained, save_checkpoint


@pytest.fixture
def batch(tokenizer):
    ids, segments = tokenizer.encode_pair("alice loves the [MASK] cake .", "bob eats the pie .")
    return {"input_ids": np.array([ids]), "segment_ids": np.array([segments]),
            "attention_mask": np.ones((1, len(ids)), dtype=bool)}


def outputs(model, batch):
    with mp.no_grad():
        out = model(batch["input_ids"], batch["segment_ids"], batch["attention_mask"])
    return {key: value.numpy() for key, value in out.items()}


def snapshot(model):
    return {name: array.copy() for name, array in model.state_dict().items()}


def same_weights(model, before):
    after = model.state_dict()
    return after.keys() == before.keys() and all(np.array_equal(after[k], before[k]) for k in before)


def files(path):
    """The bytes of the checkpoint and of its JSON sidecar."""
    return path.read_bytes(), path.with_suffix(".json").read_bytes()


@pytest.fixture
def saved(tmp_path, config):
    """A saved BertForPreTraining: (model, path)."""
    model = BertForPreTraining(config)
    path = tmp_path / "bert.npz"
    save_checkpoint(model, path, extra={"steps": 30, "note": "test"})
    return model, path


def test_round_trip_gives_bit_identical_outputs(tmp_path, config, batch):
    model = BertForPreTraining(config)
    path = tmp_path / "bert.npz"
    nbytes = save_checkpoint(model, path, extra={"steps": 30})
    assert nbytes == path.stat().st_size > 0
    mp.manual_seed(1)
    other = BertForPreTraining(config)  # different weights
    assert not np.array_equal(outputs(other, batch)["mlm_logits"], outputs(model, batch)["mlm_logits"])
    meta = load_checkpoint(other, path, expected_config=config)
    for key, value in outputs(model, batch).items():
        assert np.array_equal(outputs(other, batch)[key], value), key
    assert meta["extra"] == {"steps": 30}
    assert meta["model"] == "BertForPreTraining"
    assert meta["config"] == dataclasses.asdict(config)


def test_json_sidecar_describes_the_model_for_people(saved, config):
    model, path = saved
    described = json.loads(path.with_suffix(".json").read_text())
    assert described["config"]["hidden_size"] == config.hidden_size
    assert described["shapes"]["bert.embeddings.token.weight"] == [config.vocab_size, config.hidden_size]
    assert described["parameters"] == model.num_parameters()


def test_load_pretrained_rebuilds_the_model_from_the_file(saved, batch):
    model, path = saved
    mp.manual_seed(5)
    rebuilt, meta = load_pretrained(path)
    assert isinstance(rebuilt, BertForPreTraining)
    assert meta["extra"]["steps"] == 30
    assert np.array_equal(outputs(rebuilt, batch)["nsp_logits"], outputs(model, batch)["nsp_logits"])


def test_prefix_loads_the_pretrained_encoder_into_a_classifier(saved, config, batch):
    model, path = saved
    classifier = BertForSequenceClassification(config, 2)
    load_checkpoint(classifier.bert, path, prefix="bert.")
    for name, array in classifier.bert.state_dict().items():
        assert np.array_equal(array, model.bert.state_dict()[name]), name


def test_wrong_config_is_named_and_changes_nothing(saved, config):
    _, path = saved
    target = BertForPreTraining(config)
    before, on_disk = snapshot(target), files(path)
    wrong = dataclasses.replace(config, dropout=0.1, num_heads=4)
    with pytest.raises(CheckpointError, match="another config") as err:
        load_checkpoint(target, path, expected_config=wrong)
    assert "dropout" in str(err.value) and "num_heads" in str(err.value) and "hidden_size" not in str(err.value)
    assert same_weights(target, before)
    assert files(path) == on_disk


def test_wrong_shapes_are_named_and_change_nothing(saved, config):
    _, path = saved
    bigger = BertForPreTraining(dataclasses.replace(config, hidden_size=48, num_heads=4))
    before, on_disk = snapshot(bigger), files(path)
    with pytest.raises(CheckpointError, match="other shapes") as err:
        load_checkpoint(bigger, path)
    assert "bert.embeddings.token.weight" in str(err.value)
    assert same_weights(bigger, before)
    assert files(path) == on_disk


def test_missing_and_unexpected_keys_are_named(saved, config):
    _, path = saved
    classifier = BertForSequenceClassification(config, 2)
    before = snapshot(classifier)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(classifier, path)
    message = str(err.value)
    assert "missing from the file" in message and "head.classifier.weight" in message
    assert "not in the model" in message and "mlm." in message and "BertForPreTraining" in message
    assert same_weights(classifier, before)


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_damaged_files_give_clear_errors_and_stay_as_they_are(saved, config, damage):
    _, path = saved
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2])
    else:  # flip bytes in the middle of the weights
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])
    target = BertForPreTraining(config)
    before, on_disk = snapshot(target), files(path)
    with pytest.raises(CheckpointError, match="truncated|corrupted|altered|damaged"):
        load_checkpoint(target, path)
    with pytest.raises(CheckpointError):
        load_pretrained(path)
    assert same_weights(target, before)
    assert files(path) == on_disk


def test_interrupted_save_leaves_the_previous_checkpoint_intact(saved, monkeypatch, batch):
    model, path = saved
    on_disk = files(path)

    def power_cut(*args, **kwargs):
        raise KeyboardInterrupt("power cut in the middle of a save")

    monkeypatch.setattr(np, "savez", power_cut)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(model, path, extra={"steps": 60})
    monkeypatch.undo()
    assert files(path) == on_disk
    rebuilt, meta = load_pretrained(path)
    assert meta["extra"]["steps"] == 30


def test_other_errors_are_clear(tmp_path, saved, config):
    model, path = saved
    with pytest.raises(CheckpointError, match="no weights file"):
        load_checkpoint(model, tmp_path / "absent.npz")
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(model, tmp_path / "x.npz", extra={"array": np.ones(2)})
    with pytest.raises(CheckpointError, match="no weight whose name starts"):
        load_checkpoint(model, path, prefix="encoder.")
    classifier_path = tmp_path / "classifier.npz"
    save_checkpoint(BertForSequenceClassification(config, 2), classifier_path)
    with pytest.raises(CheckpointError, match="not a BertForPreTraining"):
        load_pretrained(classifier_path)
