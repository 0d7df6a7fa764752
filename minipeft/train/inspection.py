"""What fine-tuning touches, looked at: gradient norms per tensor, parameters grouped by layer,
and the module tree with what trains. Lesson 07 uses them to show that adapter training sends
no gradient into the frozen base.

    norms = gradient_norms(model, task, batch)   # {name: L2 norm of dL/dW, None if frozen}
    layer_of("bert.layers.1.attention.query.weight")   # "layer 1"
    print(describe_trainable(model.bert.layers[0]))   # one line per module holding weights
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .loop import model_device, to_device
from .objectives import TASK_LOSSES


def gradient_norms(model, task, batch: dict) -> dict:
    """One forward and backward pass of ``task``'s loss on ``batch``: {parameter name: L2 norm of its
    gradient}, in the model's order, with None for every frozen parameter (it gets no gradient) and
    0.0 for a trainable one the loss does not use. The gradients are cleared afterwards; no weight
    changes."""
    model.zero_grad()
    was_training = model.training
    model.train()
    try:
        loss = TASK_LOSSES[task.kind](model, to_device(batch, model_device(model)))
        loss.backward()
        norms = {}
        for name, param in model.named_parameters():
            grad = param.grad
            if not param.requires_grad:
                norms[name] = None
            elif grad is None:  # trainable, but the loss does not depend on it (a pooler a mean-pooled head skips)
                norms[name] = 0.0
            else:
                norms[name] = float(np.sqrt((backend.to_numpy(grad).astype(np.float64) ** 2).sum()))
    finally:
        model.zero_grad()
        model.train(was_training)
    return norms


def layer_of(name: str) -> str:
    """Which part of the network a parameter belongs to, for grouping: "embeddings", "layer 0",
    "layer 1", ..., "pooler", "head" (or the name's first part)."""
    parts = name.split(".")
    if "layers" in parts:
        index = parts.index("layers")
        if index + 1 < len(parts) and parts[index + 1].isdigit():
            prefix = "decoder layer" if "decoder_layers" in parts[:index + 1] else "layer"
            return f"{prefix} {parts[index + 1]}"
    if "decoder_layers" in parts:
        return f"decoder layer {parts[parts.index('decoder_layers') + 1]}"
    for part in ("embeddings", "pooler", "head"):
        if part in parts:
            return part
    return parts[0]


def describe_trainable(module, indent: str = "  ") -> str:
    """The module tree, one line per module that holds weights itself: its path, type, how many
    weights it holds and whether they train, with adapters marked. For printing one layer."""
    rows = []
    for path, sub in module.named_modules():
        own = [p for p in sub._parameters.values() if p is not None]
        kind = type(sub).__name__
        if not own and kind not in ("AdapterWrapper", "Adapter"):
            continue
        depth = path.count(".") + 1 if path else 0
        count = sum(p.size for p in own)
        trains = [p.requires_grad for p in own]
        state = "" if not own else ("trains" if all(trains) else "frozen" if not any(trains) else "partly trains")
        mark = {"Adapter": "  <== adapter (new, trained)",
                "AdapterWrapper": "  <== wraps the output projection; the adapter sits after it"}.get(kind, "")
        if kind == "LayerNorm" and any(trains):
            mark = "  <== the adapter's own copy of this layer norm"
        label = f"{indent * depth}{path.rsplit('.', 1)[-1] if path else kind}"
        rows.append((label, kind, f"{count:,}" if own else "", state, mark))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2].rjust(widths[2])}  "
                     f"{r[3].ljust(widths[3])}{r[4]}".rstrip() for r in rows)
