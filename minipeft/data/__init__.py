"""Data for minipeft: a synthetic language, its tokenizer, pre-training batches and tasks.

Nothing is downloaded: every sentence is generated from a seed.

    from minipeft.data import Tokenizer, PretrainingCorpus, load_task

    tok = Tokenizer.from_lexicon()                       # 81 words, [PAD]=0 first
    corpus = PretrainingCorpus(n_documents=10_000, seed=0)
    batch = corpus.batch(64, rng)                        # MLM + NSP batch (numpy dict)
    task = load_task("sentiment", seed=0)                # train / dev / test splits
    for batch in task.batches("train", 32, shuffle=True, rng=rng): ...

Modules: ``lexicon`` (the words), ``language`` (sentences and documents), ``tokenizer``, ``pretraining`` (masking and
next-sentence pairs), ``tasks`` (sentiment, pair, contrast, qa, summarization),
``probes`` (did pre-training learn the unseen adjectives?), ``batching`` (padding).
It needs only numpy (and minipeft.serialization for atomic saves), not the models.
"""

from .batching import IGNORE_INDEX
from .language import (DEFAULT_LEXICON, NEGATIVE, POSITIVE, Dice, Document, Domain,
                       LanguageConfig, Lexicon, clause_polarity, generate_documents)
from .pretraining import PretrainingCorpus, SentencePair, collate_pairs, mask_tokens
from .probes import adjective_ids, polarity_probe_score, polarity_probes
from .tasks import Split, Task, load_task, task_names
from .tokenizer import SPECIAL_TOKENS, Tokenizer

__all__ = [
    "IGNORE_INDEX", "DEFAULT_LEXICON", "POSITIVE", "NEGATIVE", "Dice", "Document", "Domain",
    "LanguageConfig", "Lexicon", "clause_polarity", "generate_documents",
    "PretrainingCorpus", "SentencePair", "collate_pairs", "mask_tokens",
    "adjective_ids", "polarity_probe_score", "polarity_probes",
    "Split", "Task", "load_task", "task_names", "SPECIAL_TOKENS", "Tokenizer",
]
