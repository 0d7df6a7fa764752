"""Summarization: read a passage, write a one-line summary (sequence to sequence).

A passage is a document of the language (3-5 sentences, one domain, one sentiment)
about a main person and a main thing: the person is named in at least two sentences,
and so is the thing; at most one sentence is about someone or something else. The
summary names them and the passage's sentiment:

    passage: "alice is happy because the soup is not bad . carol eats the pie .
              alice loves the superb soup . the soup is good ."
    summary: "alice likes the soup ."         (or "NAME dislikes the NOUN .")

So a summariser must pick out the recurring name and noun (copy them from the
passage) and judge the overall sentiment: a small but real abstractive summary.
All adjectives may appear in every split.
"""

from __future__ import annotations

from ..language import DEFAULT_LEXICON, TEMPLATES, Dice, Lexicon, SentenceContext
from .base import SummaryExample

DESCRIPTION = ("3-5 sentence passage about a main person and thing -> "
               "'NAME likes|dislikes the NOUN .'")

# the templates of the language without the contrast (which needs two nouns)
SUMMARY_TEMPLATES = ("cue", "emotion", "because", "state", "action")


def summary_of(name: str, noun: str, polarity: int) -> tuple[str, ...]:
    return (name, "likes" if polarity == 1 else "dislikes", "the", noun, ".")


def summary_passage(dice: Dice, lexicon: Lexicon, polarity: int,
                    min_sentences: int = 3, max_sentences: int = 5):
    """(passage words, main name, main noun): redrawn until the main name and noun
    are each mentioned at least twice."""
    while True:
        domain = dice.choice(lexicon.domains)
        main_name, other_name = dice.sample(lexicon.names, 2)
        main_noun, other_noun = dice.sample(domain.nouns, 2)
        pools = lexicon.adjective_pools()
        main = SentenceContext(lexicon, domain, polarity, [main_name], [main_noun], pools)
        other = SentenceContext(lexicon, domain, polarity, [other_name], [other_noun], pools)
        n = dice.between(min_sentences, max_sentences)
        aside = dice.below(n) if n >= 4 else -1       # the one sentence about others
        words = []
        for i in range(n):
            template = TEMPLATES[dice.choice(SUMMARY_TEMPLATES)]
            words += template(dice, other if i == aside else main)
        if words.count(main_name) >= 2 and words.count(main_noun) >= 2:
            return tuple(words), main_name, main_noun


def make_summarization(lexicon: Lexicon = DEFAULT_LEXICON):
    """Example maker: target = (polarity, _)."""
    def make(dice: Dice, target) -> SummaryExample:
        polarity = target[0]
        words, name, noun = summary_passage(dice, lexicon, polarity)
        return SummaryExample(words, summary_of(name, noun, polarity), polarity)
    return make
