"""Pre-training batches: next-sentence pairs and BERT's 80/10/10 masking."""

import numpy as np
import pytest

from minipeft.data.batching import IGNORE_INDEX, attention_mask, pad
from minipeft.data.language import DEFAULT_LEXICON as LEX
from minipeft.data.pretraining import PretrainingCorpus, mask_tokens
from minipeft.data.tokenizer import Tokenizer

TOK = Tokenizer.from_lexicon()


@pytest.fixture(scope="module")
def corpus():
    return PretrainingCorpus(n_documents=2000, seed=0)


def test_batch_keys_shapes_and_dtypes(corpus):
    batch = corpus.batch(16, np.random.default_rng(0))
    B, T = batch["input_ids"].shape
    assert B == 16
    expected = {"input_ids": np.int64, "segment_ids": np.int64, "attention_mask": np.bool_,
                "mlm_labels": np.int64, "nsp_labels": np.int64}
    assert set(batch) == set(expected)
    for key, dtype in expected.items():
        assert batch[key].dtype == dtype, key
        assert batch[key].shape == ((B,) if key == "nsp_labels" else (B, T)), key
    # padded to the batch's longest row: some row fills all T positions
    assert batch["attention_mask"].sum(axis=1).max() == T


def test_packing_cls_sep_segments_and_padding(corpus):
    batch = corpus.batch(64, np.random.default_rng(1))
    ids, seg, mask = batch["input_ids"], batch["segment_ids"], batch["attention_mask"]
    assert np.array_equal(mask, ids != TOK.pad_id)              # padding exactly where masked out
    assert (ids[:, 0] == TOK.cls_id).all()
    for row in range(len(ids)):
        n = mask[row].sum()
        seps = np.flatnonzero(ids[row] == TOK.sep_id)
        assert len(seps) == 2 and seps[1] == n - 1              # [CLS] A [SEP] B [SEP]
        assert (seg[row, :seps[0] + 1] == 0).all()
        assert (seg[row, seps[0] + 1:n] == 1).all()
        assert (seg[row, n:] == 0).all()
        assert (batch["mlm_labels"][row, n:] == IGNORE_INDEX).all()


def test_nsp_pairs_are_balanced_and_true_next_is_really_next(corpus):
    pairs = corpus.pairs(1000, np.random.default_rng(2))
    assert sum(p.is_next for p in pairs) == 500
    for p in pairs:
        doc, i = p.a_source
        assert p.a == TOK.encode(corpus.documents[doc].sentences[i])
        other_doc, j = p.b_source
        assert p.b == TOK.encode(corpus.documents[other_doc].sentences[j])
        if p.is_next:
            assert (other_doc, j) == (doc, i + 1)
        else:
            assert other_doc != doc
    batch = corpus.batch(64, np.random.default_rng(3))
    assert batch["nsp_labels"].sum() == 32


def test_a_false_next_sentence_never_comes_from_the_same_document():
    tiny = PretrainingCorpus(n_documents=3, seed=0)     # collisions would be frequent here
    pairs = tiny.pairs(300, np.random.default_rng(0))
    assert all(p.b_source[0] != p.a_source[0] for p in pairs if not p.is_next)


def test_true_next_sentences_share_more_words_than_random_ones(corpus):
    """The cue NSP can learn: a document's names and nouns recur."""
    content = {TOK.token_to_id(w) for w in LEX.names + LEX.nouns + LEX.domain_verbs}
    pairs = corpus.pairs(2000, np.random.default_rng(4))
    share = {0: [], 1: []}
    for p in pairs:
        share[p.is_next].append(bool(set(p.a) & set(p.b) & content))
    assert np.mean(share[1]) > np.mean(share[0]) + 0.3


def _mask_sample(p, seed=0, rows=4000):
    corpus = PretrainingCorpus(n_documents=500, seed=1)
    pairs = corpus.pairs(rows, np.random.default_rng(seed))
    rows_ids = [[TOK.cls_id] + q.a + [TOK.sep_id] + q.b + [TOK.sep_id] for q in pairs]
    ids, mask = pad(rows_ids), attention_mask(rows_ids)
    masked, labels = mask_tokens(ids, mask, np.random.default_rng(seed), TOK, mask_prob=p)
    return ids, mask, masked, labels


@pytest.mark.parametrize("p", [0.15, 0.3])
def test_masking_rate_and_80_10_10(p):
    ids, mask, masked, labels = _mask_sample(p)
    words = mask & ~np.isin(ids, TOK.special_ids)
    chosen = labels != IGNORE_INDEX
    assert not (chosen & ~words).any()                          # never [CLS] [SEP] [PAD]
    rate = chosen.sum() / words.sum()
    assert p - 0.005 < rate < p + 0.012                         # +: at least one per row
    assert np.array_equal(labels[chosen], ids[chosen])          # the target is the original
    unchanged = masked == ids
    assert unchanged[~chosen].all()                             # nothing else moves
    to_mask = (masked == TOK.mask_id)[chosen].mean()
    kept = unchanged[chosen].mean()
    replaced = 1 - to_mask - kept
    assert abs(to_mask - 0.8) < 0.02
    assert abs(kept - (0.1 + 0.1 / 76)) < 0.015                 # a random word can be the same
    assert abs(replaced - 0.1) < 0.015
    random_words = masked[chosen & ~unchanged & (masked != TOK.mask_id)]
    assert not np.isin(random_words, TOK.special_ids).any()     # never a special token


def test_every_row_predicts_at_least_one_word():
    _, _, _, labels = _mask_sample(0.05, rows=500)
    assert ((labels != IGNORE_INDEX).sum(axis=1) >= 1).all()


def test_mask_prob_is_checked(corpus):
    with pytest.raises(ValueError):
        corpus.batch(4, np.random.default_rng(0), mask_prob=0.0)


def test_deterministic_for_a_seed_and_different_for_another():
    a = PretrainingCorpus(300, seed=3).batch(16, np.random.default_rng(0))
    b = PretrainingCorpus(300, seed=3).batch(16, np.random.default_rng(0))
    c = PretrainingCorpus(300, seed=4).batch(16, np.random.default_rng(0))
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert a["input_ids"].shape != c["input_ids"].shape or not np.array_equal(a["input_ids"], c["input_ids"])


def test_heldout_split_has_other_documents():
    train = PretrainingCorpus(300, seed=0)
    heldout = PretrainingCorpus(300, seed=0, split="heldout")
    assert train.documents != heldout.documents
    first = heldout.fixed_batches(2, 8)
    again = heldout.fixed_batches(2, 8)
    assert all(np.array_equal(x["input_ids"], y["input_ids"]) for x, y in zip(first, again))
    with pytest.raises(ValueError):
        PretrainingCorpus(10, split="validation")


def test_batches_iterator_yields_fresh_batches(corpus):
    batches = list(corpus.batches(8, np.random.default_rng(0), num_batches=3))
    assert len(batches) == 3
    assert not np.array_equal(batches[0]["nsp_labels"], batches[1]["nsp_labels"]) or \
        batches[0]["input_ids"].shape != batches[1]["input_ids"].shape or \
        not np.array_equal(batches[0]["input_ids"], batches[1]["input_ids"])
