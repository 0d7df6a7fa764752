"""Pre-training examples: masked language modelling + next-sentence prediction.

BERT learns from unlabelled text with two self-made exercises:

**Next-sentence prediction (NSP).** Take a sentence A from a document. Half the time B
is the sentence that really follows A; otherwise B is a sentence from another document.
The model reads ``[CLS] A [SEP] B [SEP]`` (segment id 0 for ``[CLS] A [SEP]``, 1 for
``B [SEP]``) and says, from the [CLS] position, whether B follows A (label 1) or not (0).
In our language a document keeps one topic and one sentiment, so a random B is often
off-topic: there is a cue to learn.

**Masked language modelling (MLM).** Choose each real word with probability ``p``
(default 0.15; specials [CLS] [SEP] [PAD] are never chosen). Replace a chosen word by
[MASK] 80% of the time, by a random word 10% of the time, and leave it unchanged 10% of
the time; the model must predict the original word at every chosen position. The
random and unchanged cases keep the model honest about words that are *not* [MASK]
(at fine-tuning time no word is). ``mlm_labels`` holds the original id at chosen
positions and -100 (ignore) everywhere else.

Masks are drawn afresh for every batch ("dynamic masking"), so a long run never sees
the same exercise twice. ``PretrainingCorpus(split="heldout")`` builds different
documents from the same seed for probes and held-out accuracy, and ``fixed_batches``
gives an evaluation set that is the same on every call.

A batch is a dict of numpy arrays::

    input_ids       (B, T) int64   masked token ids, [PAD]-padded to the batch's longest
    segment_ids     (B, T) int64   0 for [CLS] A [SEP], 1 for B [SEP], 0 on padding
    attention_mask  (B, T) bool    True on real tokens
    mlm_labels      (B, T) int64   original id at masked positions, -100 elsewhere
    nsp_labels      (B,)   int64   1 if B is the true next sentence
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .batching import IGNORE_INDEX, attention_mask, pad
from .language import DEFAULT_LEXICON, LanguageConfig, Lexicon, generate_documents
from .tokenizer import Tokenizer

SPLITS = {"train": 0, "heldout": 1}
_STREAM = 101  # keeps pre-training seeds apart from task seeds


@dataclass(frozen=True)
class SentencePair:
    """An NSP example: sentence ids of A and B, and where each came from."""

    a: list[int]
    b: list[int]
    is_next: int
    a_source: tuple[int, int]   # (document index, sentence index)
    b_source: tuple[int, int]


def mask_tokens(input_ids: np.ndarray, attention: np.ndarray, rng: np.random.Generator,
                tokenizer: Tokenizer, mask_prob: float = 0.15,
                at_least_one: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """BERT's 80/10/10 masking. Returns ``(masked_ids, mlm_labels)``.

    ``at_least_one`` makes sure every row predicts at least one word (a short sentence
    could otherwise draw none), which raises the rate very slightly above ``mask_prob``.
    """
    if not 0.0 < mask_prob < 1.0:
        raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob}")
    # candidates: real tokens that are not [CLS] / [SEP] / [PAD] / [MASK] / [UNK]
    candidates = attention & ~np.isin(input_ids, tokenizer.special_ids)     # (B, T)
    chosen = candidates & (rng.random(input_ids.shape) < mask_prob)         # (B, T)
    if at_least_one:
        for row in np.flatnonzero(~chosen.any(axis=1) & candidates.any(axis=1)):
            chosen[row, rng.choice(np.flatnonzero(candidates[row]))] = True

    action = rng.random(input_ids.shape)                                    # (B, T)
    to_mask = chosen & (action < 0.8)
    to_random = chosen & (action >= 0.8) & (action < 0.9)                   # the rest: kept
    masked = input_ids.copy()
    masked[to_mask] = tokenizer.mask_id
    masked[to_random] = rng.choice(tokenizer.word_ids, size=int(to_random.sum()))
    labels = np.where(chosen, input_ids, IGNORE_INDEX).astype(np.int64)
    return masked, labels


def collate_pairs(pairs: list[SentencePair], tokenizer: Tokenizer, rng: np.random.Generator,
                  mask_prob: float = 0.15) -> dict[str, np.ndarray]:
    """Pack pairs as ``[CLS] A [SEP] B [SEP]``, pad, and mask: one pre-training batch."""
    cls, sep = tokenizer.cls_id, tokenizer.sep_id
    rows = [[cls] + p.a + [sep] + p.b + [sep] for p in pairs]
    segments = [[0] * (len(p.a) + 2) + [1] * (len(p.b) + 1) for p in pairs]
    ids = pad(rows, tokenizer.pad_id)
    mask = attention_mask(rows)
    masked, labels = mask_tokens(ids, mask, rng, tokenizer, mask_prob)
    return {
        "input_ids": masked,
        "segment_ids": pad(segments, 0),
        "attention_mask": mask,
        "mlm_labels": labels,
        "nsp_labels": np.array([p.is_next for p in pairs], dtype=np.int64),
    }


class PretrainingCorpus:
    """Documents of the synthetic language, ready to be cut into NSP + MLM batches.

    >>> corpus = PretrainingCorpus(n_documents=10_000, seed=0)
    >>> rng = np.random.default_rng(0)
    >>> batch = corpus.batch(64, rng)                 # a fresh random batch
    >>> heldout = PretrainingCorpus(2_000, seed=0, split="heldout").fixed_batches(8, 64)
    """

    def __init__(self, n_documents: int = 10_000, seed: int = 0, split: str = "train",
                 lexicon: Lexicon = DEFAULT_LEXICON, config: LanguageConfig | None = None,
                 tokenizer: Tokenizer | None = None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        if n_documents < 2:
            raise ValueError("next-sentence prediction needs at least 2 documents")
        self.seed, self.split, self.lexicon = seed, split, lexicon
        self.tokenizer = tokenizer or Tokenizer.from_lexicon(lexicon)
        rng = np.random.default_rng([seed, _STREAM, SPLITS[split]])
        self.documents = generate_documents(n_documents, rng, lexicon, config)
        # every sentence encoded once; document d's sentences start at offsets[d]
        self._sentences = [self.tokenizer.encode(s) for d in self.documents for s in d.sentences]
        self._lengths = np.array([len(d.sentences) for d in self.documents], dtype=np.int64)
        self._offsets = np.concatenate([[0], np.cumsum(self._lengths)[:-1]])

    def __len__(self) -> int:
        return len(self.documents)

    def pairs(self, n: int, rng: np.random.Generator) -> list[SentencePair]:
        """``n`` NSP pairs, exactly half of them true next sentences (when n is even)."""
        n_docs = len(self.documents)
        is_next = rng.permutation(np.arange(n) % 2)
        doc = rng.integers(0, n_docs, n)
        a_idx = (rng.random(n) * (self._lengths[doc] - 1)).astype(np.int64)   # not the last
        other = (doc + rng.integers(1, n_docs, n)) % n_docs                  # never doc itself
        other_idx = (rng.random(n) * self._lengths[other]).astype(np.int64)
        out = []
        for k in range(n):
            a_src = (int(doc[k]), int(a_idx[k]))
            b_src = (a_src[0], a_src[1] + 1) if is_next[k] else (int(other[k]), int(other_idx[k]))
            out.append(SentencePair(self._sentence(*a_src), self._sentence(*b_src),
                                    int(is_next[k]), a_src, b_src))
        return out

    def _sentence(self, doc: int, index: int) -> list[int]:
        return self._sentences[self._offsets[doc] + index]

    def batch(self, batch_size: int, rng: np.random.Generator,
              mask_prob: float = 0.15) -> dict[str, np.ndarray]:
        """One random batch (new pairs, new masks)."""
        return collate_pairs(self.pairs(batch_size, rng), self.tokenizer, rng, mask_prob)

    def batches(self, batch_size: int, rng: np.random.Generator | None = None,
                mask_prob: float = 0.15, num_batches: int | None = None) -> Iterator[dict]:
        """Random batches forever (or ``num_batches`` of them)."""
        rng = rng if rng is not None else np.random.default_rng(self.seed)
        count = 0
        while num_batches is None or count < num_batches:
            yield self.batch(batch_size, rng, mask_prob)
            count += 1

    def fixed_batches(self, num_batches: int, batch_size: int, mask_prob: float = 0.15,
                      seed: int = 0) -> list[dict[str, np.ndarray]]:
        """The same ``num_batches`` batches on every call: an evaluation set."""
        rng = np.random.default_rng([self.seed, _STREAM, SPLITS[self.split], 7, seed])
        return [self.batch(batch_size, rng, mask_prob) for _ in range(num_batches)]
