"""The PyTorch side of the benchmark is the same model as minipeft's: same loss and same
gradients from the same weights, so its timing is a fair yardstick.

torch is optional (never a dependency): where it is not installed the comparison must say so
instead of failing, which the first test checks everywhere; the others need torch and skip,
with that reason, without it (``pip install torch`` next to minipeft runs them).
"""
import sys

import numpy as np
import pytest

from minipeft.bench import TrainingStep
from minipeft.testing import assert_gradients_close
from minipeft.bench.torch_reference import (torch_bert_classifier_loss, torch_comparison, torch_inputs, torch_line,
                                            torch_row)


def test_without_torch_the_comparison_says_it_was_skipped(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    result = torch_comparison(TrainingStep("bench-tiny"), repeats=1)
    assert result == {"skipped": "torch is not installed (optional; never a dependency)"}
    assert "skipped: torch is not installed" in torch_line(result) and "skipped" in torch_row(result)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="the PyTorch comparison needs torch (optional)")


def test_the_torch_model_computes_minipeft_s_loss_and_gradients(torch):
    step = TrainingStep("bench-tiny")
    loss = step.model(step.batch["input_ids"], labels=step.batch["labels"])["loss"]
    loss.backward()
    params, ids, labels = torch_inputs(torch, step)
    torch_loss = torch_bert_classifier_loss(torch, params, step.config, ids, labels)
    torch_loss.backward()
    np.testing.assert_allclose(torch_loss.item(), loss.item(), rtol=1e-6)
    ours = {name: p.grad for name, p in step.model.named_parameters()}
    theirs = {name: (np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy())  # unused rows: None
              for name, p in params.items()}
    assert_gradients_close(ours, theirs, rtol=1e-4, what="minipeft vs PyTorch")


def test_the_comparison_times_both_steps_and_reports_them(torch):
    step = TrainingStep("bench-tiny")
    result = torch_comparison(step, repeats=3, warmup=1)
    assert result["loss_rel_diff"] < 1e-5
    assert result["step_ms"] > 0 and result["minipeft_step_ms"] > 0
    assert result["ratio"] == pytest.approx(result["minipeft_step_ms"] / result["step_ms"])
    for text in (torch_line(result), torch_row(result)):
        assert f"{result['ratio']:.2f}" in text and f"{result['step_ms']:.1f} ms" in text, text
