"""A word-level tokenizer: one id per word of the synthetic language.

Real models split text into sub-word pieces (WordPiece, BPE) because real vocabularies
are open-ended. Our language has a closed vocabulary of about 80 words, so the
simplest tokenizer is also the right one: a list of words, and a word's id is its
position in the list.

The first five ids are the special tokens BERT uses:

    [PAD]=0   filler after the end of a short sequence (masked out of attention)
    [CLS]=1   first token; its final vector summarises the sequence (NSP, classification)
    [SEP]=2   ends each segment: [CLS] A [SEP] B [SEP]
    [MASK]=3  replaces a word the masked-language-model must guess
    [UNK]=4   any word not in the vocabulary

``Tokenizer.from_lexicon()`` builds the vocabulary from the lexicon in a fixed order, so
two runs (or two machines) always agree on the ids. ``save`` / ``load`` use a small
JSON file; a save never leaves a half-written file behind, and a load of a damaged or
hostile file raises ``CheckpointError`` (a ValueError) naming the file and the cause.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from ..serialization import CheckpointError, write_atomically
from .language import DEFAULT_LEXICON, Lexicon

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]")
PAD_ID, CLS_ID, SEP_ID, MASK_ID, UNK_ID = range(len(SPECIAL_TOKENS))

FILE_FORMAT = "minipeft-tokenizer"
FILE_VERSION = 1

# a special token, a word, or one punctuation character
_TOKEN_PATTERN = re.compile(r"\[[A-Z]+\]|\w+|[^\w\s]")


class Tokenizer:
    """Maps words to ids and back.

    >>> tok = Tokenizer.from_lexicon()
    >>> tok.encode("alice loves the cake.")
    [13, 61, 5, 21, 12]
    >>> tok.decode(tok.encode("alice loves the cake ."))
    'alice loves the cake .'
    """

    def __init__(self, vocab: Sequence[str]):
        vocab = list(vocab)
        _check_vocab(vocab)
        self.vocab: tuple[str, ...] = tuple(vocab)
        self._ids = {w: i for i, w in enumerate(self.vocab)}

    @classmethod
    def from_lexicon(cls, lexicon: Lexicon = DEFAULT_LEXICON) -> "Tokenizer":
        """The tokenizer of a lexicon: specials first, then ``lexicon.words()``."""
        return cls(SPECIAL_TOKENS + lexicon.words())

    # --- sizes and ids ------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    pad_id, cls_id, sep_id, mask_id, unk_id = PAD_ID, CLS_ID, SEP_ID, MASK_ID, UNK_ID

    @property
    def special_ids(self) -> tuple[int, ...]:
        return tuple(range(len(SPECIAL_TOKENS)))

    @property
    def word_ids(self) -> np.ndarray:
        """The ids of all ordinary words (everything but the specials)."""
        return np.arange(len(SPECIAL_TOKENS), self.vocab_size, dtype=np.int64)

    def token_to_id(self, token: str) -> int:
        return self._ids.get(token, UNK_ID)

    def id_to_token(self, index: int) -> str:
        if not 0 <= index < self.vocab_size:
            raise ValueError(f"token id {index} is outside the vocabulary (0..{self.vocab_size - 1})")
        return self.vocab[index]

    # --- text <-> ids -----------------------------------------------------------------
    @staticmethod
    def split(text: str) -> list[str]:
        """Text -> words: lower-case, punctuation split off, specials kept whole."""
        return [t if t in SPECIAL_TOKENS else t.lower() for t in _TOKEN_PATTERN.findall(text)]

    def encode(self, text: str | Iterable[str], add_special_tokens: bool = False) -> list[int]:
        """Ids of a text (a string, or a sequence of words); unknown words -> [UNK].

        With ``add_special_tokens`` the result is ``[CLS] ... [SEP]``.
        """
        words = self.split(text) if isinstance(text, str) else list(text)
        ids = [self._ids.get(w, UNK_ID) for w in words]
        return [CLS_ID] + ids + [SEP_ID] if add_special_tokens else ids

    def encode_pair(self, a, b=None) -> tuple[list[int], list[int]]:
        """``[CLS] A [SEP] B [SEP]`` (or ``[CLS] A [SEP]``) and its segment ids (0 for A, 1 for B)."""
        ids = [CLS_ID] + self.encode(a) + [SEP_ID]
        segments = [0] * len(ids)
        if b is not None:
            b_ids = self.encode(b) + [SEP_ID]
            ids += b_ids
            segments += [1] * len(b_ids)
        return ids, segments

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """Ids -> words joined by spaces (``skip_special_tokens`` drops [PAD], [CLS], ...)."""
        words = [self.id_to_token(int(i)) for i in ids]
        if skip_special_tokens:
            words = [w for w in words if w not in SPECIAL_TOKENS]
        return " ".join(words)

    # --- files ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON, atomically (temporary file, then rename)."""
        payload = {"format": FILE_FORMAT, "version": FILE_VERSION, "vocab": list(self.vocab)}
        text = json.dumps(payload, indent=1)
        write_atomically(path, lambda f: f.write(text.encode("utf-8")))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Tokenizer":
        """Read a file written by ``save``; a missing, damaged or malformed file raises
        CheckpointError (a ValueError) naming the file and saying why."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                payload = json.load(f)
        except OSError as e:
            raise CheckpointError(f"{path}: cannot read the tokenizer file ({type(e).__name__}: {e})") from e
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, MemoryError) as e:
            raise CheckpointError(f"{path}: not a tokenizer file (invalid JSON: {type(e).__name__}: {e})") from e
        if not isinstance(payload, dict):
            raise CheckpointError(f"{path}: expected a JSON object, got {type(payload).__name__}")
        if payload.get("format") != FILE_FORMAT:
            raise CheckpointError(f"{path}: expected format {FILE_FORMAT!r}, got {payload.get('format')!r}")
        if payload.get("version") != FILE_VERSION:
            raise CheckpointError(f"{path}: expected version {FILE_VERSION}, got {payload.get('version')!r}")
        if not isinstance(payload.get("vocab"), list):
            raise CheckpointError(f"{path}: expected key 'vocab' holding a list of words, "
                                  f"got {type(payload.get('vocab')).__name__}")
        try:
            return cls(payload["vocab"])
        except ValueError as e:
            raise CheckpointError(f"{path}: {e}") from e

    def __eq__(self, other) -> bool:
        return isinstance(other, Tokenizer) and self.vocab == other.vocab

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={self.vocab_size})"


def _check_vocab(vocab: list) -> None:
    if not all(isinstance(w, str) and w for w in vocab):
        raise ValueError("vocab must be a list of non-empty strings")
    if tuple(vocab[:len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
        raise ValueError(f"vocab must start with the special tokens {list(SPECIAL_TOKENS)}, "
                         f"got {vocab[:len(SPECIAL_TOKENS)]}")
    if len(set(vocab)) != len(vocab):
        dups = sorted(w for w, n in Counter(vocab).items() if n > 1)
        raise ValueError(f"vocab lists a token twice: {dups[:10]}{' ...' if len(dups) > 10 else ''}")
    bad = [w for w in vocab[len(SPECIAL_TOKENS):] if w in SPECIAL_TOKENS or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(f"vocab words must not contain whitespace or repeat a special token: "
                         f"{bad[:10]}{' ...' if len(bad) > 10 else ''}")
