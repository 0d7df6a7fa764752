"""save_adapter / load_adapter: small files, exact round trips, and refusal to load onto another base."""
import json

import numpy as np
import pytest

from minipeft.peft import (AdapterConfig, active_adapter, add_adapter, base_fingerprint, list_adapters,
                           load_adapter, save_adapter, set_adapter)
from minipeft.serialization import CheckpointError, save_arrays


@pytest.fixture
def trained(kit, tmp_path):
    """A classifier with adapter "task" trained a few steps, saved to task.npz: (model, path, nbytes)."""
    model = kit.classifier(seed=0)
    add_adapter(model, "task", AdapterConfig(bottleneck=4))
    kit.train_steps(model, 4)
    path = tmp_path / "task.npz"
    return model, path, save_adapter(model, "task", path)


def same_base_other_head(kit, model):
    """A fresh classifier with ``model``'s base weights (the encoder) but its own random head."""
    fresh = kit.classifier(seed=1)
    fresh.bert.load_state_dict({name[len("bert."):]: array for name, array in base_state(model).items()
                                if name.startswith("bert.")})
    return fresh


def base_state(model):
    from minipeft.peft import disable_adapter
    with disable_adapter(model):
        return {n: a for n, a in model.state_dict().items() if ".adapters." not in n}


def test_the_file_holds_only_the_adapter_its_layer_norms_and_head(kit, trained, tmp_path):
    model, path, nbytes = trained
    assert nbytes == path.stat().st_size
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["format"] == "minipeft-adapter" and meta["name"] == "task"
    assert AdapterConfig.from_dict(meta["config"]) == AdapterConfig(bottleneck=4)
    assert len(meta["adapter_modules"]) == 4 and len(meta["layer_norms"]) == 2 * (2 * 2)
    assert meta["head"] == ["head.classifier.weight", "head.classifier.bias"]
    assert meta["base_fingerprint"] == base_fingerprint(model, AdapterConfig(bottleneck=4))
    with np.load(path, allow_pickle=False) as archive:
        stored = sum(archive[name].size for name in archive.files if name != "__meta__")
    assert stored == meta["parameters"] == model.num_parameters(trainable_only=True)
    full = save_arrays(tmp_path / "full.npz", base_state(model), {})
    assert nbytes < 0.2 * full  # even at d = 32 (the adapter share is far smaller for big models)


def test_round_trip_onto_a_fresh_copy_of_the_base_gives_identical_outputs(kit, trained):
    model, path, _ = trained
    ids, _ = kit.heldout()
    expected = kit.logits(model, ids)
    fresh = same_base_other_head(kit, model)
    assert not np.array_equal(kit.logits(fresh, ids), expected)
    assert load_adapter(fresh, path) == "task"
    assert active_adapter(fresh) == "task"
    assert np.array_equal(kit.logits(fresh, ids), expected)
    assert [n for n, _ in fresh.named_parameters(True)] == [n for n, _ in model.named_parameters(True)]


def test_loading_under_another_name_beside_other_adapters(kit, trained):
    model, path, _ = trained
    ids, _ = kit.heldout()
    expected = kit.logits(model, ids)
    with pytest.raises(ValueError, match="already has an adapter named 'task'.*pass name="):
        load_adapter(model, path)
    assert load_adapter(model, path, name="copy") == "copy"
    assert list_adapters(model) == ["task", "copy"]
    assert np.array_equal(kit.logits(model, ids), expected)
    set_adapter(model, "task")
    assert np.array_equal(kit.logits(model, ids), expected)


def test_loading_onto_another_base_is_refused_and_changes_nothing(kit, trained):
    _, path, _ = trained
    other = kit.classifier(seed=7)
    before = kit.snapshot(other)
    with pytest.raises(CheckpointError, match="was trained on a different base model: its base fingerprint is "
                                              "'[0-9a-f]+' but this model's is '[0-9a-f]+'"):
        load_adapter(other, path)
    kit.assert_same(before, kit.snapshot(other))
    assert list_adapters(other) == []


def test_loading_onto_a_base_with_other_adapters_is_refused_and_changes_nothing(kit, trained):
    _, path, _ = trained
    other = kit.classifier(seed=7)
    add_adapter(other, "mine", AdapterConfig(bottleneck=2))
    before = kit.snapshot(other)
    with pytest.raises(CheckpointError, match="different base model"):
        load_adapter(other, path)
    kit.assert_same(before, kit.snapshot(other))
    assert list_adapters(other) == ["mine"] and active_adapter(other) == "mine"


def test_a_config_that_does_not_fit_the_model_is_refused(kit, tmp_path):
    from minipeft.nn import BertConfig
    deep = kit.classifier(config=BertConfig.preset("tiny", hidden_size=32, num_layers=3, vocab_size=50,
                                                   ff_size=64, max_position=16))
    add_adapter(deep, "top", AdapterConfig(bottleneck=4, layers=[2]))
    path = tmp_path / "top.npz"
    save_adapter(deep, "top", path)
    shallow = kit.classifier()
    before = kit.snapshot(shallow)
    with pytest.raises(CheckpointError, match=r"config that does not fit .* layers \[2\] do not exist"):
        load_adapter(shallow, path)
    kit.assert_same(before, kit.snapshot(shallow))
    wide = kit.classifier(config=BertConfig.preset("tiny", hidden_size=64, num_layers=2, vocab_size=50,
                                                   ff_size=64, max_position=16))
    save_adapter(add_adapter(wide, "w", AdapterConfig(bottleneck=48)), "w", tmp_path / "wide.npz")
    with pytest.raises(CheckpointError, match="bottleneck m = 48 is larger than the model's hidden size d = 32"):
        load_adapter(shallow, tmp_path / "wide.npz")
    kit.assert_same(before, kit.snapshot(shallow))


def test_files_that_are_not_adapter_files_are_refused(kit, tmp_path):
    model = kit.classifier()
    save_arrays(tmp_path / "full.npz", model.state_dict(), {"kind": "checkpoint"})
    with pytest.raises(CheckpointError, match="is not an adapter file"):
        load_adapter(model, tmp_path / "full.npz")
    with pytest.raises(CheckpointError, match="no weights file"):
        load_adapter(model, tmp_path / "missing.npz")
    assert list_adapters(model) == []


def test_an_adapter_without_head_and_layer_norm_copies_fingerprints_them(kit, tmp_path):
    """The fingerprint covers every weight the file does not bring: here the head too."""
    model = kit.classifier()
    config = AdapterConfig(bottleneck=4, train_head=False, train_layer_norms=False)
    add_adapter(model, "bare", config)
    kit.train_steps(model, 2)
    path = tmp_path / "bare.npz"
    save_adapter(model, "bare", path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["head"] == [] and meta["layer_norms"] == []
    with pytest.raises(CheckpointError, match="different base model"):
        load_adapter(same_base_other_head(kit, model), path)  # its head differs, and the file has none
    twin = kit.classifier(seed=0)
    load_adapter(twin, path)
    ids, _ = kit.heldout()
    assert np.array_equal(kit.logits(twin, ids), kit.logits(model, ids))
