"""Labelled tasks: determinism, balance, the seen/unseen rule, labels that follow the
documented rules, and batches."""

import numpy as np
import pytest

from minipeft.data.batching import IGNORE_INDEX
from minipeft.data.language import DEFAULT_LEXICON as LEX
from minipeft.data.tasks import (contrast_rule, load_task, pair_rule, sentiment_rule,
                                 task_names)

CLASSIFIERS = ("sentiment", "pair", "contrast")
SMALL = dict(n_train=200, n_dev=40, n_test=200)


def words_of(example):
    if hasattr(example, "text_a"):
        return example.text_a + (example.text_b or ())
    if hasattr(example, "question"):
        return example.question + example.passage
    return example.source + example.summary


@pytest.fixture(scope="module", params=task_names())
def task(request):
    return load_task(request.param, seed=0)


def test_all_five_tasks_exist():
    assert set(task_names()) == {"sentiment", "pair", "contrast", "qa", "summarization"}
    with pytest.raises(ValueError):
        load_task("translation")


@pytest.mark.parametrize("name", ["sentiment", "pair", "contrast", "qa", "summarization"])
def test_deterministic_for_a_seed_and_different_for_another(name):
    a, b, c = (load_task(name, seed=s, **SMALL) for s in (1, 1, 2))
    for split in ("train", "dev", "test"):
        assert a.split(split).examples == b.split(split).examples
        assert a.split(split).examples != c.split(split).examples
    assert np.array_equal(next(a.batches("train", 16))["input_ids"],
                          next(b.batches("train", 16))["input_ids"])


def test_sizes_and_no_example_in_two_splits(task):
    if task.name in CLASSIFIERS:
        assert 200 <= len(task.train) <= 1000 and task.num_labels == 2
    keys = [{e.key for e in task.split(s)} for s in ("train", "dev", "test")]
    assert sum(map(len, keys)) == len(task.train) + len(task.dev) + len(task.test)   # unique
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    small = load_task(task.name, seed=0, n_train=10, n_dev=4, n_test=6)
    assert (len(small.train), len(small.dev), len(small.test)) == (10, 4, 6)


def test_labels_are_balanced(task):
    for split in (task.train, task.dev, task.test):
        if task.kind == "classification":
            values = split.labels
        elif task.kind == "qa":
            values = np.array([e.question_type == "what" for e in split])
        else:
            values = np.array([e.polarity for e in split])
        assert abs(values.mean() - 0.5) <= 0.02


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_seen_unseen_rule(name):
    task = load_task(name, seed=0)
    unseen = set(LEX.adjectives(seen=False))
    for split in (task.train, task.dev):
        assert split.seen.all()
        assert not any(unseen & set(words_of(e)) for e in split)      # never in training
    test = task.test
    assert test.seen.mean() == 0.5
    for e in test:
        adjectives = [w for w in words_of(e) if LEX.is_adjective(w)]
        assert adjectives and all(LEX.is_seen(a) == e.seen for a in adjectives)
    for flag in (True, False):                                       # balanced in each half
        assert test.labels[test.seen == flag].mean() == 0.5


@pytest.mark.parametrize("name, rule", [("sentiment", sentiment_rule), ("contrast", contrast_rule)])
def test_labels_follow_the_documented_rule(name, rule):
    task = load_task(name, seed=3)
    for split in (task.train, task.test):
        assert all(rule(e.text_a, LEX) == e.label for e in split)


def test_pair_label_is_sentiment_agreement():
    task = load_task("pair", seed=3)
    assert all(pair_rule(e.text_a, e.text_b, LEX) == e.label for e in task.train)
    negated = np.array([("not" in e.text_a, "not" in e.text_b) for e in task.train])
    assert 0.4 < negated.mean() < 0.6                      # each side negated half the time


def test_negation_flips_the_sentiment_label():
    task = load_task("sentiment", seed=0)
    flipped = plain = 0
    for e in task.train:
        adjective = next(w for w in e.text_a if LEX.is_adjective(w))
        if "not" in e.text_a:
            assert e.label == 1 - LEX.polarity(adjective)
            flipped += 1
        else:
            assert e.label == LEX.polarity(adjective)
            plain += 1
    assert 0.4 < flipped / (flipped + plain) < 0.6
    # and the rule itself: inserting "not" flips a sentence's label
    assert sentiment_rule("the cake is good .".split(), LEX) == 1
    assert sentiment_rule("the cake is not good .".split(), LEX) == 0


def test_negation_free_variant():
    task = load_task("sentiment", seed=0, negation_rate=0.0, **SMALL)
    assert not any("not" in e.text_a for e in task.train)


def _bag_of_words(examples, vocab):
    x = np.zeros((len(examples), len(vocab)))
    for i, e in enumerate(examples):
        for w in e.text_a:
            x[i, vocab[w]] += 1
    return x


def _logistic_regression_accuracy(train, test, steps=400, lr=0.5):
    vocab = {w: i for i, w in enumerate(LEX.words())}
    x, y = _bag_of_words(train, vocab), np.array([e.label for e in train])
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w -= lr * x.T @ (p - y) / len(y)
        b -= lr * (p - y).mean()
    x_test, y_test = _bag_of_words(test, vocab), np.array([e.label for e in test])
    train_acc = ((x @ w + b > 0) == y).mean()
    return train_acc, ((x_test @ w + b > 0) == y_test).mean()


def test_contrast_cannot_be_solved_by_counting_words():
    """The harder task: a bag of words (which solves plain sentiment) is at chance."""
    task = load_task("contrast", seed=0)
    seen_test = [e for e in task.test if e.seen]
    _, contrast_acc = _logistic_regression_accuracy(task.train.examples, seen_test)
    assert contrast_acc < 0.6
    easy = load_task("sentiment", seed=0, negation_rate=0.0)
    _, easy_acc = _logistic_regression_accuracy(easy.train.examples,
                                                [e for e in easy.test if e.seen])
    assert easy_acc > 0.95


def test_contrast_passages_have_one_but_and_context():
    task = load_task("contrast", seed=0)
    sentences = np.array([e.text_a.count(".") for e in task.train])
    assert all(e.text_a.count("but") == 1 for e in task.train)
    assert set(sentences) == {2, 3}
    short = load_task("contrast", seed=0, min_context=0, max_context=0, **SMALL)
    assert all(e.text_a.count(".") == 1 for e in short.train)
    with pytest.raises(ValueError):
        load_task("contrast", min_context=2, max_context=1)


def _sides(words):
    """Clauses of a passage, cut at "but" and "."."""
    sides, current = [], []
    for w in words:
        if w in ("but", "."):
            sides.append(current)
            current = []
        else:
            current.append(w)
    return sides


def test_contrast_has_no_positional_shortcut():
    """Reading the last clause, or flipping the first, must not solve the task."""
    from minipeft.data.language import clause_polarity
    task = load_task("contrast", seed=0)
    last = np.mean([clause_polarity(_sides(e.text_a)[-1]) == e.label for e in task.train])
    first = np.mean([clause_polarity(_sides(e.text_a)[0]) != e.label for e in task.train])
    assert last < 0.78 and first < 0.78
    positions = [e.text_a[:e.text_a.index("but")].count(".") for e in task.train]
    assert set(positions) == {0, 1, 2}                  # the contrast sentence moves around


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_batches_are_padded_correctly(name):
    task = load_task(name, seed=0, **SMALL)
    examples = task.train.examples[:8]
    batch = task.collate(examples)
    assert set(batch) == {"input_ids", "segment_ids", "attention_mask", "labels", "seen"}
    lengths = [len(task.tokenizer.encode_pair(e.text_a, e.text_b)[0]) for e in examples]
    assert batch["input_ids"].shape == (8, max(lengths))
    assert batch["attention_mask"].sum(axis=1).tolist() == lengths
    assert (batch["input_ids"][~batch["attention_mask"]] == 0).all()
    assert (batch["segment_ids"][~batch["attention_mask"]] == 0).all()
    for row, e in enumerate(examples):
        real = batch["input_ids"][row, :lengths[row]]
        assert 0 not in real.tolist()
        expected = "[CLS] " + " ".join(e.text_a) + " [SEP]"
        if e.text_b:
            expected += " " + " ".join(e.text_b) + " [SEP]"
        assert task.tokenizer.decode(real) == expected
    assert batch["labels"].tolist() == [e.label for e in examples]


def test_batches_cover_a_split_once_and_shuffle_with_rng():
    task = load_task("sentiment", seed=0, **SMALL)
    plain = [b["labels"] for b in task.batches("train", 64)]
    assert [len(x) for x in plain] == [64, 64, 64, 8]
    assert np.array_equal(np.concatenate(plain), task.train.labels)
    rng = np.random.default_rng(0)
    first = [b["input_ids"] for b in task.batches("train", 64, shuffle=True, rng=rng)]
    second = [b["input_ids"] for b in task.batches("train", 64, shuffle=True, rng=rng)]
    assert sum(len(x) for x in first) == 200
    assert not np.array_equal(first[0][:, :5], second[0][:, :5])      # a new order each epoch
    dropped = list(task.batches("train", 64, drop_last=True))
    assert len(dropped) == 3
    with pytest.raises(ValueError):
        next(task.batches("validation", 8))


def test_qa_spans_decode_to_the_answer():
    task = load_task("qa", seed=0)
    tok = task.tokenizer
    batch = task.full_batch("test")
    for row, e in enumerate(task.test):
        start, end = batch["start_positions"][row], batch["end_positions"][row]
        assert start <= end
        assert tok.decode(batch["input_ids"][row, start:end + 1]) == " ".join(e.answer)
        assert (batch["segment_ids"][row, start:end + 1] == 1).all()      # inside the passage
        if e.question_type == "who":
            assert e.answer[0] in LEX.names and len(e.answer) == 1
            assert e.passage.count(e.question[3]) == 1                   # one NOUN -> one answer
            assert e.passage[e.answer_start + 1] == e.question[1]        # NAME VERB ...
        else:
            assert e.answer[-1] in LEX.nouns and len(e.answer) in (1, 2)
            name = e.question[2]
            assert e.passage.count(name) == 1
            assert LEX.base_form(e.passage[e.passage.index(name) + 1]) == e.question[3]
    assert set(batch) == {"input_ids", "segment_ids", "attention_mask", "start_positions",
                          "end_positions", "question_type"}


def test_summarization_batches_and_targets():
    task = load_task("summarization", seed=0, **SMALL)
    tok = task.tokenizer
    examples = task.train.examples[:16]
    batch = task.collate(examples)
    dec_in, dec_lab = batch["decoder_input_ids"], batch["decoder_labels"]
    assert dec_in.shape == dec_lab.shape == batch["decoder_attention_mask"].shape
    assert (dec_in[:, 0] == tok.cls_id).all()                            # BOS
    for row, e in enumerate(examples):
        n = len(e.summary) + 1
        assert dec_lab[row, n - 1] == tok.sep_id                         # EOS
        assert (dec_lab[row, n:] == IGNORE_INDEX).all()
        assert np.array_equal(dec_lab[row, :n - 1], dec_in[row, 1:n])    # shifted by one
        assert tok.decode(batch["input_ids"][row], skip_special_tokens=True) == " ".join(e.source)
        name, verb, _, noun, _ = e.summary
        assert verb == ("likes" if e.polarity == 1 else "dislikes")
        assert e.source.count(name) >= 2 and e.source.count(noun) >= 2
        others = [w for w in e.source if w in LEX.names and w != name]
        assert len(others) <= 1                                          # the main person is clear
    assert batch["attention_mask"].sum(axis=1).tolist() == [len(e.source) + 2 for e in examples]


def test_asking_for_more_examples_than_the_language_has_fails_clearly():
    with pytest.raises(RuntimeError, match="fewer"):
        load_task("sentiment", seed=0, n_train=10_000, n_dev=0, n_test=0)
