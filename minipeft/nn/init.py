"""Starting values for weights, drawn from minipeft's seeded generator (``manual_seed``).

    xavier_uniform   U(-a, a), a = sqrt(6 / (fan_in + fan_out)): keeps the variance of the
                     signal the same through a linear layer, forward and backward
    normal           N(0, std^2), BERT's choice for embeddings (std 0.02)
    truncated_normal N(0, std^2) redrawn beyond 2 std: no rare huge weight
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .module import Parameter


def _array(values: np.ndarray):
    return backend.to_device(values.astype(np.float32), backend.get_device())


def _rng():
    return backend.rng("cpu")  # drawn on the CPU so that a seed gives the same weights on any device


def xavier_uniform(fan_in: int, fan_out: int, shape=None) -> Parameter:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return Parameter(_array(_rng().uniform(-bound, bound, size=shape or (fan_in, fan_out))))


def normal(shape, std: float) -> Parameter:
    return Parameter(_array(_rng().normal(0.0, std, size=shape)))


def truncated_normal(shape, std: float) -> Parameter:
    values = _rng().normal(0.0, 1.0, size=shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = _rng().normal(0.0, 1.0, size=int(outside.sum()))
        outside = np.abs(values) > 2
    return Parameter(_array(values * std))


def zeros(shape) -> Parameter:
    return Parameter(_array(np.zeros(shape)))


def ones(shape) -> Parameter:
    return Parameter(_array(np.ones(shape)))
