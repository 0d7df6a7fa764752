"""Hundreds of damaged and hostile files: every load fails with a clear error or gives the original weights.

The harness (``fuzz_files.py``, beside this file) runs in a subprocess, because it caps its
own address space (``RLIMIT_AS``): an unbounded allocation must fail there, never here.
The other tests check that the harness itself can tell a crash from a clear error.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fuzz_files
from minipeft.peft import load_adapter
from minipeft.serialization import CheckpointError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def run_harness(*args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(HERE / "fuzz_files.py"), *args], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.stdout.strip().startswith("{"), f"the harness printed no report:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout)


def test_damaged_and_hostile_files_fail_clearly_or_load_the_original_weights():
    report = run_harness("--seed", "0", "--mutants", "250")
    assert report["cap_holds"], "the address-space cap was not in force: an unbounded allocation would not fail"
    assert report["crash"] == 0, "\n".join(report["crashes"])
    assert report["loads"] == report["clear"] + report["identical"]
    # 250 mutants of each file, plus every crafted file; checkpoints are loaded twice (load_checkpoint, load_pretrained)
    assert report["loads"] >= 3 * 250 + 50 and report["clear"] > 500
    assert report["identical"] > 0, "no damage landed where the zip format ignores it (or 'identical' is broken)"
    assert report["slowest_load_s"] < 2.0
    for load, outcome in report["crafted"].items():
        if "(same values)" in load:  # float64 or big-endian copies of the weights: converted, on purpose
            assert outcome == "identical", load
        elif load.startswith("load_checkpoint: description"):  # it loads into the model it is given:
            assert outcome in ("clear", "identical"), load     # an odd config is only compared if one is expected
        else:
            assert outcome == "clear", load


# ---- the harness can fail ----------------------------------------------------------------------------------

def load_raising(make_error):
    """A stand-in loader that raises ``make_error(path)``."""
    def load(path, target):
        raise make_error(path)
    return load


@pytest.mark.parametrize("what, load, outcome", [
    ("a clear error naming the file", load_raising(lambda path: CheckpointError(f"{path}: bad")), "clear"),
    ("another exception", load_raising(lambda path: KeyError("w")), "crash"),
    ("a clear error not naming the file", load_raising(lambda path: CheckpointError("bad")), "crash"),
])
def test_the_harness_tells_a_crash_from_a_clear_error(files, what, load, outcome):
    data = files.checkpoint.read_bytes()
    assert fuzz_files.judge(load, files.checkpoint, data, None, {}, 2.0)[0] == outcome, what


def test_the_harness_counts_running_out_of_memory_as_a_crash(files):
    def load(path, target):
        try:
            raise MemoryError("unable to allocate 16 TiB")
        except MemoryError as err:
            raise CheckpointError(f"{path}: out of memory") from err

    outcome, why, _ = fuzz_files.judge(load, files.checkpoint, files.checkpoint.read_bytes(), None, {}, 2.0)
    assert outcome == "crash" and "memory" in why


def test_the_harness_sees_a_changed_file_a_changed_model_and_other_weights(files):
    data = files.checkpoint.read_bytes()

    def writes_the_file(path, target):
        path.write_bytes(b"oops")
        raise CheckpointError(f"{path}: bad")

    def changes_the_model(path, target):
        next(iter(target.parameters())).data[...] = 7.0
        raise CheckpointError(f"{path}: bad")

    expected = files.model.state_dict()
    assert fuzz_files.judge(writes_the_file, files.checkpoint, data, None, expected, 2.0)[0] == "crash"
    files.checkpoint.write_bytes(data)
    target = fuzz_files.BertForPreTraining(fuzz_files.CONFIG)
    assert fuzz_files.judge(changes_the_model, files.checkpoint, data, target, expected, 2.0)[0] == "crash"
    other = fuzz_files.BertForPreTraining(fuzz_files.CONFIG)
    assert fuzz_files.judge(lambda p, t: other, files.checkpoint, data, None, expected, 2.0)[0] == "crash"
    assert fuzz_files.judge(lambda p, t: files.model, files.checkpoint, data, None, expected, 2.0)[0] == "identical"


@pytest.mark.parametrize("name", [5, "__class__", "two words"])
def test_a_stored_adapter_name_that_cannot_be_one_is_a_clear_error(files, name):
    meta = json.loads(files.adapter.with_suffix(".json").read_text())
    del meta["fingerprint"]
    with np.load(files.adapter) as stored:
        arrays = {key: stored[key] for key in stored.files if key != fuzz_files.META_KEY}
    path = files.folder / "renamed.npz"
    path.write_bytes(fuzz_files.archive(fuzz_files.described(arrays, {**meta, "name": name})))
    with pytest.raises(CheckpointError, match="renamed.npz"):
        load_adapter(fuzz_files.copy.deepcopy(files.base), path)
