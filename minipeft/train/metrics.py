"""Scores for the tasks: accuracy, span exact match and F1 (SQuAD), ROUGE-1 and ROUGE-L.

Each metric is a small pure function of plain Python sequences (lists of token ids, of
words, or 1-D NumPy arrays), so a learner can check it by hand:

    accuracy([1, 0, 1], [1, 1, 1])                        # 2/3
    span_f1(["the", "superb", "cake"], ["superb", "cake"])  # P 2/3, R 1, F1 0.8
    rouge_l_f([5, 6, 7, 8], [5, 7, 8])                     # LCS 3: P 3/4, R 1, F 6/7

The sequence metrics compare one prediction with one reference and return a number in
[0, 1]; average them over a data set with ``mean``. Empty sequences follow SQuAD's rule,
for every metric here: if both are empty the prediction is exactly right (1.0); if only
one is empty nothing overlaps (0.0). (The ``rouge-score`` package returns 0.0 for two
empty sequences; an empty reference never occurs in our tasks.)

No text normalisation (lower-casing, dropping "the") is done: our tokens are already
words of a closed vocabulary.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np


def _as_list(tokens) -> list:
    """A sequence (list, tuple, 1-D array) as a list of plain Python items."""
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1:
            raise ValueError(f"expected a 1-D sequence of tokens, got an array of shape {tokens.shape}")
        return tokens.tolist()
    if isinstance(tokens, str):
        raise TypeError("expected a sequence of tokens, got a str; split it into words first (text.split())")
    return list(tokens)


def mean(values) -> float:
    """The average of a list of per-example scores (ValueError when there is none)."""
    values = list(values)
    if not values:
        raise ValueError("mean: no values to average")
    return float(sum(values) / len(values))


def accuracy(predictions, labels) -> float:
    """accuracy = (1/N) * sum_i [prediction_i == label_i]: the share of examples predicted right."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(f"accuracy: predictions have shape {predictions.shape} but labels {labels.shape}")
    if predictions.size == 0:
        raise ValueError("accuracy: no examples (accuracy of nothing is undefined)")
    return float((predictions == labels).mean())


def exact_match(prediction: Sequence, reference: Sequence) -> float:
    """EM = 1.0 if the predicted tokens equal the reference tokens (same order), else 0.0."""
    return float(_as_list(prediction) == _as_list(reference))


# a span's exact match is the exact match of its tokens
span_exact_match = exact_match


def _f_score(overlap: float, n_prediction: int, n_reference: int) -> float:
    """F1 = 2 P R / (P + R) with P = overlap / |prediction|, R = overlap / |reference|."""
    if n_prediction == 0 or n_reference == 0:
        return float(n_prediction == n_reference)  # both empty: 1.0, one empty: 0.0
    if overlap == 0:
        return 0.0
    precision, recall = overlap / n_prediction, overlap / n_reference
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: list, n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def rouge_n_f(prediction: Sequence, reference: Sequence, n: int = 1) -> float:
    """ROUGE-N F: overlap = sum over n-grams g of min(count_pred(g), count_ref(g)) (clipped counts),
    P = overlap / (number of predicted n-grams), R = overlap / (number of reference n-grams),
    F = 2 P R / (P + R)."""
    if n < 1:
        raise ValueError(f"rouge_n_f: n must be at least 1, got {n}")
    pred, ref = _ngrams(_as_list(prediction), n), _ngrams(_as_list(reference), n)
    overlap = sum((pred & ref).values())  # Counter & Counter keeps the smaller count of each n-gram
    return _f_score(overlap, sum(pred.values()), sum(ref.values()))


def rouge1_f(prediction: Sequence, reference: Sequence) -> float:
    """ROUGE-1 F: the F-score of the unigram (single-token) overlap, counts clipped (see rouge_n_f)."""
    return rouge_n_f(prediction, reference, 1)


def span_f1(prediction: Sequence, reference: Sequence) -> float:
    """SQuAD's token F1 of an answer span: the bag-of-tokens overlap of prediction and reference,
    P = overlap / |prediction|, R = overlap / |reference|, F1 = 2 P R / (P + R).
    (The same number as ROUGE-1 F: partial credit for a span that is too long or too short.)"""
    pred, ref = Counter(_as_list(prediction)), Counter(_as_list(reference))
    return _f_score(sum((pred & ref).values()), sum(pred.values()), sum(ref.values()))


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the longest common subsequence (tokens in the same order, gaps allowed).

    Dynamic programming, row by row: L[i][j] = L[i-1][j-1] + 1 if a[i] == b[j],
    else max(L[i-1][j], L[i][j-1]). O(|a| |b|) time, O(|b|) memory.
    """
    a, b = _as_list(a), _as_list(b)
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l_f(prediction: Sequence, reference: Sequence) -> float:
    """ROUGE-L F: P = LCS / |prediction|, R = LCS / |reference|, F = 2 P R / (P + R), where LCS is the
    longest common subsequence: credit for the words in the right order, even with gaps."""
    prediction, reference = _as_list(prediction), _as_list(reference)
    return _f_score(lcs_length(prediction, reference), len(prediction), len(reference))


def strip_special(tokens: Sequence, stop=None, drop=()) -> list:
    """The tokens up to (not including) the first ``stop`` token, without any token in ``drop``.

    For generated ids: ``strip_special(ids, stop=sep_id, drop={pad_id})`` keeps the words.
    """
    out = []
    for token in _as_list(tokens):
        if stop is not None and token == stop:
            break
        if token not in drop:
            out.append(token)
    return out


__all__ = ["accuracy", "exact_match", "span_exact_match", "span_f1", "rouge_n_f", "rouge1_f", "rouge_l_f",
           "lcs_length", "mean", "strip_special"]
