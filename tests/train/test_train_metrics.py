"""The metrics on cases small enough to check by hand."""
import numpy as np
import pytest

from minipeft.train.metrics import (accuracy, exact_match, lcs_length, mean, rouge1_f, rouge_l_f, rouge_n_f,
                                    span_exact_match, span_f1, strip_special)


def test_accuracy_counts_the_share_right():
    assert accuracy([1, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy(np.array([0, 1]), np.array([0, 1])) == 1.0
    assert accuracy([1, 1], [0, 0]) == 0.0


def test_accuracy_errors():
    with pytest.raises(ValueError, match="shape"):
        accuracy([1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="no examples"):
        accuracy([], [])


def test_exact_match_needs_the_same_tokens_in_the_same_order():
    assert span_exact_match([7, 8], np.array([7, 8])) == 1.0
    assert exact_match(["superb", "cake"], ["superb", "cake"]) == 1.0
    assert exact_match([7, 8], [8, 7]) == 0.0
    assert exact_match([7], [7, 8]) == 0.0


def test_span_f1_gives_partial_credit():
    # predicted "the superb cake" for the answer "superb cake": P = 2/3, R = 1, F1 = 2PR/(P+R) = 0.8
    assert span_f1(["the", "superb", "cake"], ["superb", "cake"]) == pytest.approx(0.8)
    # too short: P = 1, R = 1/2 -> 2/3
    assert span_f1(["cake"], ["superb", "cake"]) == pytest.approx(2 / 3)
    assert span_f1([1, 2], [3, 4]) == 0.0
    assert span_f1([5, 6], [6, 5]) == 1.0  # a bag of tokens: order does not matter


def test_span_f1_clips_repeated_tokens():
    # overlap of {a: 2, b: 1} and {a: 1, b: 2} is {a: 1, b: 1} = 2 tokens: P = R = 2/3
    assert span_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("metric", [span_f1, rouge1_f, rouge_l_f, exact_match])
def test_empty_sequences_follow_squad(metric):
    assert metric([], []) == 1.0
    assert metric([1], []) == 0.0
    assert metric([], [1]) == 0.0


def test_rouge1_is_clipped_unigram_overlap():
    # "alice likes the soup ." vs "alice dislikes the soup .": 4 of 5 unigrams shared
    assert rouge1_f("alice likes the soup .".split(), "alice dislikes the soup .".split()) == pytest.approx(0.8)
    assert rouge1_f([1, 1, 1], [1]) == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))  # P 1/3, R 1 -> 0.5
    assert rouge1_f([1, 2, 3], [3, 2, 1]) == 1.0


def test_rouge2_counts_bigrams():
    # bigrams (the, cat) (cat, sat) vs (the, cat) (cat, ran): one shared, P = R = 1/2
    assert rouge_n_f("the cat sat".split(), "the cat ran".split(), n=2) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        rouge_n_f([1], [1], n=0)


def test_lcs_length_classic_example():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], [1, 2]) == 0
    assert lcs_length([1, 2, 3], [1, 2, 3]) == 3


def test_rouge_l_rewards_order():
    # LCS of (5 6 7 8) and (5 7 8) is 3: P = 3/4, R = 1, F = 6/7
    assert rouge_l_f([5, 6, 7, 8], [5, 7, 8]) == pytest.approx(6 / 7)
    # same words, reversed: ROUGE-1 is perfect, ROUGE-L only finds a common subsequence of 1
    assert rouge_l_f([1, 2, 3], [3, 2, 1]) == pytest.approx(1 / 3)
    assert rouge_l_f(np.array([4, 5]), [4, 5]) == 1.0


def test_strings_and_matrices_are_refused():
    with pytest.raises(TypeError, match="split"):
        rouge1_f("alice likes", "alice likes")
    with pytest.raises(ValueError, match="1-D"):
        span_f1(np.zeros((2, 2)), [1])


def test_strip_special_and_mean():
    assert strip_special([9, 0, 8, 2, 7], stop=2, drop={0}) == [9, 8]
    assert strip_special(np.array([5, 6]), stop=2) == [5, 6]
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        mean([])
