"""Model checkpoints: every weight in a pickle-free ``.npz``, the model's config beside it in JSON.

    nbytes = save_checkpoint(model, "runs/bert.npz", extra={"steps": 6000})
    meta = load_checkpoint(model, "runs/bert.npz", expected_config=config)
    model, meta = load_pretrained("runs/bert.npz")        # rebuilt from the stored config

Built on ``minipeft.serialization``: the write is atomic (a crash mid-save leaves the old
file whole), the file is read without pickle, each array's header checked before its
data (opening it can never run code, nor allocate more than the file holds), and a
fingerprint catches truncated or altered files. The description, also
written beside the weights as ``bert.json`` for people to read, holds:

    format, version   "minipeft-checkpoint", 1
    model             the class that was saved ("BertForPreTraining")
    config            dataclasses.asdict(BertConfig): every size needed to rebuild the model
    shapes            each weight's shape, by dotted name
    extra             anything JSON-able you pass (steps trained, seed, results ...)

Loading checks everything before it copies anything: a wrong config, a missing,
unexpected or wrongly shaped weight, a weight that is not real floating point, raises
``CheckpointError`` naming the keys or fields, and the model is left exactly as it was.
``load_pretrained`` compares the shapes its stored config implies with the file's arrays
*before* it builds the model, so a description that claims a huge model is refused in
milliseconds, without allocating it. Loading never writes to the file.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Iterator

from ..nn import BertConfig, BertForPreTraining
from ..serialization import WEIGHT_DTYPES, CheckpointError, load_arrays, save_arrays

FORMAT, VERSION = "minipeft-checkpoint", 1


def model_config(model):
    """The config a model was built from: ``model.config``, or that of its ``bert`` encoder (None if neither)."""
    for holder in (model, getattr(model, "bert", None)):
        config = getattr(holder, "config", None)
        if config is not None:
            return config
    return None


def _config_dict(config) -> dict | None:
    """A config as a JSON-ready dict (a dataclass, a dict or None)."""
    if config is None:
        return None
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dataclass (e.g. BertConfig) or a dict, got {type(config).__name__}")
    return json.loads(json.dumps(config))  # what a round trip through the file gives (tuples -> lists)


def save_checkpoint(model, path, config=None, extra: dict | None = None) -> int:
    """Write ``model``'s weights and description to ``path`` (.npz) atomically; return the .npz size in bytes.

    ``config`` defaults to the model's own (``model_config``); ``extra`` must be JSON-able.
    """
    try:
        json.dumps(extra)
    except (TypeError, ValueError) as err:
        raise TypeError(f"save_checkpoint: extra must be JSON-able (numbers, strings, lists, dicts): {err}") from None
    state = model.state_dict()
    meta = {"format": FORMAT, "version": VERSION, "model": type(model).__name__,
            "config": _config_dict(config if config is not None else model_config(model)),
            "shapes": {name: list(array.shape) for name, array in state.items()},
            "parameters": int(sum(array.size for array in state.values())),
            "extra": extra if extra is not None else {}}
    return save_arrays(path, state, meta)


def read_checkpoint(path) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint file, checked to be a minipeft model checkpoint: real
    floating-point weights only (``WEIGHT_DTYPES``), a config that is a JSON object (or absent)."""
    arrays, meta = load_arrays(path, dtypes=WEIGHT_DTYPES)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a model checkpoint (format {meta.get('format')!r}, expected "
                              f"{FORMAT!r}); adapter files load with minipeft.peft.load_adapter")
    if not isinstance(meta.get("config"), (dict, type(None))):
        raise CheckpointError(f"{path}: its config is a JSON {type(meta['config']).__name__}, expected an object")
    return arrays, meta


def config_differences(expected: dict, stored: dict) -> list[str]:
    """'field: expected X, file has Y' for every field where two config dicts disagree."""
    return [f"{key}: expected {expected.get(key, '<absent>')!r}, file has {stored.get(key, '<absent>')!r}"
            for key in sorted(set(expected) | set(stored)) if expected.get(key) != stored.get(key)]


def _check_config(path, meta: dict, expected_config) -> None:
    expected = _config_dict(expected_config)
    stored = meta.get("config")
    if stored is None:
        raise CheckpointError(f"{path} holds no config to compare with the expected one")
    differences = config_differences(expected, stored)
    if differences:
        raise CheckpointError(f"{path} was saved with another config: " + "; ".join(differences))


def _check_state(path, model, arrays: dict, meta: dict, strict: bool) -> None:
    """Every key and shape, all problems in one message, before anything is copied."""
    params = dict(model.named_parameters())
    missing = sorted(set(params) - set(arrays)) if strict else []
    unexpected = sorted(set(arrays) - set(params))
    shapes = [f"{name} (model {params[name].shape}, file {tuple(arrays[name].shape)})"
              for name in sorted(set(params) & set(arrays)) if params[name].shape != tuple(arrays[name].shape)]
    problems = []
    for label, names in (("missing from the file", missing), ("not in the model", unexpected),
                         ("with other shapes", shapes)):
        if names:
            problems.append(f"{len(names)} weights {label}: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''}")
    if problems:
        raise CheckpointError(f"{path} (saved from a {meta.get('model', '?')}) does not fit this "
                              f"{type(model).__name__}: " + "; ".join(problems))


def _in_model_dtypes(model, arrays: dict) -> dict:
    """The file's arrays converted, on purpose, to the dtype of the model's weight of the same name.

    A file saved in float64 (a gradient check) or float16 (to halve its size) loads into a
    float32 model: float16 -> float32 is exact, float64 -> float32 rounds each value to the
    nearest float32. ``read_checkpoint`` has already refused every dtype that is not a real float.
    """
    params = dict(model.named_parameters())
    return {name: array.astype(params[name].dtype, copy=False) for name, array in arrays.items()}


def load_checkpoint(model, path, expected_config=None, prefix: str | None = None, strict: bool = True) -> dict:
    """Copy the weights in ``path`` into ``model``; return the file's description (meta).

    expected_config  if given, the stored config must equal it field by field
    prefix           load only the weights whose names start with it, without it: e.g.
                     ``load_checkpoint(classifier.bert, path, prefix="bert.")`` puts a
                     pre-trained BertForPreTraining's encoder into a classifier
    strict           False: weights of the model missing from the file keep their values

    Weights must be float16, float32 or float64 in the file; each is converted to the dtype
    of the model's weight (``_in_model_dtypes``). Raises CheckpointError, leaving the model
    unchanged, if the file is missing, truncated, corrupted, of another config, or if a weight
    is missing, unexpected, of another shape or not a real floating-point number.
    """
    arrays, meta = read_checkpoint(path)
    if expected_config is not None:
        _check_config(path, meta, expected_config)
    if prefix:
        arrays = {name[len(prefix):]: array for name, array in arrays.items() if name.startswith(prefix)}
        if not arrays:
            raise CheckpointError(f"{path} holds no weight whose name starts with {prefix!r}")
    _check_state(path, model, arrays, meta, strict)
    model.load_state_dict(_in_model_dtypes(model, arrays), strict=strict)
    return meta


# ---- rebuilding a BertForPreTraining from its file, checked before anything is built ----------------------

def pretraining_weights(config: BertConfig) -> Iterator[tuple[str, tuple]]:
    """(name, shape) of every weight of ``BertForPreTraining(config)``, in order, from the config alone.

    Nothing is allocated, and it is a generator: a check can stop at the first weight that
    differs, however many layers a config claims. (A test compares it with a built model.)
    """
    d, ff, vocab = config.hidden_size, config.ff_size, config.vocab_size

    def linear(name, n_in, n_out):  # y = x W + b, W (n_in, n_out)
        return [(f"{name}.weight", (n_in, n_out)), (f"{name}.bias", (n_out,))]

    def norm(name):  # gamma and beta, (d,) each
        return [(f"{name}.weight", (d,)), (f"{name}.bias", (d,))]

    yield ("bert.embeddings.token.weight", (vocab, d))
    yield ("bert.embeddings.position.weight", (config.max_position, d))
    yield ("bert.embeddings.segment.weight", (config.type_vocab_size, d))
    yield from norm("bert.embeddings.norm")
    for i in range(config.num_layers):
        layer = f"bert.layers.{i}"
        for projection in ("query", "key", "value", "output.dense"):
            yield from linear(f"{layer}.attention.{projection}", d, d)
        yield from norm(f"{layer}.attention_norm")
        yield from linear(f"{layer}.feed_forward.intermediate", d, ff)
        yield from linear(f"{layer}.feed_forward.output.dense", ff, d)
        yield from norm(f"{layer}.feed_forward_norm")
    if config.pooler:
        yield from linear("bert.pooler.dense", d, d)
    yield ("mlm.bias", (vocab,))  # the MLM decoder's weight is the token table, tied
    yield from linear("mlm.dense", d, d)
    yield from norm("mlm.norm")
    yield from linear("nsp.classifier", d, 2)


def _shape_problems(config: BertConfig, arrays: dict, limit: int = 6) -> list[str]:
    """Up to ``limit`` differences between the weights ``config`` implies and the file's arrays."""
    problems, expected = [], set()
    for name, shape in pretraining_weights(config):
        expected.add(name)
        if name not in arrays:
            problems.append(f"{name} {shape} is missing from the file")
        elif tuple(arrays[name].shape) != shape:
            problems.append(f"{name} is {shape} by the config but {tuple(arrays[name].shape)} in the file")
        if len(problems) >= limit:
            return problems
    problems += [f"{name} is in the file but not in the model" for name in sorted(set(arrays) - expected)]
    return problems[:limit]


def pretraining_config(path, arrays: dict, meta: dict) -> BertConfig:
    """The BertConfig a BertForPreTraining checkpoint stores (``read_checkpoint(path)`` gives
    ``arrays`` and ``meta``), checked against the file's arrays before anything is built: a
    model built from it is never bigger than the weights in the file. CheckpointError otherwise."""
    try:
        config = BertConfig(**(meta.get("config") or {}))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: its config cannot build a BertConfig ({err})") from err
    problems = _shape_problems(config, arrays)
    if problems:
        raise CheckpointError(f"{path}: its weights do not fit the config it stores (nothing was built): "
                              + "; ".join(problems))
    return config


def load_pretrained(path) -> tuple[BertForPreTraining, dict]:
    """Rebuild the BertForPreTraining saved in ``path`` from its stored config and load its weights.

    The shapes the config implies are compared with the file's arrays first
    (``pretraining_config``), so a config that lies is refused before any model is built.
    Weights load as in ``load_checkpoint``.

    Returns (model, meta); ``meta["extra"]`` holds what was saved with it. (Building the model
    draws initial weights, so it advances the random generator before they are overwritten.)
    """
    arrays, meta = read_checkpoint(path)
    if meta.get("model") != "BertForPreTraining":
        raise CheckpointError(f"{path} holds a {meta.get('model')!r}, not a BertForPreTraining; build that "
                              f"model yourself and call load_checkpoint")
    model = BertForPreTraining(pretraining_config(path, arrays, meta))
    _check_state(path, model, arrays, meta, strict=True)
    model.load_state_dict(_in_model_dtypes(model, arrays))
    return model, meta
