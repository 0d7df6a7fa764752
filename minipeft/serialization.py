"""Safe files for weights: ``.npz`` arrays plus a JSON description, written atomically.

    nbytes = save_arrays("model.npz", {"w": w}, {"config": {...}})
    arrays, meta = load_arrays("model.npz")

Three rules keep a learner's checkpoints from ever being lost or dangerous:

1. **No pickle.** Arrays are stored as plain ``.npy`` entries and loaded with
   ``allow_pickle=False``, so opening a file can never run code. The description is
   JSON, stored inside the ``.npz`` (entry ``__meta__``) and, for people to read, beside
   it as ``model.json``.
2. **Atomic writes.** Everything is written to a temporary file in the same folder and
   then renamed over the target (``os.replace``, atomic on one filesystem). An
   interrupted save leaves the previous file exactly as it was.
3. **Checked loads.** A truncated or corrupted file, or one whose description disagrees
   with its arrays, raises ``CheckpointError`` saying what is wrong; the file is untouched.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .backend import to_numpy

META_KEY = "__meta__"


class CheckpointError(ValueError):
    """A weights file that cannot be used: missing, truncated, corrupted, or for another model."""


def fingerprint(arrays: dict) -> str:
    """A short hash of names, shapes, dtypes and values: equal only for identical weights."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.shape}:{array.dtype.str};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def write_atomically(path: Path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save_arrays(path, arrays: dict, meta: dict) -> int:
    """Write ``arrays`` (name -> array) and ``meta`` (JSON-able) to ``path``; return its size in bytes."""
    path = Path(path)
    if META_KEY in arrays:
        raise ValueError(f"save_arrays: {META_KEY!r} is reserved for the description")
    arrays = {name: to_numpy(a) for name, a in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise TypeError(f"save_arrays: {name} holds Python objects; only numeric arrays can be saved")
    meta = {**meta, "fingerprint": fingerprint(arrays)}
    text = json.dumps(meta, indent=2, sort_keys=True)
    encoded = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    write_atomically(path, lambda f: np.savez(f, **arrays, **{META_KEY: encoded}))
    write_atomically(path.with_suffix(".json"), lambda f: f.write((text + "\n").encode("utf-8")))
    return path.stat().st_size


def load_arrays(path) -> tuple[dict, dict]:
    """Read a file written by ``save_arrays``: (arrays, meta). Raises CheckpointError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise CheckpointError(f"{path} is truncated or corrupted ({type(err).__name__}: {err})") from None
    if META_KEY not in arrays:
        raise CheckpointError(f"{path} has no {META_KEY!r} entry: it was not written by minipeft")
    try:
        meta = json.loads(arrays.pop(META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: its description is not valid JSON ({err})") from None
    if meta.get("fingerprint") != fingerprint(arrays):
        raise CheckpointError(f"{path}: the arrays do not match the fingerprint in its description "
                              f"(the file was altered or damaged)")
    return arrays, meta
