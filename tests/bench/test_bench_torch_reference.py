"""The PyTorch side of the benchmark is the same model as minipeft's: same loss and same
gradients from the same weights, adapters and frozen parameters included, so its timing is a
fair yardstick.

torch is optional (never a dependency): where it is not installed the comparison must say so
instead of failing, which the first test checks everywhere; the others need torch and skip,
with that reason, without it (``pip install torch`` next to minipeft runs them).
"""
import numpy as np
import pytest

from minipeft.bench import TrainingStep
from minipeft.bench.steps import with_adapters
from minipeft.bench.torch_reference import separate_process_comparison, time_side, torch_line, torch_row
from minipeft.testing import assert_gradients_close


def test_without_torch_the_comparison_says_it_was_skipped(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *args: None if name == "torch" else object())
    result = separate_process_comparison("bench-tiny", repeats=1)
    assert result == {"skipped": "torch is not installed (optional; never a dependency)"}
    assert "skipped: torch is not installed" in torch_line(result) and "skipped" in torch_row(result)


def test_a_side_that_is_not_known_is_refused():
    with pytest.raises(ValueError, match="side must be one of"):
        time_side("jax", "bench-tiny", repeats=1)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="the PyTorch comparison needs torch (optional)")


@pytest.mark.parametrize("adapters", [False, True], ids=["full", "adapters"])
def test_the_torch_model_computes_minipeft_s_loss_and_gradients(torch, adapters):
    from minipeft.bench.torch_model import from_minipeft

    step = TrainingStep("bench-tiny", prepare=with_adapters(4) if adapters else None)
    loss = step.model(step.batch["input_ids"], labels=step.batch["labels"])["loss"]
    loss.backward()
    copy = from_minipeft(step.model, step.config)
    torch_loss = copy(torch.as_tensor(step.batch["input_ids"]), torch.as_tensor(step.batch["labels"]))
    torch_loss.backward()
    np.testing.assert_allclose(torch_loss.item(), loss.item(), rtol=1e-6)
    ours = {name: p.grad for name, p in step.model.named_parameters() if p.requires_grad}
    theirs = {}
    for name, p in copy.named_parameters():
        grad = np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy()  # unused rows: None
        theirs[name] = grad.T if grad.ndim == 2 and "embeddings" not in name else grad  # nn.Linear: (out, in)
    assert {name for name, p in copy.named_parameters() if p.requires_grad} == set(ours)
    assert_gradients_close(ours, {name: theirs[name] for name in ours}, rtol=1e-4, what="minipeft vs PyTorch")


def test_each_side_is_timed_in_its_own_process_and_reported(torch):
    result = separate_process_comparison("bench-tiny", repeats=2, rounds=1)
    assert result["loss_rel_diff"] < 1e-5
    for key in ("minipeft_full_ms", "torch_full_ms", "minipeft_adapter_ms", "torch_adapter_ms"):
        assert result[key] > 0
    assert result["full_ratio"] == pytest.approx(result["minipeft_full_ms"] / result["torch_full_ms"])
    assert result["torch_adapter_vs_full"] == pytest.approx(result["torch_adapter_ms"] / result["torch_full_ms"])
    for text in (torch_line(result), torch_row(result)):
        assert "PyTorch" in text and f"{result['full_ratio']:.2f}" in text
