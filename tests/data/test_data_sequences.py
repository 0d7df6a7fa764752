"""The recall task of lesson 02: one key token, `distance` steps before the end, among distractors.

The tests pin down the rule a model must learn (the label is the key; the key is the
only key token in the row; it sits exactly at length - distance), and that the data is
the same for the same seed and different for another.
"""
import itertools

import numpy as np
import pytest

from minipeft.data.sequences import RecallTask, accuracy


def test_the_label_is_the_key_token_at_length_minus_distance():
    task = RecallTask(length=30, distance=12, num_classes=4, num_distractors=16)
    ids, labels = task.sample(500, seed=0)
    assert ids.shape == (500, 30) and labels.shape == (500,)
    assert ids.dtype == np.int64 and labels.dtype == np.int64
    assert task.key_position == 18
    np.testing.assert_array_equal(ids[:, 18], labels)


def test_the_key_is_the_only_key_token_and_the_rest_are_distractors():
    task = RecallTask(length=20, distance=5, num_classes=3, num_distractors=7)
    ids, _ = task.sample(400, seed=1)
    is_key = ids < task.num_classes
    assert is_key[:, task.key_position].all()
    assert is_key.sum() == len(ids)  # exactly one key per row
    assert ids.min() >= 0 and ids.max() < task.vocab_size == 10
    distractors = np.delete(ids, task.key_position, axis=1)
    assert set(np.unique(distractors)) == set(range(3, 10))  # every distractor gets used


def test_default_distance_is_the_whole_sequence_copy_the_first_token():
    task = RecallTask(length=8)
    assert task.distance == 8 and task.key_position == 0
    ids, labels = task.sample(50, seed=0)
    np.testing.assert_array_equal(ids[:, 0], labels)
    last = RecallTask(length=8, distance=1)
    assert last.key_position == 7


def test_classes_are_roughly_balanced_and_chance_is_one_over_classes():
    task = RecallTask(length=10, num_classes=4)
    _, labels = task.sample(4000, seed=0)
    counts = np.bincount(labels, minlength=4)
    assert (np.abs(counts / 4000 - 0.25) < 0.03).all(), counts
    assert task.chance == 0.25


def test_same_seed_same_data_other_seed_other_data():
    task = RecallTask(length=15, distance=6)
    a, b, c = task.sample(64, seed=3), task.sample(64, seed=3), task.sample(64, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_batches_are_fresh_every_step_and_reproducible():
    task = RecallTask(length=12, distance=4)
    first = list(itertools.islice(task.batches(8, seed=0), 3))
    again = list(itertools.islice(task.batches(8, seed=0), 3))
    for (ids, labels), (ids2, labels2) in zip(first, again):
        np.testing.assert_array_equal(ids, ids2)
        np.testing.assert_array_equal(labels, labels2)
        assert ids.shape == (8, 12)
        np.testing.assert_array_equal(ids[:, task.key_position], labels)
    assert not np.array_equal(first[0][0], first[1][0])  # a new batch each step


def test_bad_settings_are_refused_with_the_rule():
    with pytest.raises(ValueError, match="distance must be an int in 1..length=10"):
        RecallTask(length=10, distance=11)
    with pytest.raises(ValueError, match="distance"):
        RecallTask(length=10, distance=0)
    with pytest.raises(ValueError, match="length must be a positive int"):
        RecallTask(length=0)
    with pytest.raises(ValueError, match="num_classes must be at least 2"):
        RecallTask(num_classes=1)
    with pytest.raises(ValueError, match="n must be a positive int"):
        RecallTask().sample(0)


def test_accuracy_counts_rows_whose_top_logit_is_the_label():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [0.1, 0.2]])
    assert accuracy(logits, np.array([0, 1, 1, 1])) == 0.75
    with pytest.raises(ValueError, match="expected logits"):
        accuracy(logits, np.array([0, 1]))
