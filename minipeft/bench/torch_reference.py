"""The benchmark's model written again in plain PyTorch, to time minipeft against.

Optional: it runs when ``import torch`` works (and, for ``cuda``, torch sees a GPU), and is
reported as skipped otherwise. torch is never a dependency of minipeft.

The PyTorch side is fp32 eager code made of plain tensor ops (matmul, softmax, layer_norm,
gelu): no fused attention, no TF32, no compilation, so both sides do the same arithmetic
and the ratio measures the engines, not the algorithms. It reads minipeft's own weights
(same names, Linear weights stored (in, out)), and the losses of both are compared before
anything is timed. The two steps are then timed in turns in one run (``time_interleaved_ms``),
so a slow spell of a shared machine falls on both.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd import no_grad
from .steps import TrainingStep
from .timing import median, time_interleaved_ms


def torch_comparison(step: TrainingStep, repeats: int, warmup: int = 2) -> dict:
    """Time PyTorch's training step of ``step``'s model (same weights, same batch, Adam with
    the same learning rate) against ``step`` itself, in turns.

    Returns {"step_ms", "minipeft_step_ms", "ratio" (minipeft / PyTorch), "loss",
    "minipeft_loss", "loss_rel_diff", "version", "threads"}, or {"skipped": reason}."""
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed (optional; never a dependency)"}
    device = backend.device_of(step.batch["input_ids"])
    if device == "cuda" and not torch.cuda.is_available():
        return {"skipped": f"torch {torch.__version__} sees no CUDA device"}
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 products, as CuPy's matmul does by default
    torch.backends.cudnn.allow_tf32 = False
    params, ids, labels = torch_inputs(torch, step)

    def loss_fn():
        return torch_bert_classifier_loss(torch, params, step.config, ids, labels)

    with no_grad():
        ours = step.model(step.batch["input_ids"], labels=step.batch["labels"])["loss"].item()
    with torch.no_grad():
        theirs = loss_fn().item()
    optimizer = torch.optim.Adam(list(params.values()), lr=step.optimizer.lr)

    def torch_step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn().backward()
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    times = time_interleaved_ms({"torch": torch_step, "minipeft": step}, warmup=warmup, repeats=repeats)
    torch_ms, minipeft_ms = median(times["torch"]), median(times["minipeft"])
    return {"step_ms": torch_ms, "minipeft_step_ms": minipeft_ms, "ratio": minipeft_ms / torch_ms,
            "loss": theirs, "minipeft_loss": ours, "loss_rel_diff": abs(ours - theirs) / max(abs(theirs), 1e-12),
            "version": torch.__version__, "threads": torch.get_num_threads() if device == "cpu" else None}


def torch_inputs(torch, step: TrainingStep):
    """(parameters by minipeft's names, input ids, labels) as torch tensors on the step's device;
    the parameters are leaf tensors that require grad, copied from the model's current weights."""
    device = torch.device(backend.device_of(step.batch["input_ids"]))
    params = {name: torch.tensor(array, device=device, requires_grad=True)
              for name, array in step.model.state_dict().items()}
    ids = torch.tensor(backend.to_numpy(step.batch["input_ids"]), device=device)
    labels = torch.tensor(backend.to_numpy(step.batch["labels"]), device=device)
    return params, ids, labels


def torch_bert_classifier_loss(torch, P: dict, config, ids, labels):
    """BertForSequenceClassification (pooling "cls", no dropout, no padding) in plain torch,
    reading minipeft's parameter names; weights are (in, out) as in minipeft's Linear."""
    F = torch.nn.functional
    d, heads = config.hidden_size, config.num_heads
    dh = d // heads
    eps = config.layer_norm_eps

    def linear(x, name):
        return x @ P[name + ".weight"] + P[name + ".bias"]

    def norm(x, name):
        return F.layer_norm(x, (d,), P[name + ".weight"], P[name + ".bias"], eps)

    batch, length = ids.shape
    h = (P["bert.embeddings.token.weight"][ids] + P["bert.embeddings.position.weight"][:length]
         + P["bert.embeddings.segment.weight"][0])
    h = norm(h, "bert.embeddings.norm")
    for i in range(config.num_layers):
        pre = f"bert.layers.{i}."

        def heads_of(x):
            return x.reshape(batch, length, heads, dh).permute(0, 2, 1, 3)  # (B, H, T, dh)

        q, k, v = (heads_of(linear(h, pre + "attention." + n)) for n in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(dh)), dim=-1)
        context = (probs @ v).permute(0, 2, 1, 3).reshape(batch, length, d)
        h = norm(h + linear(context, pre + "attention.output.dense"), pre + "attention_norm")
        ff = F.gelu(linear(h, pre + "feed_forward.intermediate"), approximate="tanh")
        h = norm(h + linear(ff, pre + "feed_forward.output.dense"), pre + "feed_forward_norm")
    pooled = torch.tanh(linear(h[:, 0], "bert.pooler.dense"))
    return F.cross_entropy(linear(pooled, "head.classifier"), labels)


def torch_line(t: dict) -> str:
    """The comparison as one line of ``format_report``."""
    if "skipped" in t:
        return f"  PyTorch comparison     skipped: {t['skipped']}"
    threads = f", {t['threads']} threads" if t["threads"] else ""
    return (f"  PyTorch {t['version']} fp32 eager step {t['step_ms']:.1f} ms against minipeft's "
            f"{t['minipeft_step_ms']:.1f} ms in the same run{threads}: minipeft / PyTorch = {t['ratio']:.2f}; "
            f"same weights, losses {t['minipeft_loss']:.6f} vs {t['loss']:.6f}")


def torch_row(t: dict) -> str:
    """The comparison as a row of ``markdown_summary``'s table."""
    if "skipped" in t:
        return f"| PyTorch fp32 eager step | skipped: {t['skipped']} |"
    return (f"| PyTorch {t['version']} fp32 eager step | {t['step_ms']:.1f} ms against minipeft's "
            f"{t['minipeft_step_ms']:.1f} ms, in turns (minipeft / PyTorch = {t['ratio']:.2f}) |")
