"""The word-level tokenizer: ids, round trips, and its JSON file."""

import json
import os

import pytest

from minipeft.data.language import DEFAULT_LEXICON, generate_documents
from minipeft.data.tokenizer import SPECIAL_TOKENS, Tokenizer


@pytest.fixture
def tok():
    return Tokenizer.from_lexicon()


def test_special_ids_and_vocab_size(tok):
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert (tok.pad_id, tok.cls_id, tok.sep_id, tok.mask_id, tok.unk_id) == (0, 1, 2, 3, 4)
    assert tok.vocab_size == len(SPECIAL_TOKENS) + len(DEFAULT_LEXICON.words()) == 81
    assert set(tok.word_ids.tolist()) == set(range(5, 81))


def test_vocab_order_is_fixed(tok):
    assert Tokenizer.from_lexicon() == tok
    assert tok.vocab[5:] == DEFAULT_LEXICON.words()


def test_round_trip_of_the_whole_language(tok):
    for doc in generate_documents(50, seed=0):
        text = doc.text()
        ids = tok.encode(text)
        assert tok.unk_id not in ids
        assert tok.decode(ids) == text


def test_encode_splits_punctuation_and_marks_unknown_words(tok):
    assert tok.encode("Alice loves the cake.") == tok.encode(["alice", "loves", "the", "cake", "."])
    assert tok.encode("alice loves the zebra")[-1] == tok.unk_id
    assert tok.encode("[MASK] cake") == [tok.mask_id, tok.token_to_id("cake")]
    assert tok.encode("cake", add_special_tokens=True) == [tok.cls_id, tok.token_to_id("cake"), tok.sep_id]


def test_encode_pair_packs_segments(tok):
    ids, seg = tok.encode_pair("the cake is good .", "bob eats it .")
    assert ids[0] == tok.cls_id and ids[-1] == tok.sep_id
    first_sep = ids.index(tok.sep_id)
    assert first_sep == 6
    assert seg == [0] * 7 + [1] * 5
    assert tok.decode(ids) == "[CLS] the cake is good . [SEP] bob eats it . [SEP]"
    assert tok.decode(ids, skip_special_tokens=True) == "the cake is good . bob eats it ."


def test_decode_rejects_ids_outside_the_vocabulary(tok):
    with pytest.raises(ValueError):
        tok.decode([5, 81])


def test_save_and_load(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    assert Tokenizer.load(path) == tok
    assert os.listdir(tmp_path) == ["tok.json"]           # no temporary file left over
    tok.save(path)                                         # overwrite in place
    assert Tokenizer.load(str(path)) == tok


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "JSON object"),
    (json.dumps({"format": "other", "version": 1, "vocab": []}), "format"),
    (json.dumps({"format": "minipeft-tokenizer", "version": 9, "vocab": []}), "version"),
    (json.dumps({"format": "minipeft-tokenizer", "version": 1}), "vocab"),
    (json.dumps({"format": "minipeft-tokenizer", "version": 1,
                 "vocab": ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "a", "a"]}), "twice"),
    (json.dumps({"format": "minipeft-tokenizer", "version": 1,
                 "vocab": ["a", "[CLS]", "[SEP]", "[MASK]", "[UNK]"]}), "special"),
    (json.dumps({"format": "minipeft-tokenizer", "version": 1,
                 "vocab": ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]", 7]}), "strings"),
])
def test_malformed_file_raises_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        Tokenizer.load(path)
    assert "bad.json" in str(info.value)
