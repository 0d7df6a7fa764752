"""A tiny synthetic English, generated from a seed.

Pre-training needs a corpus and fine-tuning needs labelled tasks, and we fetch nothing
from the network, so we *make* a language. It is small on purpose (about 80 words) so a
two-layer Transformer can learn it on a laptop, and regular on purpose, so we know
exactly what there is to learn.

The words (see ``Lexicon`` in ``lexicon.py``):

* 8 names (alice, bob, ...), 4 topic domains (food, music, travel, sport), each with
  4 nouns and 2 neutral verbs ("alice eats the soup .");
* 8 positive and 8 negative adjectives. Half of each are **seen**: they may appear in
  the labelled training sets of the tasks. The other half are **unseen**: they appear
  only in pre-training text and in task test sets. A model fine-tuned from scratch
  cannot know what "superb" means; a pre-trained one can have learned it from the
  contexts it appeared in. That is transfer learning, made measurable;
* cue verbs (loves / likes / enjoys versus hates / dislikes / fears) and emotions
  (happy / glad versus sad / angry), which always agree with the sentiment around them;
* function words: the, is, very, not, because, it, but, and the full stop ".";
* question words (who, what, does, ?) and base verb forms (love, hate, ...), used only
  by the question-answering task.

A **document** has one domain and one sentiment, and 3-6 sentences built from six
templates (``TEMPLATES``). Its names and nouns recur from sentence to sentence, so a
sentence taken from another document is often visibly "off topic": next-sentence
prediction has something to learn. Every adjective slot is a *telling context*: the
cue verbs, emotions and other adjectives of the document give its polarity away, so
masked-language modelling can learn the polarity of every adjective, seen or unseen.

A ``CLAUSE`` ("the soup is CLAUSE .") is an adjective of the document's polarity (50%),
"very" + such an adjective (15%), or "not" + an adjective of the *opposite* polarity
(35%). Negation therefore sits inside the telling contexts too, so pre-training can
learn that "not" flips polarity. A contrast sentence, "the soup is CLAUSE but the cake
is CLAUSE .", has opposite sentiments on its two sides, and the side after "but" carries
the document's sentiment (as in English: what follows "but" is what the speaker means).

Everything random goes through one ``Dice`` built on a ``numpy.random.Generator``, so a
seed fixes the whole corpus, and 10,000 documents take a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .lexicon import DEFAULT_LEXICON, NEGATIVE, POSITIVE, Domain, Lexicon

__all__ = ["POSITIVE", "NEGATIVE", "Domain", "Lexicon", "DEFAULT_LEXICON", "Dice", "clause",
           "clause_polarity", "LanguageConfig", "SentenceContext", "TEMPLATES", "Document",
           "generate_document", "generate_documents"]


# --------------------------------------------------------------------------- dice

class Dice:
    """Fast random choices driven by a ``numpy.random.Generator``.

    Calling the Generator once per word would dominate the generation time, so Dice
    draws uniforms in blocks and hands them out one by one. The stream is still fully
    determined by the Generator's seed.
    """

    def __init__(self, rng: np.random.Generator | int | None = None, block: int = 4096):
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self._block = block
        self._buffer: list[float] = []
        self._next = 0

    def uniform(self) -> float:
        if self._next == len(self._buffer):
            self._buffer = self.rng.random(self._block).tolist()
            self._next = 0
        self._next += 1
        return self._buffer[self._next - 1]

    def below(self, n: int) -> int:
        """A random integer in [0, n)."""
        return min(int(self.uniform() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """A random integer in [low, high], both ends included."""
        return low + self.below(high - low + 1)

    def chance(self, p: float) -> bool:
        return self.uniform() < p

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def sample(self, seq, k: int) -> list:
        """k distinct items of seq, in random order."""
        pool = list(seq)
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def weighted(self, weights) -> int:
        """An index drawn with probability proportional to ``weights``."""
        u = self.uniform() * sum(weights)
        last = 0
        for i, w in enumerate(weights):
            if w > 0:
                last = i
                u -= w
                if u < 0:
                    return i
        return last          # only reached through rounding: never a zero-weight index


# --------------------------------------------------------------------------- clauses

CLAUSE_FORMS = ("plain", "very", "not")


def clause(dice: Dice, polarity: int, pools: dict[int, tuple[str, ...]],
           probs=(0.5, 0.15, 0.35), form: str | None = None) -> list[str]:
    """Words that say ``polarity``: "ADJ", "very ADJ", or "not" + opposite ADJ.

    ``probs`` are the chances of the three forms; ``form`` forces one of them.
    """
    if form is None:
        form = CLAUSE_FORMS[dice.weighted(probs)]
    if form == "plain":
        return [dice.choice(pools[polarity])]
    if form == "very":
        return ["very", dice.choice(pools[polarity])]
    if form == "not":
        return ["not", dice.choice(pools[1 - polarity])]
    raise ValueError(f"clause form must be one of {CLAUSE_FORMS}, got {form!r}")


def clause_polarity(words, lexicon: Lexicon = DEFAULT_LEXICON) -> int:
    """The polarity a span of words expresses, read with the language's rules.

    The span's first adjective gives its polarity, flipped by a "not" just before it; a
    span without an adjective takes the polarity of its cue verb or emotion. This is the
    *reference reader*: task labels must agree with it (the tests check).
    """
    words = list(words)
    for i, w in enumerate(words):
        if lexicon.is_adjective(w):
            pol = lexicon.polarity(w)
            return 1 - pol if i > 0 and words[i - 1] == "not" else pol
    for w in words:
        pol = lexicon.polarity(w)
        if pol is not None:
            return pol
    raise ValueError(f"no polar word in {' '.join(words)!r}")


# --------------------------------------------------------------------------- documents

@dataclass(frozen=True)
class LanguageConfig:
    """Knobs of the document generator (the defaults are the measured design)."""

    min_sentences: int = 3
    max_sentences: int = 6
    names_per_document: int = 2
    nouns_per_document: int = 2
    clause_probs: tuple[float, float, float] = (0.5, 0.15, 0.35)
    # chance that "NAME VERB the NOUN because it is CLAUSE ." uses a neutral domain verb
    neutral_because: float = 1 / 3
    template_weights: dict[str, float] = field(default_factory=lambda: {
        "cue": 1.0, "emotion": 1.0, "because": 1.0, "state": 1.0, "action": 1.0,
        "contrast": 0.5,
    })


@dataclass
class SentenceContext:
    """What the sentences of one document share (and what templates draw from)."""

    lexicon: Lexicon
    domain: Domain
    polarity: int
    names: list[str]
    nouns: list[str]
    pools: dict[int, tuple[str, ...]]
    clause_probs: tuple[float, float, float] = (0.5, 0.15, 0.35)
    neutral_because: float = 1 / 3


def _cue(d: Dice, c: SentenceContext) -> list[str]:
    """NAME CUE-VERB the ADJ NOUN .   ("alice loves the superb cake .")"""
    return [d.choice(c.names), d.choice(c.lexicon.cue_verbs_of(c.polarity)), "the",
            d.choice(c.pools[c.polarity]), d.choice(c.nouns), "."]


def _emotion(d: Dice, c: SentenceContext) -> list[str]:
    """NAME is EMOTION because the NOUN is CLAUSE .   ("bob is sad because the soup is not good .")"""
    return ([d.choice(c.names), "is", d.choice(c.lexicon.emotions_of(c.polarity)), "because",
             "the", d.choice(c.nouns), "is"] + clause(d, c.polarity, c.pools, c.clause_probs) + ["."])


def _because(d: Dice, c: SentenceContext) -> list[str]:
    """NAME VERB the NOUN because it is CLAUSE .   (VERB: a cue verb, or a neutral one)"""
    if d.chance(c.neutral_because):
        verb = d.choice(c.domain.verbs)
    else:
        verb = d.choice(c.lexicon.cue_verbs_of(c.polarity))
    return ([d.choice(c.names), verb, "the", d.choice(c.nouns), "because", "it", "is"]
            + clause(d, c.polarity, c.pools, c.clause_probs) + ["."])


def _state(d: Dice, c: SentenceContext) -> list[str]:
    """the NOUN is CLAUSE .   ("the game is very boring .")"""
    return ["the", d.choice(c.nouns), "is"] + clause(d, c.polarity, c.pools, c.clause_probs) + ["."]


def _action(d: Dice, c: SentenceContext) -> list[str]:
    """NAME DOMAIN-VERB the NOUN .   (neutral: "carol visits the museum .")"""
    return [d.choice(c.names), d.choice(c.domain.verbs), "the", d.choice(c.nouns), "."]


def _contrast(d: Dice, c: SentenceContext) -> list[str]:
    """the NOUN is CLAUSE but the NOUN2 is CLAUSE .   (the side after "but" is the document's)"""
    first, second = d.sample(c.domain.nouns, 2)
    return (["the", first, "is"] + clause(d, 1 - c.polarity, c.pools, c.clause_probs)
            + ["but", "the", second, "is"] + clause(d, c.polarity, c.pools, c.clause_probs) + ["."])


TEMPLATES = {"cue": _cue, "emotion": _emotion, "because": _because, "state": _state,
             "action": _action, "contrast": _contrast}


@dataclass(frozen=True)
class Document:
    """One domain, one sentiment, a few sentences (each a tuple of words)."""

    domain: str
    polarity: int
    sentences: tuple[tuple[str, ...], ...]

    def text(self) -> str:
        return " ".join(" ".join(s) for s in self.sentences)


def generate_document(dice: Dice, lexicon: Lexicon = DEFAULT_LEXICON,
                      config: LanguageConfig | None = None) -> Document:
    """One random document: a random domain and polarity, 3-6 sentences."""
    config = config or LanguageConfig()
    domain = dice.choice(lexicon.domains)
    ctx = SentenceContext(lexicon, domain, polarity=dice.below(2),
                          names=dice.sample(lexicon.names, config.names_per_document),
                          nouns=dice.sample(domain.nouns, config.nouns_per_document),
                          pools=lexicon.adjective_pools(),
                          clause_probs=config.clause_probs,
                          neutral_because=config.neutral_because)
    kinds = list(config.template_weights)
    weights = [config.template_weights[k] for k in kinds]
    n = dice.between(config.min_sentences, config.max_sentences)
    sentences = tuple(tuple(TEMPLATES[kinds[dice.weighted(weights)]](dice, ctx)) for _ in range(n))
    return Document(domain.name, ctx.polarity, sentences)


def generate_documents(n: int, seed: int | np.random.Generator = 0,
                       lexicon: Lexicon = DEFAULT_LEXICON,
                       config: LanguageConfig | None = None) -> list[Document]:
    """``n`` documents, fully determined by ``seed`` (an int or a numpy Generator)."""
    config = config or LanguageConfig()
    if config.min_sentences < 2 or config.max_sentences < config.min_sentences:
        raise ValueError("documents need 2 <= min_sentences <= max_sentences "
                         f"(got {config.min_sentences}, {config.max_sentences})")
    unknown = set(config.template_weights) - set(TEMPLATES)
    if unknown:
        raise ValueError(f"unknown templates {sorted(unknown)}; known: {sorted(TEMPLATES)}")
    dice = Dice(seed)
    return [generate_document(dice, lexicon, config) for _ in range(n)]
