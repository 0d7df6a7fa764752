"""Span question answering: find the answer inside the passage.

A passage has 2-4 sentences about one domain; each sentence has its own person and its
own noun, and a cue verb of random sentiment:

    "alice loves the superb cake . bob hates the pie because it is not good ."

Two kinds of question, half each:

    who  VERB the NOUN ?        ("who hates the pie ?")   answer: the person, "bob"
    what does NAME VERB ?       ("what does alice love ?") answer: what follows "the",
                                 "superb cake" (two words) or "pie" (one word)

Like BERT on SQuAD, the model reads ``[CLS] question [SEP] passage [SEP]`` and points
at the first and last token of the answer (``start_positions``, ``end_positions``,
indices into that packed sequence). Names and nouns are unique within a passage, so
every question has exactly one answer. All adjectives may appear in every split (the
answer is located by matching words, not by knowing what an adjective means).
"""

from __future__ import annotations

from ..language import Dice, Lexicon, clause
from .base import QAExample

DESCRIPTION = ("question + 2-4 sentence passage; answer = a span of the passage "
               "(who VERB the NOUN ? -> NAME; what does NAME VERB ? -> [ADJ] NOUN)")


def qa_passage(dice: Dice, lexicon: Lexicon, n_sentences: int):
    """Sentences "NAME CUE the ADJ NOUN ." / "NAME CUE the NOUN because it is CLAUSE .".

    Returns the passage words and, per sentence, (name, verb, noun, np_start, np_end):
    the noun phrase after "the" as word indices into the passage (end included).
    """
    domain = dice.choice(lexicon.domains)
    names = dice.sample(lexicon.names, n_sentences)
    nouns = dice.sample(domain.nouns, n_sentences)
    pools = lexicon.adjective_pools()
    words: list[str] = []
    facts = []
    for name, noun in zip(names, nouns):
        polarity = dice.below(2)
        verb = dice.choice(lexicon.cue_verbs_of(polarity))
        start = len(words) + 3                      # position after "NAME VERB the"
        if dice.chance(0.5):
            words += [name, verb, "the", dice.choice(pools[polarity]), noun, "."]
            facts.append((name, verb, noun, start, start + 1))
        else:
            words += ([name, verb, "the", noun, "because", "it", "is"]
                      + clause(dice, polarity, pools) + ["."])
            facts.append((name, verb, noun, start, start))
    return tuple(words), facts


def make_qa(lexicon: Lexicon, min_sentences: int = 2, max_sentences: int = 4):
    """Example maker: target = (question_type_index, _) with 0 = who, 1 = what."""
    def make(dice: Dice, target) -> QAExample:
        kind = target[0]
        passage, facts = qa_passage(dice, lexicon, dice.between(min_sentences, max_sentences))
        name, verb, noun, np_start, np_end = dice.choice(facts)
        if kind == 0:
            question = ("who", verb, "the", noun, "?")
            name_at = np_start - 3                  # the name opens its sentence
            return QAExample(question, passage, name_at, name_at, "who")
        question = ("what", "does", name, lexicon.base_form(verb), "?")
        return QAExample(question, passage, np_start, np_end, "what")
    return make
