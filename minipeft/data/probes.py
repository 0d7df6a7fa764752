"""Probes: did pre-training learn what the adjectives mean?

Masked-LM accuracy is a poor gauge of what a small model learned (it rises mostly from
predicting the right *kind* of word). A probe asks a sharper question: in a context
that gives the sentiment away, does the model put its probability on adjectives of the
right polarity?

    positive context:       "alice loves the [MASK] cake ."                      -> positive
    negated context:        "alice loves the cake because it is not [MASK] ."   -> negative

``polarity_probes`` builds such inputs (``[CLS] probe [SEP] neutral sentence [SEP]``,
the second sentence adds no sentiment). After running the model, take the MLM logits
at ``mask_positions`` and call ``polarity_probe_score`` with ``seen=True`` or
``seen=False``: it restricts the softmax to that group's 8 adjectives and returns the
mean probability given to the correct polarity. 0.5 is chance; a model that learned
the unseen adjectives from pre-training text alone scores near 1.0 with ``seen=False``.
"""

from __future__ import annotations

import numpy as np

from .batching import attention_mask, pad
from .language import DEFAULT_LEXICON, Dice, Lexicon
from .tokenizer import Tokenizer

_STREAM = 303


def polarity_probes(n: int = 512, seed: int = 0, negated: bool = False,
                    lexicon: Lexicon = DEFAULT_LEXICON,
                    tokenizer: Tokenizer | None = None) -> dict[str, np.ndarray]:
    """``n`` probe inputs (half positive, half negative contexts).

    Keys: input_ids, segment_ids, attention_mask (as in pre-training), mask_positions
    (B,) where [MASK] stands, polarity (B,) the polarity the masked adjective must have.
    """
    tokenizer = tokenizer or Tokenizer.from_lexicon(lexicon)
    dice = Dice(np.random.default_rng([seed, _STREAM, int(negated)]))
    rows, segments, positions, polarity = [], [], [], []
    for i in range(n):
        context = i % 2                                   # the sentiment of the context
        domain = dice.choice(lexicon.domains)
        name, noun = dice.choice(lexicon.names), dice.choice(domain.nouns)
        verb = dice.choice(lexicon.cue_verbs_of(context))
        if negated:
            probe = [name, verb, "the", noun, "because", "it", "is", "not", "[MASK]", "."]
        else:
            probe = [name, verb, "the", "[MASK]", noun, "."]
        neutral = [dice.choice(lexicon.names), dice.choice(domain.verbs), "the", noun, "."]
        ids, seg = tokenizer.encode_pair(probe, neutral)
        rows.append(ids)
        segments.append(seg)
        positions.append(ids.index(tokenizer.mask_id))
        polarity.append(1 - context if negated else context)
    return {
        "input_ids": pad(rows, tokenizer.pad_id),
        "segment_ids": pad(segments, 0),
        "attention_mask": attention_mask(rows),
        "mask_positions": np.array(positions, dtype=np.int64),
        "polarity": np.array(polarity, dtype=np.int64),
    }


def adjective_ids(tokenizer: Tokenizer, lexicon: Lexicon = DEFAULT_LEXICON,
                  seen: bool | None = None) -> dict[int, np.ndarray]:
    """``{1: ids of positive adjectives, 0: ids of negative ones}`` (of one seen group)."""
    return {pol: np.array(tokenizer.encode(lexicon.adjectives(pol, seen)), dtype=np.int64)
            for pol in (1, 0)}


def polarity_probe_score(mask_logits: np.ndarray, polarity: np.ndarray, tokenizer: Tokenizer,
                         seen: bool, lexicon: Lexicon = DEFAULT_LEXICON) -> float:
    """Mean probability of the correct polarity, among the seen (or unseen) adjectives.

    ``mask_logits`` (B, V): the MLM logits at each probe's [MASK] position.
    """
    mask_logits = np.asarray(mask_logits, dtype=np.float64)
    polarity = np.asarray(polarity)
    if mask_logits.ndim != 2 or mask_logits.shape != (len(polarity), tokenizer.vocab_size):
        raise ValueError(f"mask_logits must have shape ({len(polarity)}, {tokenizer.vocab_size}),"
                         f" got {mask_logits.shape}")
    ids = adjective_ids(tokenizer, lexicon, seen)
    group = np.concatenate([ids[1], ids[0]])
    logits = mask_logits[:, group]                                          # (B, 8)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    p_positive = probs[:, :len(ids[1])].sum(axis=1)                         # (B,)
    return float(np.where(polarity == 1, p_positive, 1.0 - p_positive).mean())
