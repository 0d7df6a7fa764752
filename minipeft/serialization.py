"""Safe files for weights: ``.npz`` arrays plus a JSON description, written atomically.

    nbytes = save_arrays("model.npz", {"w": w}, {"config": {...}})
    arrays, meta = load_arrays("model.npz")

Three rules keep a learner's checkpoints from ever being lost or dangerous:

1. **No pickle.** Arrays are stored as plain ``.npy`` entries, and the reader below accepts
   only plain numbers, so opening a file can never run code. The description is JSON,
   stored inside the ``.npz`` (entry ``__meta__``) and, for people to read, beside it as
   ``model.json``.
2. **Atomic writes.** Everything is written to a temporary file in the same folder and
   then renamed over the target (``os.replace``, atomic on one filesystem). An
   interrupted save leaves the previous file exactly as it was.
3. **Checked loads, in bounded time and memory.** A file may be damaged, or written by
   someone who wants to hurt you. ``load_arrays`` reads the zip archive itself and checks
   each entry *before* reading its data: stored uncompressed (so every byte an entry
   claims is a byte of the file), a ``.npy`` header of a few kilobytes at most, a dtype
   from an allowed list, and a shape whose bytes are exactly the bytes the entry holds.
   A header cannot make it allocate more than the file's size. Whatever goes wrong,
   including errors raised inside ``zipfile``, ``json`` or NumPy, comes out as one
   ``CheckpointError`` that names the file and the cause; the file is never written to.

The fingerprint in the description is an integrity check (the arrays are the ones that
were saved), not a signature: anyone can write a file with a valid one.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from .backend import to_numpy

META_KEY = "__meta__"

#: What a weight may be: real floating point. Integers, booleans, complex numbers, Python
#: objects and structured records are refused by the loaders of models and adapters.
WEIGHT_DTYPES = ("float16", "float32", "float64")
#: Whole numbers, for formats that store ids or counts.
INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
#: ``load_arrays``'s default: any real number (still no bool, complex, object or record).
NUMBER_DTYPES = WEIGHT_DTYPES + INTEGER_DTYPES

#: The most bytes read from an entry to find its ``.npy`` header (NumPy writes ~128).
HEADER_LIMIT = 64 * 1024

#: What bad bytes can raise inside zipfile, zlib, struct, json and NumPy (JSON and Unicode
#: errors are ValueErrors; RecursionError comes from deeply nested JSON or headers).
READ_ERRORS = (zipfile.BadZipFile, zlib.error, struct.error, ValueError, KeyError, IndexError, TypeError,
               EOFError, OSError, OverflowError, MemoryError, NotImplementedError, RecursionError)


class CheckpointError(ValueError):
    """A weights file that cannot be used: missing, truncated, corrupted, hostile, or for another model."""


def fingerprint(arrays: dict) -> str:
    """A short hash of names, shapes, dtypes and values: equal only for identical weights."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.shape}:{array.dtype.str};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def write_atomically(path, write) -> None:
    """Call ``write(file)`` on a temporary binary file beside ``path``, then rename it into place.

    The rename is atomic, so a reader (or a crash) never sees half a file: ``path`` holds
    either its old contents or all of the new ones. The file gets the permissions ``open``
    would give it (``mkstemp`` makes temporary files private).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def load_arrays(path, dtypes=NUMBER_DTYPES) -> tuple[dict, dict]:
    """Read a file written by ``save_arrays``: (arrays, meta).

    ``dtypes``: the dtype names an array may have (``WEIGHT_DTYPES`` for weights). Raises
    CheckpointError, naming the file and the cause, if the file is missing, damaged, holds
    an entry that is not a plain array of an allowed dtype, or does not match its fingerprint.
    Time and memory are bounded by the file's size, whatever its headers claim.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = _read_entries(archive, path.stat().st_size, dtypes)
        meta = _decode_description(arrays.pop(META_KEY, None))
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from err.__cause__
    except READ_ERRORS as err:
        raise CheckpointError(f"{path} is truncated or corrupted ({type(err).__name__}: {err})") from err
    if meta.get("fingerprint") != fingerprint(arrays):
        raise CheckpointError(f"{path}: the arrays do not match the fingerprint in its description "
                              f"(the file was altered or damaged)")
    return arrays, meta


def _read_entries(archive: zipfile.ZipFile, archive_size: int, dtypes) -> dict:
    """name -> array of every entry, each checked (``_check_entries``, ``_read_array``) before its data is read."""
    entries = archive.infolist()
    _check_entries(entries, archive_size)
    arrays = {}
    for entry in entries:
        name = entry.filename[:-len(".npy")]
        allowed = ("uint8",) if name == META_KEY else dtypes  # the description is UTF-8 bytes
        arrays[name] = _read_array(archive, entry, allowed)
    return arrays


def _check_entries(entries: list, archive_size: int) -> None:
    """Refuse an archive minipeft could not have written, from its directory alone.

    Every entry is ``<name>.npy``, named once, stored uncompressed and unencrypted (as
    ``np.savez`` writes it), and the entries' sizes add up to no more than the file's: so no
    entry can claim more bytes than there are, and none can be read twice.
    """
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        raise CheckpointError("an entry name appears twice in the archive")
    for entry in entries:
        if not entry.filename.endswith(".npy"):
            raise CheckpointError(f"entry {entry.filename!r} is not a .npy array")
        if entry.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(f"entry {entry.filename!r} is compressed (zip method {entry.compress_type}); "
                                  f"minipeft stores arrays uncompressed")
        if entry.flag_bits & 0x1:  # bit 0 of the zip's general-purpose flags: encrypted
            raise CheckpointError(f"entry {entry.filename!r} is encrypted")
        if entry.file_size != entry.compress_size:
            raise CheckpointError(f"entry {entry.filename!r} claims {entry.file_size:,} bytes but stores "
                                  f"{entry.compress_size:,}")
    claimed = sum(entry.file_size for entry in entries)
    if claimed > archive_size:
        raise CheckpointError(f"its entries claim {claimed:,} bytes but the file has {archive_size:,}")


def _read_array(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, dtypes) -> np.ndarray:
    """One ``.npy`` entry as an array: header first (at most HEADER_LIMIT bytes), checked, then the data.

    The header gives shape, dtype and memory order. The data that follows must be exactly
    prod(shape) * itemsize bytes, which ``_check_entries`` bounded by the file's size.
    """
    with archive.open(entry) as stream:
        head = io.BytesIO(stream.read(min(entry.file_size, HEADER_LIMIT)))
        shape, fortran_order, dtype = _read_header(head)
        _check_dtype(entry.filename, dtype, dtypes)
        data_bytes = entry.file_size - head.tell()
        if any(n < 0 for n in shape) or math.prod(shape) * dtype.itemsize != data_bytes:
            raise CheckpointError(f"entry {entry.filename!r}: its header claims shape {shape} of {dtype} "
                                  f"but the entry holds {data_bytes:,} bytes of data")
        data = head.read() + stream.read()  # the zip checks its CRC once the whole entry is read
    if len(data) != data_bytes:
        raise CheckpointError(f"entry {entry.filename!r} is truncated ({len(data):,} of {data_bytes:,} bytes)")
    order = "F" if fortran_order else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()  # copy: writable, its own memory


def _read_header(stream) -> tuple[tuple, bool, np.dtype]:
    """(shape, fortran_order, dtype) from a ``.npy`` header: the magic string, its version, then a dict."""
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(stream, max_header_size=HEADER_LIMIT)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(stream, max_header_size=HEADER_LIMIT)
    raise CheckpointError(f"unsupported .npy format version {version}")


def _check_dtype(entry_name: str, dtype: np.dtype, dtypes) -> None:
    """A plain (unstructured) dtype whose name is in ``dtypes``, in either byte order."""
    if dtype.fields is not None or dtype.subdtype is not None or dtype.name not in dtypes:
        raise CheckpointError(f"entry {entry_name!r} has dtype {dtype}; allowed here: {', '.join(dtypes)}")


def _decode_description(encoded) -> dict:
    """The JSON object stored as UTF-8 bytes in the ``__meta__`` entry."""
    if encoded is None:
        raise CheckpointError(f"it has no {META_KEY!r} entry: it was not written by minipeft")
    if encoded.ndim != 1:
        raise CheckpointError(f"its {META_KEY!r} entry has shape {encoded.shape}, expected a row of bytes")
    try:
        meta = json.loads(encoded.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as err:  # JSON and UTF-8 errors are ValueErrors, as is a 5,000-digit number
        raise CheckpointError(f"its description is not valid JSON ({type(err).__name__}: {err})") from err
    if not isinstance(meta, dict):
        raise CheckpointError(f"its description is a JSON {type(meta).__name__}, expected an object")
    return meta
