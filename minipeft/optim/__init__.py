"""Optimizers (SGD, Adam, AdamW), learning-rate schedules and gradient clipping.

    optimizer = mp.optim.AdamW(model.parameters(), lr=1e-3)   # frozen weights are left out
    schedule = mp.optim.LinearWarmupDecay(optimizer, total_steps=1000, warmup_fraction=0.1)
    for batch in batches:
        optimizer.zero_grad()
        loss = ...; loss.backward()
        mp.optim.clip_grad_norm(model.parameters(), 1.0)
        optimizer.step(); schedule.step()

Only trainable parameters get optimizer state (``optimizer.state_size_bytes()``).
"""
from .adam import Adam, AdamW
from .clip import clip_grad_norm
from .optimizer import Optimizer
from .schedule import LinearWarmupDecay, linear_warmup_decay, warmup_steps_of
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "LinearWarmupDecay", "Optimizer", "clip_grad_norm", "linear_warmup_decay",
           "warmup_steps_of"]
