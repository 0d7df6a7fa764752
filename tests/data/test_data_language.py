"""The synthetic language: its words, its documents, and their rules."""

import time

import pytest

from minipeft.data.language import (DEFAULT_LEXICON as LEX, NEGATIVE, POSITIVE, Dice,
                                    LanguageConfig, clause_polarity, generate_documents)


def test_lexicon_has_the_designed_groups():
    assert len(LEX.names) == 8
    assert len(LEX.domains) == 4
    assert all(len(d.nouns) == 4 and len(d.verbs) == 2 for d in LEX.domains)
    for pol in (POSITIVE, NEGATIVE):
        assert len(LEX.adjectives(pol)) == 8
        assert len(LEX.adjectives(pol, seen=True)) == 4
        assert len(LEX.adjectives(pol, seen=False)) == 4
    seen, unseen = set(LEX.adjectives(seen=True)), set(LEX.adjectives(seen=False))
    assert not seen & unseen and len(seen | unseen) == 16
    assert len(set(LEX.words())) == len(LEX.words())


def test_lexicon_lookups():
    assert LEX.polarity("superb") == POSITIVE and LEX.polarity("awful") == NEGATIVE
    assert LEX.polarity("loves") == POSITIVE and LEX.polarity("hate") == NEGATIVE
    assert LEX.polarity("sad") == NEGATIVE and LEX.polarity("cake") is None
    assert LEX.is_seen("good") and not LEX.is_seen("superb")
    with pytest.raises(ValueError):
        LEX.is_seen("cake")
    assert LEX.domain_of("soup").name == "food"
    assert LEX.base_form("dislikes") == "dislike"


def test_clause_polarity_reads_negation():
    assert clause_polarity("the cake is good .".split()) == POSITIVE
    assert clause_polarity("the cake is not good .".split()) == NEGATIVE
    assert clause_polarity("the cake is not terrible .".split()) == POSITIVE
    assert clause_polarity("alice hates the cake .".split()) == NEGATIVE
    with pytest.raises(ValueError):
        clause_polarity("alice eats the cake .".split())


def test_documents_are_deterministic_for_a_seed():
    a = generate_documents(200, seed=1)
    b = generate_documents(200, seed=1)
    c = generate_documents(200, seed=2)
    assert a == b
    assert a != c


def test_documents_keep_one_domain_and_one_sentiment():
    for doc in generate_documents(500, seed=3):
        assert 3 <= len(doc.sentences) <= 6
        domain = next(d for d in LEX.domains if d.name == doc.domain)
        for s in doc.sentences:
            assert s[-1] == "." and s.count(".") == 1
            assert all(w in domain.nouns for w in s if w in LEX.nouns)
            if "but" in s:      # contrast: opposite before "but", the document's after
                cut = s.index("but")
                assert clause_polarity(s[:cut]) == 1 - doc.polarity
                assert clause_polarity(s[cut + 1:]) == doc.polarity
            elif any(LEX.polarity(w) is not None for w in s):
                assert clause_polarity(s) == doc.polarity, " ".join(s)


def test_corpus_uses_every_word_of_the_language_in_its_contexts():
    docs = generate_documents(2000, seed=4)
    words = [w for d in docs for s in d.sentences for w in s]
    assert set(LEX.adjectives()) <= set(words)          # unseen adjectives too
    n_sent = sum(len(d.sentences) for d in docs)
    negated = sum("not" in s for d in docs for s in d.sentences)
    contrast = sum("but" in s for d in docs for s in d.sentences)
    assert 0.1 < negated / n_sent < 0.4
    assert 0.04 < contrast / n_sent < 0.15
    polarity = [d.polarity for d in docs]
    assert 0.45 < sum(polarity) / len(polarity) < 0.55


def test_names_and_nouns_recur_within_a_document():
    """A document draws on a cast of 2 names and 2 nouns (plus the nouns of a contrast),
    so its sentences keep mentioning the same things."""
    for doc in generate_documents(500, seed=5):
        plain = [s for s in doc.sentences if "but" not in s]
        names = {w for s in doc.sentences for w in s if w in LEX.names}
        nouns = {w for s in plain for w in s if w in LEX.nouns}
        assert len(names) <= 2 and len(nouns) <= 2


def test_generation_is_fast():
    start = time.perf_counter()
    generate_documents(10_000, seed=0)
    assert time.perf_counter() - start < 2.0


def test_measured_design_without_contrast_can_be_reproduced():
    weights = {"cue": 1.0, "emotion": 1.0, "because": 1.0, "state": 1.0, "action": 1.0,
               "contrast": 0.0}
    docs = generate_documents(500, seed=0, config=LanguageConfig(template_weights=weights))
    assert not any("but" in s for d in docs for s in d.sentences)


def test_config_is_checked():
    with pytest.raises(ValueError):
        generate_documents(3, config=LanguageConfig(min_sentences=1))
    with pytest.raises(ValueError):
        generate_documents(3, config=LanguageConfig(template_weights={"nope": 1.0}))


def test_dice_helpers():
    dice = Dice(0)
    draws = [dice.between(3, 6) for _ in range(2000)]
    assert set(draws) == {3, 4, 5, 6}
    sample = dice.sample(range(10), 4)
    assert len(set(sample)) == 4
    counts = [0, 0]
    for _ in range(4000):
        counts[dice.weighted([1, 3])] += 1
    assert 0.2 < counts[0] / 4000 < 0.3
