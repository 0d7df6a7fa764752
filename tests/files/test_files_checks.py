"""Each check a load makes, one file at a time: what it refuses, and the words it refuses it with.

The files are crafted whole (valid zips, valid fingerprints where it matters), so each test
reaches the one check it is about; ``test_files_fuzz.py`` throws everything at once.
"""
import io
import json
import time
import warnings
import zipfile

import numpy as np
import pytest

import fuzz_files
from fuzz_files import archive, described, described_text, lying_npy, npy_bytes
from minipeft.data import Tokenizer
from minipeft.nn import BertConfig, BertForPreTraining
from minipeft.peft import load_adapter
from minipeft.serialization import META_KEY, CheckpointError, load_arrays
from minipeft.train import checkpoint as checkpoint_module
from minipeft.train import load_checkpoint, load_pretrained, save_checkpoint
from minipeft.train.checkpoint import pretraining_weights

SPRUNG = []  # what Trap's unpickling would append to


def _spring():
    SPRUNG.append("code ran")


class Trap:
    """Unpickling this calls _spring: a stand-in for any code a hostile pickle could run."""

    def __reduce__(self):
        return (_spring, ())


def stored(path):
    """(arrays without the description, description without its fingerprint) of a saved file."""
    with np.load(path) as entries:
        arrays = {name: entries[name] for name in entries.files if name != META_KEY}
    meta = json.loads(path.with_suffix(".json").read_text())
    del meta["fingerprint"]
    return arrays, meta


def with_entry_sizes(data: bytes, size: int) -> bytes:
    """``data`` with the first central-directory entry claiming ``size`` bytes (stored and uncompressed)."""
    at = data.find(b"PK\x01\x02")
    field = size.to_bytes(4, "little")
    return data[:at + 20] + field + field + data[at + 28:]


def with_encrypted_flag(data: bytes) -> bytes:
    """``data`` with bit 0 (encrypted) set in the first central-directory entry's flags."""
    at = data.find(b"PK\x01\x02") + 8
    return data[:at] + bytes([data[at] | 1]) + data[at + 1:]


def duplicated_entry(entries: dict) -> bytes:
    """A zip of ``entries`` plus a second entry under the first one's name."""
    buffer = io.BytesIO(archive(entries))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, as it should
        with zipfile.ZipFile(buffer, "a") as zf:
            zf.writestr(f"{sorted(entries)[0]}.npy", npy_bytes(np.zeros(3, np.float32)))
    return buffer.getvalue()


def crafted(arrays, meta, name):
    """label -> (file bytes, the words the refusal must contain)."""
    good = described(arrays, meta)
    weight = arrays[name]
    objects = np.array([Trap()] * 3, dtype=object)
    return {
        "a header claiming 4 x 10^12 floats": (archive({**good, name: lying_npy(fuzz_files.HUGE_SHAPE)}),
                                               r"claims shape \(4000000000000,\)"),
        "complex weights": (archive(described({**arrays, name: weight + 1j}, meta)), "has dtype complex64"),
        "a pickled object array": (archive({**good, name: npy_bytes(objects)}), "dtype object"),
        "structured records": (archive(described({**arrays, name: np.zeros(3, "f4,f4")}, meta)), "dtype"),
        "compressed entries": (archive(good, zipfile.ZIP_DEFLATED), "compressed"),
        "an entry that is not .npy": (archive(good, extra_entry="run_me.py"), "not a .npy array"),
        "entries claiming more than the file": (with_entry_sizes(archive(good), 10**9), "the file has"),
        "an encrypted entry": (with_encrypted_flag(archive(good)), "encrypted"),
        "a name twice": (duplicated_entry(good), "twice"),
        "no description": (archive(arrays), "no '__meta__'"),
        "a description nested 100,000 deep": (archive(described_text(arrays, b"[" * 100_000)), "not valid JSON"),
        "a description that is a list": (archive(described_text(arrays, b"[1]")), "expected an object"),
        "a 2-D description": (archive({**arrays, META_KEY: np.zeros((2, 2), np.uint8)}), "row of bytes"),
        "not a zip at all": (b"hello, not a checkpoint", "truncated or corrupted"),
    }


CASES = list(crafted({"w": np.zeros(3)}, {}, "w"))


@pytest.mark.parametrize("label", CASES)
def test_load_arrays_refuses_it_naming_the_file_and_the_cause(files, label):
    arrays, meta = stored(files.checkpoint)
    data, words = crafted(arrays, meta, sorted(arrays)[0])[label]
    path = files.folder / "crafted.npz"
    path.write_bytes(data)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=words) as info:
        load_arrays(path)
    assert time.perf_counter() - start < 1.0  # a bound against a hang, not a timing
    assert str(info.value).startswith(str(path))
    assert path.read_bytes() == data
    assert SPRUNG == [], "the loader unpickled an object"


def test_integers_are_numbers_for_load_arrays_but_not_weights_for_the_model_loaders(files):
    arrays, meta = stored(files.checkpoint)
    name = sorted(arrays)[0]
    path = files.folder / "ints.npz"
    path.write_bytes(archive(described({**arrays, name: arrays[name].astype(np.int32)}, meta)))
    assert load_arrays(path)[0][name].dtype == np.int32  # the generic reader keeps counts and ids
    with pytest.raises(CheckpointError, match="int32; allowed here: float16, float32, float64"):
        load_checkpoint(BertForPreTraining(fuzz_files.CONFIG), path)
    with pytest.raises(CheckpointError, match="int32"):
        load_pretrained(path)


@pytest.mark.parametrize("dtype", [np.complex64, np.int64, np.bool_])
def test_load_adapter_refuses_weights_that_are_not_real_floats(files, dtype):
    arrays, meta = stored(files.adapter)
    name = sorted(arrays)[0]
    path = files.folder / "adapter_dtype.npz"
    path.write_bytes(archive(described({**arrays, name: arrays[name].astype(dtype)}, meta)))
    target = fuzz_files.copy.deepcopy(files.base)
    before = repr(target)
    with pytest.raises(CheckpointError, match=np.dtype(dtype).name):
        load_adapter(target, path)
    assert repr(target) == before


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_float64_and_float16_weights_are_converted_to_the_models_dtype(files, dtype):
    arrays, meta = stored(files.checkpoint)
    path = files.folder / f"{np.dtype(dtype).name}.npz"
    path.write_bytes(archive(described({k: v.astype(dtype) for k, v in arrays.items()}, meta)))
    target = BertForPreTraining(fuzz_files.CONFIG)
    load_checkpoint(target, path)
    rebuilt, _ = load_pretrained(path)
    for model in (target, rebuilt):
        for name, array in model.state_dict().items():
            assert array.dtype == np.float32
            np.testing.assert_array_equal(array, arrays[name].astype(dtype).astype(np.float32))


# ---- load_pretrained: the stored config is checked against the arrays before anything is built -----------

@pytest.mark.parametrize("config", [
    BertConfig.preset("tiny", vocab_size=81),
    BertConfig.preset("tiny", vocab_size=9, hidden_size=12, num_heads=3, num_layers=3, ff_size=20, max_position=7,
                      type_vocab_size=3, pooler=False),
    BertConfig.preset("tiny", vocab_size=30, num_layers=1),
])
def test_pretraining_weights_lists_the_weights_a_built_model_has(config):
    built = [(name, param.shape) for name, param in BertForPreTraining(config).named_parameters()]
    assert list(pretraining_weights(config)) == built


@pytest.mark.parametrize("label, edit, words", [
    ("d 65,536 and a 2M vocabulary", {"hidden_size": 65_536, "num_heads": 1, "vocab_size": 2_000_000},
     r"\(2000000, 65536\) by the config but \(24, 16\) in the file"),
    ("100,000 layers", {"num_layers": 100_000}, r"bert.layers.2.attention.query.weight \(16, 16\) is missing"),
    ("a 10^30 hidden size", {"hidden_size": 10**30}, "by the config but"),
    ("one layer fewer", {"num_layers": 1}, "bert.layers.1.attention.query.weight is in the file but not in"),
    ("a string for a size", {"hidden_size": "16"}, "cannot build a BertConfig"),
    ("a negative size", {"num_layers": -1}, "cannot build a BertConfig"),
])
def test_a_config_that_lies_is_refused_in_milliseconds_without_building(files, monkeypatch, label, edit, words):
    arrays, meta = stored(files.checkpoint)
    path = files.folder / "lying.npz"
    path.write_bytes(archive(described(arrays, {**meta, "config": {**meta["config"], **edit}})))

    def never(config):
        raise AssertionError(f"load_pretrained built a model for {label}")

    monkeypatch.setattr(checkpoint_module, "BertForPreTraining", never)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=words):
        load_pretrained(path)
    assert time.perf_counter() - start < 0.5  # a bound against building it, not a timing


def test_a_config_that_is_not_an_object_is_refused(files):
    arrays, meta = stored(files.checkpoint)
    path = files.folder / "list_config.npz"
    path.write_bytes(archive(described(arrays, {**meta, "config": [1, 2]})))
    with pytest.raises(CheckpointError, match="its config is a JSON list"):
        load_checkpoint(BertForPreTraining(fuzz_files.CONFIG), path, expected_config=fuzz_files.CONFIG)


def test_a_stored_history_that_is_not_one_is_refused(files, monkeypatch, tmp_path):
    from minipeft.train import shipped as shipped_module

    folder = tmp_path / "shipped"
    save_checkpoint(files.model, folder / "bert_tiny.npz", extra={"history": [1, 2]})
    monkeypatch.setattr(shipped_module, "pretrained_dir", lambda: folder)
    with pytest.raises(CheckpointError, match="its stored history is a JSON list"):
        shipped_module.load_shipped_pretrained()


# ---- vocabularies ----------------------------------------------------------------------------------------

def vocabulary_file(vocab) -> bytes:
    return json.dumps({"format": "minipeft-tokenizer", "version": 1, "vocab": vocab}).encode()


SPECIALS = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]"]
VOCABULARY_FILES = {  # label -> (file bytes, or None for no file; the words the refusal must contain)
    "missing": (None, "cannot read"),
    "not UTF-8": (b"\xff\xfe{}", "invalid JSON"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    "vocab a number": (vocabulary_file(5), "list of words"),
    "vocab a string": (vocabulary_file("abc"), "list of words"),
    "200,000 words, 1,000 of them repeated": (vocabulary_file(SPECIALS + [f"w{i % 1000}" for i in range(200_000)]),
                                              "twice"),
}


@pytest.mark.parametrize("label", VOCABULARY_FILES)
def test_a_hostile_vocabulary_file_is_refused_quickly_naming_the_file(tmp_path, label):
    content, words = VOCABULARY_FILES[label]
    path = tmp_path / "vocab.json"
    if content is not None:
        path.write_bytes(content)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=words) as info:
        Tokenizer.load(path)
    assert time.perf_counter() - start < 2.0  # a bound against a quadratic scan, not a timing
    assert str(info.value).startswith(str(path)) and len(str(info.value)) < 1000
