"""What the benchmark times: one training step of a BERT classifier (the layers alone, RNN
against Transformer, are timed in ``sequential.py``).

FLOPs are *counted*, not estimated: every matrix product goes through
``kernels.matmul.gemm``, which adds 2*m*n*k per product, so one step run under
``count_gemms()`` reports exactly the multiply-adds it did (forward and backward,
including the products that a frozen weight skips). Elementwise work (softmax, GELU,
layer norm) is not in those FLOPs: it is a few percent of the FLOPs but not of the time,
which is exactly what the efficiency figure exposes (``kernels.traffic`` counts the
elements it moves instead).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..kernels.matmul import count_gemms
from ..nn import BertConfig, BertForSequenceClassification
from ..optim import Adam
from ..peft import AdapterConfig, add_adapter
from .timing import time_ms

CONFIGS = {
    # a few milliseconds anywhere: the size the tests take a step at (also through emulated CUDA)
    "bench-tiny": dict(model=dict(vocab_size=50, hidden_size=16, num_layers=2, num_heads=2, ff_size=32,
                                  max_position=8, dropout=0.0), seq=8, batch=3, adapter_bottleneck=4),
    # the size the CPU figures are quoted at
    "bench-small": dict(model=dict(vocab_size=1000, hidden_size=128, num_layers=4, num_heads=4, ff_size=512,
                                   max_position=64, dropout=0.0), seq=64, batch=32, adapter_bottleneck=16),
    # BERT-Base shapes with a short sequence, for the GPU
    "bench-base": dict(model=dict(vocab_size=30522, hidden_size=768, num_layers=12, num_heads=12, ff_size=3072,
                                  max_position=128, dropout=0.0), seq=128, batch=32, adapter_bottleneck=64),
}


def make_batch(config: BertConfig, batch: int, seq: int, seed: int = 0) -> dict:
    """Random token ids (never the special ids 0-4) and labels, on the current device."""
    rng = np.random.default_rng(seed)
    xp = backend.xp_for(backend.get_device())
    return {"input_ids": xp.asarray(rng.integers(5, config.vocab_size, (batch, seq))),
            "labels": xp.asarray(rng.integers(0, 2, batch))}


def with_adapters(bottleneck: int):
    """A ``prepare`` for TrainingStep: Houlsby adapters of this bottleneck, base frozen, the
    layer norms of the Transformer layers and the head trainable (the peft defaults)."""
    def prepare(model):
        add_adapter(model, "bench", AdapterConfig(bottleneck=bottleneck))
    return prepare


class TrainingStep:
    """One optimizer step of a sequence classifier: zero grads, forward, loss, backward, update.

    ``prepare`` (optional) receives the model before the optimizer is built, e.g. to add
    adapters and freeze the base; the optimizer then holds only what still requires grad.
    """

    def __init__(self, name: str = "bench-small", prepare=None, lr: float = 1e-4, seed: int = 0):
        spec = CONFIGS[name]
        self.name, self.batch_size, self.seq = name, spec["batch"], spec["seq"]
        backend.manual_seed(seed)
        self.config = BertConfig(**spec["model"])
        self.model = BertForSequenceClassification(self.config, num_labels=2, pooling="cls")
        if prepare is not None:
            prepare(self.model)
        self.optimizer = Adam(self.model.parameters(trainable_only=True), lr=lr)
        self.batch = make_batch(self.config, self.batch_size, self.seq, seed)

    def __call__(self) -> float:
        self.optimizer.zero_grad()
        loss = self.model(self.batch["input_ids"], labels=self.batch["labels"])["loss"]
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def flops(self) -> int:
        """Matrix-product FLOPs of one step, counted while running one."""
        with count_gemms() as count:
            self()
        return count.flops

    def time(self, warmup: int = 2, repeats: int = 5) -> list[float]:
        return time_ms(self, warmup=warmup, repeats=repeats)
