"""Damaged and hostile weight files. The tests here import ``fuzz_files`` (the harness that
makes and loads them, also a script) as a plain module from this folder."""
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_files  # noqa: E402


@pytest.fixture
def files(tmp_path):
    """A tiny model's checkpoint and a tiny adapter file, with what made them: ``files.model``
    (the BertForPreTraining saved to ``files.checkpoint``), ``files.base`` (a classifier),
    ``files.tuned`` (the base with adapter "task", saved to ``files.adapter``)."""
    model, checkpoint, base, tuned, adapter = fuzz_files.originals(tmp_path)
    return types.SimpleNamespace(model=model, checkpoint=checkpoint, base=base, tuned=tuned, adapter=adapter,
                                 folder=tmp_path)
