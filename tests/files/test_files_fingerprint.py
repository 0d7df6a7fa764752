"""The fingerprint: a file rewritten as a *valid* .npz, with other arrays under the old description, is refused.

A zip checks its own CRCs, so flipping bytes inside a file is caught before the fingerprint
is ever compared. These files are rewritten whole by ``np.savez``: every CRC is right, and
only the fingerprint in the description (which covers names, shapes, dtypes and values)
can tell that the arrays are not the ones that were saved.
"""
import copy

import numpy as np
import pytest

from minipeft.nn import BertForPreTraining
from minipeft.peft import load_adapter
from minipeft.serialization import META_KEY, CheckpointError, load_arrays
from minipeft.train import load_checkpoint, load_pretrained


def tamper(arrays: dict, how: str) -> dict:
    """``arrays`` changed by ``how``; the description entry (META_KEY) is kept as it was."""
    arrays = dict(arrays)
    name = sorted(k for k in arrays if k != META_KEY)[0]
    if how == "altered values":
        arrays[name] = arrays[name] + np.float32(1e-3)
    elif how == "renamed array":
        arrays[name + "_renamed"] = arrays.pop(name)
    elif how == "added array":
        arrays["extra.weight"] = np.ones((2, 2), np.float32)
    elif how == "removed array":
        del arrays[name]
    return arrays


def rewrite(path, how: str) -> bytes:
    """Rewrite ``path`` as a valid .npz with tampered arrays and the old description; return its bytes."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    with open(path, "wb") as file:
        np.savez(file, **tamper(arrays, how))
    return path.read_bytes()


HOW = ["altered values", "renamed array", "added array", "removed array"]


@pytest.mark.parametrize("how", HOW)
def test_load_arrays_refuses_a_valid_archive_with_other_arrays(files, how):
    data = rewrite(files.checkpoint, how)
    with pytest.raises(CheckpointError, match="fingerprint") as info:
        load_arrays(files.checkpoint)
    assert str(files.checkpoint) in str(info.value)
    assert files.checkpoint.read_bytes() == data


@pytest.mark.parametrize("how", HOW)
def test_load_checkpoint_and_load_pretrained_refuse_it_and_change_nothing(files, how):
    rewrite(files.checkpoint, how)
    target = BertForPreTraining(files.model.bert.config)  # other (fresh) weights
    before = target.state_dict()
    with pytest.raises(CheckpointError, match="fingerprint"):
        load_checkpoint(target, files.checkpoint)
    with pytest.raises(CheckpointError, match="fingerprint"):
        load_pretrained(files.checkpoint)
    assert all(np.array_equal(before[k], v) for k, v in target.state_dict().items())


@pytest.mark.parametrize("how", HOW)
def test_load_adapter_refuses_it_and_changes_nothing(files, how):
    rewrite(files.adapter, how)
    target = copy.deepcopy(files.base)
    before = (target.state_dict(), repr(target))
    with pytest.raises(CheckpointError, match="fingerprint"):
        load_adapter(target, files.adapter)
    assert repr(target) == before[1]
    assert all(np.array_equal(before[0][k], v) for k, v in target.state_dict().items())


def test_the_untampered_rewrite_loads(files):
    """The rewrite itself is harmless: with the same arrays, the same description still loads."""
    rewrite(files.adapter, "nothing")
    rewrite(files.checkpoint, "nothing")
    load_adapter(copy.deepcopy(files.base), files.adapter)
    model, _ = load_pretrained(files.checkpoint)
    assert all(np.array_equal(files.model.state_dict()[k], v) for k, v in model.state_dict().items())
