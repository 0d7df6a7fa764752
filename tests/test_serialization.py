"""Weights files: round trip, no pickle, clear errors, and saves that never half-write."""
import json

import numpy as np
import pytest

from minipeft.serialization import CheckpointError, load_arrays, save_arrays


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {"encoder.weight": rng.standard_normal((4, 3)).astype(np.float32),
            "encoder.bias": np.zeros(3, np.float32), "steps": np.array(7)}


def test_round_trip_keeps_values_dtypes_and_description(tmp_path, arrays):
    size = save_arrays(tmp_path / "m.npz", arrays, {"config": {"d": 3}})
    loaded, meta = load_arrays(tmp_path / "m.npz")
    assert size == (tmp_path / "m.npz").stat().st_size > 0
    assert set(loaded) == set(arrays)
    for name in arrays:
        np.testing.assert_array_equal(loaded[name], arrays[name])
        assert loaded[name].dtype == arrays[name].dtype
    assert meta["config"] == {"d": 3}
    sidecar = json.loads((tmp_path / "m.json").read_text())
    assert sidecar == meta  # the human-readable copy says the same


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="Python objects"):
        save_arrays(tmp_path / "m.npz", {"bad": np.array([{}, 1], dtype=object)}, {})


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "not_a_zip"])
def test_damaged_file_gives_clear_error_and_stays_on_disk(tmp_path, arrays, damage):
    path = tmp_path / "m.npz"
    save_arrays(path, arrays, {})
    data = path.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_bytes":  # change stored values but keep the zip readable
        data = data.replace(arrays["encoder.weight"].tobytes()[:8], b"\x00" * 8)
    else:
        data = b"hello, not a checkpoint"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match="corrupted|truncated|fingerprint|altered"):
        load_arrays(path)
    assert path.read_bytes() == data  # loading never rewrites the file


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no weights file"):
        load_arrays(tmp_path / "absent.npz")


def test_interrupted_save_leaves_previous_file_intact(tmp_path, arrays, monkeypatch):
    path = tmp_path / "m.npz"
    save_arrays(path, arrays, {"version": 1})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut in the middle of a save")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_arrays(path, {"other": np.ones(2)}, {"version": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no debris
    assert load_arrays(path)[1]["version"] == 1
