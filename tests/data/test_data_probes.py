"""Polarity probes: inputs with a masked adjective in a telling context, and the score."""

import numpy as np
import pytest

from minipeft.data.language import DEFAULT_LEXICON as LEX
from minipeft.data.probes import adjective_ids, polarity_probe_score, polarity_probes
from minipeft.data.tokenizer import Tokenizer

TOK = Tokenizer.from_lexicon()


@pytest.mark.parametrize("negated", [False, True])
def test_probe_inputs(negated):
    probe = polarity_probes(64, seed=0, negated=negated)
    ids = probe["input_ids"]
    assert ((ids == TOK.mask_id).sum(axis=1) == 1).all()
    assert (ids[np.arange(64), probe["mask_positions"]] == TOK.mask_id).all()
    assert probe["polarity"].mean() == 0.5
    for row in range(64):
        words = TOK.decode(ids[row]).split()
        verb = words[2]                                         # [CLS] NAME VERB ...
        context = LEX.polarity(verb)
        pos = probe["mask_positions"][row]
        if negated:
            assert words[pos - 1] == "not"
            assert probe["polarity"][row] == 1 - context
        else:
            assert probe["polarity"][row] == context
    assert np.array_equal(probe["attention_mask"], ids != TOK.pad_id)


def test_probe_score():
    probe = polarity_probes(32, seed=1)
    polarity = probe["polarity"]
    n = len(polarity)
    logits = np.zeros((n, TOK.vocab_size))
    assert polarity_probe_score(logits, polarity, TOK, seen=False) == pytest.approx(0.5)
    for pol in (0, 1):
        rows = polarity == pol
        logits[np.ix_(rows, adjective_ids(TOK, LEX, seen=True)[pol])] = 20.0
    # the "model" knows only the seen adjectives: perfect on seen, chance on unseen
    assert polarity_probe_score(logits, polarity, TOK, seen=True) > 0.99
    assert polarity_probe_score(logits, polarity, TOK, seen=False) == pytest.approx(0.5)
    assert polarity_probe_score(logits, 1 - polarity, TOK, seen=True) < 0.01
    with pytest.raises(ValueError):
        polarity_probe_score(logits[:, :10], polarity, TOK, seen=True)
