"""Classification tasks: sentiment, pair and contrast.

All three follow the **seen / unseen rule**: training and dev examples use only the
*seen* adjectives (good, great, ... / bad, awful, ...); half of the test set uses only
*unseen* ones (superb, wonderful, ... / terrible, horrible, ...), and each example
records which half it is in (``example.seen``, ``split.seen``, ``batch["seen"]``). A
model trained from scratch on the labelled data has never met an unseen adjective; a
pre-trained model met all of them in pre-training text. Labels are balanced exactly.

sentiment  One sentence; label = its polarity (1 positive, 0 negative). The adjective
           gives the polarity and a "not" before it flips it:
           "the soup is not awful ." -> 1.  Half the sentences are negated.
pair       Two sentences; label = 1 if they agree in sentiment, else 0. Each side is
           negated half the time, so agreement cannot be read off the adjectives alone.
contrast   The harder task. A passage holds one contrast sentence
           "SIDE but SIDE ." whose two sides have opposite sentiments, plus 1-2 context
           sentences of random sentiment before or after it. Label = the sentiment of
           the side after "but". Counting positive and negative words cannot solve it
           (the words are symmetric between the two labels: a bag-of-words model
           scores 50%), and reading the last clause, or flipping the first, is right
           only about 73% of the time: the model has to find "but" and read the side
           after it, negation included. ``contrast_rule`` states the rule in code.
"""

from __future__ import annotations

from ..language import NEGATIVE, POSITIVE, Dice, Lexicon, clause, clause_polarity
from .base import ClassificationExample

LABEL_NAMES = ("negative", "positive")


def _pools(lexicon: Lexicon, seen: bool):
    return lexicon.adjective_pools(seen=seen)


def negated_clause(dice: Dice, polarity: int, pools, negation_rate: float,
                   very_rate: float = 0.3) -> list[str]:
    """A clause saying ``polarity``, negated with probability ``negation_rate``."""
    if dice.chance(negation_rate):
        return clause(dice, polarity, pools, form="not")
    return clause(dice, polarity, pools, form="very" if dice.chance(very_rate) else "plain")


def sentiment_sentence(dice: Dice, lexicon: Lexicon, polarity: int, seen: bool = True,
                       negation_rate: float = 0.5) -> tuple[str, ...]:
    """"the NOUN is CLAUSE ." or "NAME VERB the NOUN because it is CLAUSE ." (VERB
    neutral), so the clause is the only sentiment word of the sentence."""
    pools = _pools(lexicon, seen)
    domain = dice.choice(lexicon.domains)
    noun = dice.choice(domain.nouns)
    said = negated_clause(dice, polarity, pools, negation_rate)
    if dice.chance(0.5):
        words = ["the", noun, "is"] + said + ["."]
    else:
        words = [dice.choice(lexicon.names), dice.choice(domain.verbs), "the", noun,
                 "because", "it", "is"] + said + ["."]
    return tuple(words)


# --------------------------------------------------------------------------- sentiment

def make_sentiment(lexicon: Lexicon, negation_rate: float = 0.5):
    """An example maker for ``generate_splits``: target = (label, seen)."""
    def make(dice: Dice, target) -> ClassificationExample:
        label, seen = target
        return ClassificationExample(sentiment_sentence(dice, lexicon, label, seen, negation_rate),
                                     None, label, seen)
    return make


def sentiment_rule(words, lexicon: Lexicon) -> int:
    """Reference label of a sentiment sentence: the adjective's polarity, flipped by "not"."""
    return clause_polarity(words, lexicon)


# --------------------------------------------------------------------------- pair

def make_pair(lexicon: Lexicon, negation_rate: float = 0.5):
    """target = (label, seen); label 1 = the two sentences agree in sentiment."""
    def make(dice: Dice, target) -> ClassificationExample:
        label, seen = target
        first = dice.below(2)
        second = first if label == 1 else 1 - first
        return ClassificationExample(
            sentiment_sentence(dice, lexicon, first, seen, negation_rate),
            sentiment_sentence(dice, lexicon, second, seen, negation_rate), label, seen)
    return make


def pair_rule(a, b, lexicon: Lexicon) -> int:
    """Reference label of a pair: 1 if both sentences say the same polarity."""
    return int(clause_polarity(a, lexicon) == clause_polarity(b, lexicon))


# --------------------------------------------------------------------------- contrast

def contrast_side(dice: Dice, lexicon: Lexicon, polarity: int, pools, noun: str,
                  negation_rate: float) -> list[str]:
    """One side of a contrast: "the NOUN is CLAUSE" (2/3) or "NAME CUE the ADJ NOUN" (1/3)."""
    if dice.below(3) < 2:
        return ["the", noun, "is"] + negated_clause(dice, polarity, pools, negation_rate)
    return [dice.choice(lexicon.names), dice.choice(lexicon.cue_verbs_of(polarity)), "the",
            dice.choice(pools[polarity]), noun]


def make_contrast(lexicon: Lexicon, negation_rate: float = 0.35, min_context: int = 1,
                  max_context: int = 2):
    """target = (label, seen); label = sentiment of the side after "but".

    The contrast sentence lands at a uniformly random place among the ``min_context``
    to ``max_context`` context sentences, so neither "the last clause" nor "the
    opposite of the first clause" is a reliable shortcut (each is right about 71% of
    the time with the defaults, 100% with no context).
    """
    if not 0 <= min_context <= max_context <= 2:
        raise ValueError(f"need 0 <= min_context <= max_context <= 2, got {min_context}, {max_context}")

    def make(dice: Dice, target) -> ClassificationExample:
        label, seen = target
        pools = _pools(lexicon, seen)
        domain = dice.choice(lexicon.domains)
        n_context = dice.between(min_context, max_context)
        nouns = dice.sample(domain.nouns, 2 + n_context)
        sentence = (contrast_side(dice, lexicon, 1 - label, pools, nouns[0], negation_rate)
                    + ["but"]
                    + contrast_side(dice, lexicon, label, pools, nouns[1], negation_rate) + ["."])
        passage = [sentence]
        for noun in nouns[2:]:
            # a context sentence of random sentiment, before or after the contrast
            side = contrast_side(dice, lexicon, dice.below(2), pools, noun, negation_rate) + ["."]
            passage.insert(dice.between(0, len(passage)), side)
        words = tuple(w for s in passage for w in s)
        return ClassificationExample(words, None, label, seen)
    return make


def contrast_rule(words, lexicon: Lexicon) -> int:
    """Reference label of a contrast passage: the polarity of the words between "but"
    and the next "."."""
    words = list(words)
    if words.count("but") != 1:
        raise ValueError(f"a contrast passage has exactly one 'but': {' '.join(words)!r}")
    start = words.index("but") + 1
    end = words.index(".", start)
    return clause_polarity(words[start:end], lexicon)


DESCRIPTIONS = {
    "sentiment": "one sentence; label = polarity of its adjective, flipped by 'not'",
    "pair": "two sentences; label = 1 if both say the same polarity",
    "contrast": ("a passage with one 'SIDE but SIDE .' sentence (sides of opposite sentiment) "
                 "and 1-2 context sentences of random sentiment; label = sentiment of the "
                 "side after 'but'"),
}

__all__ = ["LABEL_NAMES", "POSITIVE", "NEGATIVE", "sentiment_sentence", "make_sentiment",
           "make_pair", "make_contrast", "sentiment_rule", "pair_rule", "contrast_rule",
           "DESCRIPTIONS"]
