"""Damage weight files on purpose, then load them: each load must fail clearly or give the original weights.

    PYTHONPATH=$PWD python tests/files/fuzz_files.py --seed 1 --mutants 300 --hostile other

writes a tiny model checkpoint and a tiny adapter file, then mutants of each: bytes flipped,
cut off or inserted anywhere, and aimed at the zip's directory, its local headers and the
``.npy`` headers; plus crafted files, valid archives with a valid fingerprint and a hostile
description or hostile arrays (``hostile_arrays``, ``hostile_descriptions``). Each file is
loaded with ``load_checkpoint`` and ``load_pretrained`` (checkpoints) or ``load_adapter``
(adapter files), in this process, whose address space is capped (``RLIMIT_AS``) so that an
unbounded allocation fails instead of eating the machine. Every load is one of:

    clear      CheckpointError whose message names the file, not caused by running out of memory,
               the model and the file on disk unchanged
    identical  it loaded, and the weights are exactly the original ones
    crash      anything else: another exception, other weights, a load slower than --time-limit,
               a file or a model changed by a failed load

It prints one JSON object: the counts, the slowest load, the run time and the first crashes.
tests/files/test_files_fuzz.py runs it with seed 0; other seeds and ``--hostile other``
(a second set of crafted descriptions) are for running by hand.
"""
import argparse
import copy
import io
import json
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

import minipeft as mp
from minipeft.nn import BertConfig, BertForPreTraining, BertForSequenceClassification
from minipeft.peft import AdapterConfig, add_adapter, load_adapter, save_adapter
from minipeft.serialization import META_KEY, CheckpointError, fingerprint
from minipeft.train import load_checkpoint, load_pretrained, save_checkpoint

CONFIG = BertConfig.preset("tiny", vocab_size=24, hidden_size=16, num_layers=2, num_heads=2, ff_size=32,
                           max_position=16)
MEMORY_HEADROOM = 512 * 2**20  # bytes of address space the loads may use beyond what the process already has
HUGE_SHAPE = (4_000_000_000_000,)


# ---- the original files ------------------------------------------------------------------------------------

def originals(folder: Path):
    """(pre-training model, checkpoint path, base classifier, classifier with adapter "task", adapter path)."""
    mp.manual_seed(0)
    model = BertForPreTraining(CONFIG)
    checkpoint = folder / "model.npz"
    save_checkpoint(model, checkpoint)
    base = BertForSequenceClassification(CONFIG, num_labels=2, pooling="mean")
    tuned = copy.deepcopy(base)
    add_adapter(tuned, "task", AdapterConfig(bottleneck=4))
    rng = np.random.default_rng(0)
    for param in tuned.parameters(trainable_only=True):  # values unlike any fresh adapter's, to be recognised
        param.data = rng.standard_normal(param.shape).astype(param.dtype)
    adapter = folder / "adapter.npz"
    save_adapter(tuned, "task", adapter)
    return model, checkpoint, base, tuned, adapter


# ---- damage: bytes flipped, cut, inserted; anywhere or aimed at headers -------------------------------------

def regions(data: bytes) -> dict:
    """name -> list of (start, end) byte ranges of the parts of a zip of .npy entries worth aiming at."""
    def spans(signature, length):
        found, start = [], data.find(signature)
        while start >= 0:
            found.append((start, min(start + length, len(data))))
            start = data.find(signature, start + 1)
        return found

    npy_headers = [(start, end if data.find(b"\n", start) < 0 else data.find(b"\n", start) + 1)
                   for start, end in spans(b"\x93NUMPY", 128)]  # from the magic string to the header's newline
    return {"central directory": spans(b"PK\x01\x02", 46), "local header": spans(b"PK\x03\x04", 30),
            "end record": spans(b"PK\x05\x06", 22), "npy header": npy_headers}


def mutate(data: bytes, rng) -> tuple[str, bytes]:
    """(how, damaged bytes): one random kind of damage."""
    kind = str(rng.choice(["flip", "truncate", "insert", "delete", "aimed flip", "aimed size"]))
    n = len(data)
    if kind == "truncate":
        return kind, data[:int(rng.integers(0, n))]
    if kind == "insert":
        at = int(rng.integers(0, n + 1))
        return kind, data[:at] + rng.bytes(int(rng.integers(1, 32))) + data[at:]
    if kind == "delete":
        at = int(rng.integers(0, n))
        return kind, data[:at] + data[at + int(rng.integers(1, 32)):]
    if kind == "flip":
        positions = rng.integers(0, n, int(rng.integers(1, 4)))
    else:
        parts = {name: spans for name, spans in regions(data).items() if spans}
        target = list(parts)[int(rng.integers(0, len(parts)))]
        start, end = parts[target][int(rng.integers(0, len(parts[target])))]
        kind = f"{kind} ({target})"
        if kind.startswith("aimed size"):  # a 4-byte field inside the header set to a big or random number
            at = int(rng.integers(start, max(start + 1, end - 4)))
            value = int(rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0xFFFF, int(rng.integers(0, 2**32))]))
            return kind, data[:at] + value.to_bytes(4, "little") + data[at + 4:]
        positions = rng.integers(start, end, int(rng.integers(1, 3)))
    damaged = bytearray(data)
    for at in positions:
        damaged[at] ^= int(rng.integers(1, 256))
    return kind, bytes(damaged)


# ---- crafted files: valid archives, valid fingerprints, hostile contents ------------------------------------

def npy_bytes(array: np.ndarray) -> bytes:
    """The .npy file of ``array`` (object arrays pickled, as NumPy does when allowed).

    Writing, not loading: this crafts the hostile files (pickled object arrays among them) that
    every loader must refuse without unpickling anything."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)  # the attack, not a load
    return buffer.getvalue()


def lying_npy(shape, dtype="<f4", data: bytes = b"\0" * 64) -> bytes:
    """A .npy entry whose header claims ``shape`` but which holds only ``data``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + data


def archive(entries: dict, compression=zipfile.ZIP_STORED, extra_entry: str | None = None) -> bytes:
    """A zip holding ``entries`` (name -> .npy bytes, or an array), each named name.npy, and
    ``extra_entry`` (a file name) if given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, entry in entries.items():
            zf.writestr(f"{name}.npy", entry if isinstance(entry, bytes) else npy_bytes(entry))
        if extra_entry:
            zf.writestr(extra_entry, b"print('hello')\n")
    return buffer.getvalue()


def described(arrays: dict, meta: dict) -> dict:
    """``arrays`` plus their description entry: ``meta`` with the arrays' (valid) fingerprint, as JSON."""
    return described_text(arrays, json.dumps({**meta, "fingerprint": fingerprint(arrays)}).encode())


def described_text(arrays: dict, text: bytes) -> dict:
    """``arrays`` plus a description entry holding ``text``, whatever it is."""
    return {**arrays, META_KEY: np.frombuffer(text, np.uint8)}


def hostile_arrays(arrays: dict, meta: dict, name: str) -> list[tuple[str, bytes]]:
    """Files whose arrays are not plain real floats, or whose headers lie, each with a valid description."""
    first = arrays[name]
    files = []
    for label, array in (("complex weight", first.astype(np.complex64) + 1j),
                         ("integer weight", (first * 100).astype(np.int32)), ("bool weight", first > 0),
                         ("float128 weight", first.astype(np.longdouble)),
                         ("structured weight", np.zeros(first.shape, [("a", "<f4"), ("b", "<f4")])),
                         ("datetime weight", np.zeros(first.shape, "M8[s]")),
                         ("string weight", np.full(first.shape, "x"))):
        changed = {**arrays, name: array}
        files.append((label, archive(described(changed, meta))))
    objects = np.array([{"a": 1}] * first.size, dtype=object).reshape(first.shape)
    files.append(("object weight (pickled)", archive({**described(arrays, meta), name: npy_bytes(objects)})))
    for label, shape in (("huge shape", HUGE_SHAPE), ("negative shape", (-4, -16)), ("bigger shape", (100, 100)),
                         ("smaller shape", (2,))):
        files.append((label, archive({**described(arrays, meta), name: lying_npy(shape)})))
    files.append(("compressed entries", archive(described(arrays, meta), zipfile.ZIP_DEFLATED)))
    for label, dtype in (("float64 weights (same values)", np.float64), ("big-endian weights (same values)", ">f4")):
        files.append((label, archive(described({k: v.astype(dtype) for k, v in arrays.items()}, meta))))
    return files


def hostile_descriptions(arrays: dict, meta: dict, edits: list) -> list[tuple[str, bytes]]:
    """The original arrays with a valid fingerprint, and the description edited by each (label, key path, value)."""
    files = []
    for label, keys, value in edits:
        edited = copy.deepcopy(meta)
        holder = edited
        for key in keys[:-1]:
            holder = holder[key]
        holder[keys[-1]] = value
        files.append((label, archive(described(arrays, edited))))
    for label, text in (("description nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
                        ("description not UTF-8", b"\xff\xfe{}"), ("description a list", b"[1, 2]"),
                        ("description empty", b""), ("description a 5,000-digit number", b"9" * 5000)):
        files.append((label, archive(described_text(arrays, text))))
    files.append(("description 2-D", archive({**arrays, META_KEY: np.zeros((2, 2), np.uint8)})))
    files.append(("no description", archive(arrays)))
    files.append(("an entry that is not .npy", archive(described(arrays, meta), extra_entry="run_me.py")))
    return files


CHECKPOINT_EDITS = {
    "main": [("huge config (d 65,536, vocab 2M)", ["config"], {**CONFIG.__dict__, "hidden_size": 65_536,
                                                                "num_heads": 1, "vocab_size": 2_000_000}),
             ("100,000 layers", ["config", "num_layers"], 100_000),
             ("hidden size a string", ["config", "hidden_size"], "16"),
             ("hidden size a float", ["config", "hidden_size"], 16.5),
             ("negative layers", ["config", "num_layers"], -1),
             ("config a list", ["config"], [1, 2, 3]), ("config a string", ["config"], "tiny"),
             ("unknown config field", ["config", "evil"], 1), ("model a list", ["model"], ["BertForPreTraining"]),
             ("format a number", ["format"], 7)],
    "other": [("huge vocabulary", ["config", "vocab_size"], 10**12),
              ("a 10^30 hidden size", ["config", "hidden_size"], 10**30),
              ("a million heads", ["config", "num_heads"], 1_000_000),
              ("10^9 positions", ["config", "max_position"], 10**9),
              ("dropout a dict", ["config", "dropout"], {"p": 0.1}),
              ("init a list", ["config", "init"], ["bert"]),
              ("layer norm eps a string", ["config", "layer_norm_eps"], "tiny"),
              ("config null", ["config"], None), ("config nested", ["config"], {"config": {"config": {}}}),
              ("model absent", ["model"], None)],
}
ADAPTER_EDITS = {
    "main": [("bottleneck 10^9", ["config", "bottleneck"], 10**9),
             ("bottleneck a string", ["config", "bottleneck"], "4"),
             ("layers 10^12", ["config", "layers"], [10**12]), ("layers a string", ["config", "layers"], "01"),
             ("config a list", ["config"], [4]), ("unknown config field", ["config", "evil"], 1),
             ("version 99", ["version"], 99), ("format a dict", ["format"], {}),
             ("base fingerprint a list", ["base_fingerprint"], [1])],
    "other": [("negative bottleneck", ["config", "bottleneck"], -4),
              ("nonlinearity a list", ["config", "nonlinearity"], ["gelu"]),
              ("init std a string", ["config", "init_std"], "1e-2"), ("layers negative", ["config", "layers"], [-1]),
              ("train head a number", ["config", "train_head"], 2), ("config null", ["config"], None),
              ("version a string", ["version"], "1"), ("base fingerprint absent", ["base_fingerprint"], None),
              ("layer norms a string", ["config", "train_layer_norms"], "all")],
}


# ---- loading, judged ----------------------------------------------------------------------------------------

def same_state(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def caused_by_memory(err: BaseException) -> bool:
    while err is not None:
        if isinstance(err, MemoryError):
            return True
        err = err.__cause__ or err.__context__
    return False


def judge(load, path: Path, data: bytes, target, expected: dict, time_limit: float) -> tuple[str, str, float]:
    """('clear' | 'identical' | 'crash', why, seconds) of one load of the file ``path`` holding ``data``."""
    before = target.state_dict() if target is not None else None
    start = time.perf_counter()
    try:
        loaded = load(path, target)
        outcome, why = ("identical", "") if same_state(loaded.state_dict(), expected) else ("crash", "other weights")
    except CheckpointError as err:
        outcome, why = "clear", str(err)
        if str(path) not in why:
            outcome, why = "crash", f"message does not name the file: {why!r}"
        elif caused_by_memory(err):
            outcome, why = "crash", f"ran out of memory: {why}"
        elif before is not None and not same_state(target.state_dict(), before):
            outcome, why = "crash", f"a failed load changed the model: {why}"
    except Exception as err:  # noqa: BLE001  (anything else is what this harness looks for)
        outcome, why = "crash", f"{type(err).__name__}: {err}"[:300]
    elapsed = time.perf_counter() - start
    if elapsed > time_limit:
        outcome, why = "crash", f"took {elapsed:.2f} s: {why}"
    if path.read_bytes() != data:
        outcome, why = "crash", "the load changed the file on disk"
    return outcome, why, elapsed


def loaders(base):
    """name -> (load(path, target) -> model with the loaded weights, fresh target or None)."""
    def checkpoint(path, target):
        load_checkpoint(target, path)
        return target

    def pretrained(path, _):
        return load_pretrained(path)[0]

    def adapter(path, target):
        load_adapter(target, path)
        return target

    return {"load_checkpoint": (checkpoint, lambda: BertForPreTraining(CONFIG)),
            "load_pretrained": (pretrained, lambda: None),
            "load_adapter": (adapter, lambda: copy.deepcopy(base))}


def cap_address_space(headroom: int) -> int:
    """Limit this process's address space to what it uses now plus ``headroom`` bytes; return the cap."""
    in_use = int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmSize:"))) * 1024
    cap = in_use + headroom
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return cap


def cap_holds(headroom: int) -> bool:
    """True if asking for twice ``headroom`` bytes now fails: the cap is in force."""
    try:
        np.empty(2 * headroom, np.uint8)
    except MemoryError:
        return True
    return False


def damaged_and_crafted(paths: dict, rng, mutants: int, hostile: str) -> list[tuple[str, str, bool, bytes]]:
    """(kind, label, crafted?, bytes) of every file to load: ``mutants`` mutants of each original
    (``paths``: kind -> path), then the crafted files made from its arrays and description."""
    files = []
    for kind, path in paths.items():
        data = path.read_bytes()
        for _ in range(mutants):
            how, damaged = mutate(data, rng)
            files.append((kind, how, False, damaged))
    for kind, path in paths.items():
        with np.load(path) as stored:
            arrays = {name: stored[name] for name in stored.files if name != META_KEY}
        meta = json.loads(path.with_suffix(".json").read_text())
        del meta["fingerprint"]
        edits = (CHECKPOINT_EDITS if kind == "checkpoint" else ADAPTER_EDITS)[hostile]
        weight = sorted(arrays)[int(rng.integers(0, len(arrays)))]
        files += [(kind, f"arrays: {label}", True, content) for label, content in hostile_arrays(arrays, meta, weight)]
        files += [(kind, f"description: {label}", True, content)
                  for label, content in hostile_descriptions(arrays, meta, edits)]
    return files


def run(seed: int, mutants: int, hostile: str, time_limit: float) -> dict:
    """Make the files, load each with each loader that reads its kind, and count the outcomes."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        model, checkpoint, base, tuned, adapter = originals(folder)
        files = damaged_and_crafted({"checkpoint": checkpoint, "adapter": adapter}, np.random.default_rng(seed),
                                    mutants, hostile)
        expected = {"checkpoint": model.state_dict(), "adapter": tuned.state_dict()}
        load_by_kind = {"checkpoint": ["load_checkpoint", "load_pretrained"], "adapter": ["load_adapter"]}
        how = loaders(base)
        cap = cap_address_space(MEMORY_HEADROOM)
        counts = {"loads": 0, "clear": 0, "identical": 0, "crash": 0}
        crashes, crafted_outcomes, slowest = [], {}, (0.0, "")
        for index, (kind, label, crafted, data) in enumerate(files):
            path = folder / f"file_{index}.npz"
            path.write_bytes(data)
            for loader in load_by_kind[kind]:
                load, target = how[loader]
                outcome, why, elapsed = judge(load, path, data, target(), expected[kind], time_limit)
                counts["loads"] += 1
                counts[outcome] += 1
                slowest = max(slowest, (elapsed, f"{loader}: {label}"))
                if crafted:
                    crafted_outcomes[f"{loader}: {label}"] = outcome
                if outcome == "crash":
                    crashes.append(f"{loader}: {label}: {why}")
    return {"seed": seed, "mutants_per_file": mutants, "hostile": hostile, "files": len(files), **counts,
            "address_space_cap_mib": cap // 2**20, "cap_holds": cap_holds(MEMORY_HEADROOM), "slowest_load_s": round(slowest[0], 4),
            "slowest_load": slowest[1], "run_time_s": round(time.perf_counter() - start, 2),
            "crashes": crashes[:20], "crafted": crafted_outcomes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mutants", type=int, default=250, help="mutants of each of the two files")
    parser.add_argument("--hostile", choices=sorted(CHECKPOINT_EDITS), default="main",
                        help="which set of crafted descriptions")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds one load may take")
    args = parser.parse_args(argv)
    report = run(args.seed, args.mutants, args.hostile, args.time_limit)
    print(json.dumps(report, indent=1))
    return 1 if report["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
