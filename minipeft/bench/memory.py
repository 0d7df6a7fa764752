"""The memory of a full fine-tuning step, computed from the shapes: for models too big to build.

Training with Adam in float32 holds four kinds of array at once:

    parameters        the weights themselves                   4 bytes per parameter
    gradients         dL/dw, one per *trainable* weight          4 bytes per trainable parameter
    optimizer state   Adam's two moments m and v per weight      8 bytes per trainable parameter
    activations       what the forward pass keeps for backward   grows with batch x length

so full fine-tuning costs 16 bytes per parameter before a single activation is stored.

``step_memory`` (in ``step_memory.py``) *measures* the four parts on a model that exists.
This module *computes* them from a BertConfig, so BERT-Base and BERT-Large can be sized on
a laptop. The activation term is a formula (``activation_bytes_formula``) written from
what minipeft's ops save for backward; tests/bench/test_bench_memory.py checks it against
the measurement at small sizes (they agree to 0.1%).

    estimate = estimate_training_memory(BertConfig.preset("large"), batch=32, seq=128)
"""
from __future__ import annotations

from ..nn import BertConfig, count_parameters

PARTS = ("parameters", "gradients", "optimizer_state", "activations")


def activation_bytes_formula(config: BertConfig, batch: int, seq: int) -> int:
    """Bytes a BertForSequenceClassification (mean pooling) keeps for backward, from the shapes alone.

    A formula, not a measurement: it adds up what each of minipeft's ops saves in training
    mode with every weight trainable. With N = B T tokens, width d, feed-forward width f,
    h heads and L layers, in float32 numbers:

        per encoder layer
          inputs of the linear layers   q/k/v (one shared input), output, W1, W2:  3 N d + N f
          attention                     q, k, v: 3 N d;  softmax probabilities: B h T^2
          two layer norms               x_hat: 2 N d;  1/std: 2 N
          GELU                          its input and its tanh term: 2 N f
          -> N (8 d + 3 f + 2) + B h T^2
        embeddings                      layer norm x_hat and 1/std: N (d + 1)
        mean-pooling head               the mask N, the pooled features B d
        dropout (if config.dropout > 0) a mask after the embeddings and after each of the
                                        2 L sublayers: N d (1 + 2 L), and B d in the head

    plus the token and segment ids (two int64 arrays of N) and the padding mask (N bools).
    The B h T^2 term is why long sequences are expensive.
    """
    n, d, f, h, layers = batch * seq, config.hidden_size, config.ff_size, config.num_heads, config.num_layers
    floats = layers * (n * (8 * d + 3 * f + 2) + batch * h * seq * seq) + n * (d + 1) + n + batch * d
    if config.dropout > 0:
        floats += n * d * (1 + 2 * layers) + batch * d
    return 4 * floats + 8 * 2 * n + n


def estimate_training_memory(config: BertConfig, batch: int, seq: int,
                             optimizer_floats_per_parameter: int = 2, trainable_fraction: float = 1.0) -> dict:
    """{part: bytes} of a float32 fine-tuning step of ``BertModel(config)``, computed from shapes.

    parameters         count_parameters(config) x 4 bytes
    gradients          trainable parameters x 4
    optimizer_state    trainable parameters x 2 x 4 (Adam's m and v)
    activations        activation_bytes_formula(config, batch, seq) (with every weight trainable)

    ``trainable_fraction`` < 1 sizes a run that trains only part of the weights; its
    activations are then an upper bound (frozen weights keep fewer of them).
    """
    if not 0.0 <= trainable_fraction <= 1.0:
        raise ValueError(f"estimate_training_memory: trainable_fraction must be in [0, 1], got {trainable_fraction}")
    n_params = count_parameters(config)
    trainable = int(round(n_params * trainable_fraction))
    return {"parameters": 4 * n_params, "gradients": 4 * trainable,
            "optimizer_state": 4 * optimizer_floats_per_parameter * trainable,
            "activations": activation_bytes_formula(config, batch, seq)}


__all__ = ["PARTS", "activation_bytes_formula", "estimate_training_memory"]
