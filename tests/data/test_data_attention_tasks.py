"""minipeft.data.attention_tasks: lesson 02's recall task with a [CLS] token in front."""
import itertools

import numpy as np
import pytest

from minipeft.data.attention_tasks import ClsRecallTask
from minipeft.data.sequences import RecallTask


@pytest.fixture
def task():
    return ClsRecallTask(RecallTask(length=12, distance=12))


def test_sizes_count_the_cls_token(task):
    assert task.cls_id == task.recall.vocab_size == 20  # 4 keys + 16 distractors, then [CLS]
    assert task.vocab_size == 21
    assert task.length == 13
    assert task.key_position == 1  # the first token of the recall task, after [CLS]
    assert task.num_classes == 4 and task.chance == 0.25


def test_samples_are_the_recall_tasks_with_cls_in_front(task):
    ids, labels = task.sample(50, seed=3)
    plain_ids, plain_labels = task.recall.sample(50, seed=3)
    assert ids.shape == (50, 13) and labels.shape == (50,)
    assert (ids[:, 0] == task.cls_id).all()
    np.testing.assert_array_equal(ids[:, 1:], plain_ids)
    np.testing.assert_array_equal(labels, plain_labels)
    np.testing.assert_array_equal(ids[:, task.key_position], labels)  # the key token's id is its class
    assert ids.max() < task.vocab_size and ids.min() >= 0


def test_the_key_position_follows_the_distance():
    task = ClsRecallTask(RecallTask(length=10, distance=3))
    ids, labels = task.sample(20, seed=0)
    assert task.key_position == 8  # 10 - 3 in the recall task, plus one for [CLS]
    np.testing.assert_array_equal(ids[:, 8], labels)


def test_batches_are_lesson_02s_batches_with_cls(task):
    ours = list(itertools.islice(task.batches(8, seed=5), 3))
    theirs = list(itertools.islice(task.recall.batches(8, seed=5), 3))
    for batch, (ids, labels) in zip(ours, theirs):
        assert set(batch) == {"input_ids", "labels"}
        np.testing.assert_array_equal(batch["input_ids"][:, 1:], ids)
        np.testing.assert_array_equal(batch["labels"], labels)
        assert (batch["input_ids"][:, 0] == task.cls_id).all()


def test_token_names_read_like_the_docstring(task):
    ids = np.array([task.cls_id, 2, 4, 19, 0])
    assert task.token_names(ids) == ["[CLS]", "K2", "d0", "d15", "K0"]


def test_bad_input_is_a_clear_error(task):
    with pytest.raises(TypeError, match="RecallTask"):
        ClsRecallTask("not a task")
    with pytest.raises(ValueError, match=r"expected ids of shape \(n, 12\)"):
        task.add_cls(np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        task.token_names(np.array([21]))
    with pytest.raises(ValueError, match="1-D"):
        task.token_names(np.zeros((2, 2), dtype=np.int64))
