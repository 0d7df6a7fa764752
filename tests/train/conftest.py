"""Shared pieces for the training tests: one tokenizer, a very small BERT config, a fixed seed."""
import pytest

import minipeft as mp
from minipeft.data import Tokenizer
from minipeft.nn import BertConfig


@pytest.fixture(autouse=True)
def seeded():
    mp.manual_seed(0)


@pytest.fixture(scope="session")
def tokenizer():
    return Tokenizer.from_lexicon()


@pytest.fixture(scope="session")
def config(tokenizer):
    """d 32, one layer: big enough to learn a little in 30 steps, small enough to run in milliseconds."""
    return BertConfig.preset("tiny", vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=1,
                             num_heads=2, ff_size=64, max_position=64)
