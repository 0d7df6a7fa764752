"""The words of the synthetic language, grouped by what they do.

``Lexicon`` holds the word lists; ``DEFAULT_LEXICON`` is the language every part of
minipeft uses (81 tokens with the five special ones). Probes and lessons ask it which
adjectives are positive or negative, and which are *seen* (allowed in the labelled
training sets of the tasks) or *unseen* (only in pre-training text and test sets):

    >>> DEFAULT_LEXICON.adjectives(POSITIVE, seen=False)
    ('superb', 'wonderful', 'pleasant', 'brilliant')
    >>> DEFAULT_LEXICON.polarity("awful")
    0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

POSITIVE = 1
NEGATIVE = 0


# --------------------------------------------------------------------------- words

@dataclass(frozen=True)
class Domain:
    """A topic: its nouns and its two neutral verbs ("eats", "cooks" for food)."""

    name: str
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Every word of the language, grouped by what it does.

    Probes and lessons ask it questions such as ``lexicon.adjectives(POSITIVE,
    seen=False)`` (the positive adjectives the task training sets never show) or
    ``lexicon.polarity("awful")`` (0, negative). ``words()`` lists all words in a fixed
    order; the tokenizer's vocabulary is built from it.
    """

    names: tuple[str, ...]
    domains: tuple[Domain, ...]
    positive_seen: tuple[str, ...]
    positive_unseen: tuple[str, ...]
    negative_seen: tuple[str, ...]
    negative_unseen: tuple[str, ...]
    positive_verbs: tuple[str, ...]
    negative_verbs: tuple[str, ...]
    positive_emotions: tuple[str, ...]
    negative_emotions: tuple[str, ...]
    # third person -> base form, for questions such as "what does alice hate ?"
    base_forms: tuple[tuple[str, str], ...]
    function_words: tuple[str, ...] = ("the", "is", "very", "not", "because", "it", "but", ".")
    question_words: tuple[str, ...] = ("who", "what", "does", "?")

    def __post_init__(self):
        words = self.words()
        if len(set(words)) != len(words):
            dups = sorted({w for w in words if words.count(w) > 1})
            raise ValueError(f"a word is listed twice in the lexicon: {dups}")

    # --- grouped views ------------------------------------------------------------
    @property
    def nouns(self) -> tuple[str, ...]:
        return tuple(n for d in self.domains for n in d.nouns)

    @property
    def domain_verbs(self) -> tuple[str, ...]:
        return tuple(v for d in self.domains for v in d.verbs)

    @property
    def cue_verbs(self) -> tuple[str, ...]:
        return self.positive_verbs + self.negative_verbs

    @property
    def emotions(self) -> tuple[str, ...]:
        return self.positive_emotions + self.negative_emotions

    def adjectives(self, polarity: int | None = None, seen: bool | None = None) -> tuple[str, ...]:
        """Adjectives filtered by polarity (POSITIVE=1 / NEGATIVE=0) and seen-ness."""
        groups = {
            (POSITIVE, True): self.positive_seen, (POSITIVE, False): self.positive_unseen,
            (NEGATIVE, True): self.negative_seen, (NEGATIVE, False): self.negative_unseen,
        }
        out: tuple[str, ...] = ()
        for (pol, s), words in groups.items():
            if (polarity is None or pol == polarity) and (seen is None or s == seen):
                out += words
        return out

    def adjective_pools(self, seen: bool | None = None) -> dict[int, tuple[str, ...]]:
        """``{POSITIVE: (...), NEGATIVE: (...)}``: the pools a generator draws from."""
        return {POSITIVE: self.adjectives(POSITIVE, seen), NEGATIVE: self.adjectives(NEGATIVE, seen)}

    def cue_verbs_of(self, polarity: int) -> tuple[str, ...]:
        return self.positive_verbs if polarity == POSITIVE else self.negative_verbs

    def emotions_of(self, polarity: int) -> tuple[str, ...]:
        return self.positive_emotions if polarity == POSITIVE else self.negative_emotions

    # --- look-ups -------------------------------------------------------------------
    @cached_property
    def _polarity(self) -> dict[str, int]:
        table = {}
        for pol in (POSITIVE, NEGATIVE):
            for w in self.adjectives(pol) + self.cue_verbs_of(pol) + self.emotions_of(pol):
                table[w] = pol
        for third, base in self.base_forms:
            table[base] = table[third]
        return table

    @cached_property
    def _adjective_set(self) -> frozenset[str]:
        return frozenset(self.adjectives())

    def polarity(self, word: str) -> int | None:
        """1 for a positive word, 0 for a negative one, None for a neutral word."""
        return self._polarity.get(word)

    def is_adjective(self, word: str) -> bool:
        return word in self._adjective_set

    def is_seen(self, adjective: str) -> bool:
        """True if the adjective may appear in a task's training set."""
        if not self.is_adjective(adjective):
            raise ValueError(f"{adjective!r} is not an adjective of this lexicon")
        return adjective in self.positive_seen or adjective in self.negative_seen

    def domain_of(self, noun: str) -> Domain:
        for d in self.domains:
            if noun in d.nouns:
                return d
        raise ValueError(f"{noun!r} is not a noun of this lexicon")

    def base_form(self, verb: str) -> str:
        """"loves" -> "love" (used by questions: "what does bob love ?")."""
        return dict(self.base_forms)[verb]

    def words(self) -> tuple[str, ...]:
        """All words in a fixed order (the tokenizer's vocabulary after the specials)."""
        return (self.function_words + self.names + self.nouns + self.domain_verbs
                + self.adjectives() + self.cue_verbs + self.emotions
                + tuple(base for _, base in self.base_forms) + self.question_words)


DEFAULT_LEXICON = Lexicon(
    names=("alice", "bob", "carol", "dave", "emma", "frank", "grace", "henry"),
    domains=(
        Domain("food", ("cake", "soup", "bread", "pie"), ("eats", "cooks")),
        Domain("music", ("song", "album", "band", "concert"), ("hears", "records")),
        Domain("travel", ("city", "beach", "hotel", "museum"), ("visits", "explores")),
        Domain("sport", ("game", "team", "match", "club"), ("watches", "joins")),
    ),
    positive_seen=("good", "great", "nice", "lovely"),
    positive_unseen=("superb", "wonderful", "pleasant", "brilliant"),
    negative_seen=("bad", "awful", "poor", "nasty"),
    negative_unseen=("terrible", "horrible", "dreadful", "boring"),
    positive_verbs=("loves", "likes", "enjoys"),
    negative_verbs=("hates", "dislikes", "fears"),
    positive_emotions=("happy", "glad"),
    negative_emotions=("sad", "angry"),
    base_forms=(("loves", "love"), ("likes", "like"), ("enjoys", "enjoy"),
                ("hates", "hate"), ("dislikes", "dislike"), ("fears", "fear")),
)
