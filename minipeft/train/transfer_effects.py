"""What transferred from pre-training, and where it got in the way (lesson 05).

    embedding_similarity(table, tokenizer)        # mean cosine of word pairs: same topic, other topics, names
    summary_slot_errors(task, predict(model, task))   # which slot of "NAME likes the NOUN ." went wrong
"""
from __future__ import annotations

import numpy as np

from ..data import DEFAULT_LEXICON


def embedding_similarity(table, tokenizer, lexicon=DEFAULT_LEXICON) -> dict:
    """Mean cosine similarity between the embeddings (rows of ``table``, (V, d)) of pairs of words:
    {"nouns, same topic", "nouns, other topics", "names"}.

    Masked-LM training pulls together words the language uses interchangeably: the nouns of
    one topic end up nearly parallel, which helps where a task needs the topic and hurts
    where it needs the exact noun (lesson 05, summarization).
    """
    table = np.asarray(table, dtype=np.float64)
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)

    def mean_cosine(pairs):
        return float(np.mean([unit[tokenizer.token_to_id(a)] @ unit[tokenizer.token_to_id(b)] for a, b in pairs]))

    nouns = lexicon.nouns
    pairs = [(a, b) for i, a in enumerate(nouns) for b in nouns[i + 1:]]
    same = [(a, b) for a, b in pairs if lexicon.domain_of(a) == lexicon.domain_of(b)]
    other = [(a, b) for a, b in pairs if lexicon.domain_of(a) != lexicon.domain_of(b)]
    names = [(a, b) for i, a in enumerate(lexicon.names) for b in lexicon.names[i + 1:]]
    return {"nouns, same topic": mean_cosine(same), "nouns, other topics": mean_cosine(other),
            "names": mean_cosine(names)}


def summary_slot_errors(task, predictions, lexicon=DEFAULT_LEXICON, split: str = "test") -> dict:
    """Count the summaries ("NAME likes|dislikes the NOUN .") of ``split`` that get each slot wrong:
    {"name wrong", "likes/dislikes wrong", "noun wrong", "wrong noun, same topic"} (the last: a
    wrong noun of the reference noun's topic). ``predictions``: ``predict(model, task, split)``."""
    examples = task.split(split)
    if len(predictions) != len(examples):
        raise ValueError(f"summary_slot_errors: {len(predictions)} predictions for {len(examples)} examples")
    errors = {"name wrong": 0, "likes/dislikes wrong": 0, "noun wrong": 0, "wrong noun, same topic": 0}
    for example, ids in zip(examples, predictions):
        words = task.tokenizer.decode(ids, skip_special_tokens=True).split() + [""] * 4
        reference = example.summary
        errors["name wrong"] += words[0] != reference[0]
        errors["likes/dislikes wrong"] += words[1] != reference[1]
        if words[3] != reference[3]:
            errors["noun wrong"] += 1
            errors["wrong noun, same topic"] += (words[3] in lexicon.nouns
                                                 and lexicon.domain_of(words[3]) == lexicon.domain_of(reference[3]))
    return {key: int(value) for key, value in errors.items()}
