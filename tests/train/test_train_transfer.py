"""minipeft.train.transfer: a pre-trained encoder goes into every kind of task model, and a
fine-tuned one comes back under the original masked-LM head."""
import numpy as np
import pytest

import minipeft as mp
from minipeft.data import PretrainingCorpus, load_task
from minipeft.nn import BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, EncoderDecoder
from minipeft.train import finetune, heldout_batches, pretraining_metrics, save_checkpoint
from minipeft.train.transfer import (encoder_of, encoder_state, forgetting_probe, load_encoder, task_model,
                                     with_encoder)


@pytest.fixture(scope="module")
def tasks():
    return {name: load_task(name, seed=0, n_train=32, n_dev=16, n_test=16)
            for name in ("sentiment", "qa", "summarization")}


@pytest.fixture
def pretrained(config):
    mp.manual_seed(123)
    return BertForPreTraining(config)


def same(a: dict, b: dict, keys=None) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in (keys or a))


@pytest.mark.parametrize("name, kind", [("sentiment", BertForSequenceClassification),
                                        ("qa", BertForQuestionAnswering), ("summarization", EncoderDecoder)])
def test_every_task_model_starts_from_the_pretrained_encoder(tasks, pretrained, name, kind):
    model = task_model(tasks[name], pretrained)
    assert isinstance(model, kind)
    source, target = pretrained.bert.state_dict(), encoder_of(model).state_dict()
    assert same(source, target, keys=target)  # every encoder weight, copied
    if kind is EncoderDecoder:
        assert set(source) - set(target) == {"pooler.dense.weight", "pooler.dense.bias"}
        # the token table is shared with the decoder and its output layer: it came too
        assert model.decoder_embeddings.token.weight is model.encoder.embeddings.token.weight


def test_scratch_models_have_the_same_shapes_and_other_weights(tasks, pretrained, config):
    scratch = task_model(tasks["sentiment"], config=config)
    tuned = task_model(tasks["sentiment"], pretrained)
    assert scratch.bert.config == tuned.bert.config
    assert not np.array_equal(scratch.bert.embeddings.token.weight.numpy(),
                              pretrained.bert.embeddings.token.weight.numpy())


def test_a_checkpoint_path_works_as_the_source(tasks, pretrained, tmp_path):
    path = tmp_path / "bert.npz"
    save_checkpoint(pretrained, path)
    model = task_model(tasks["qa"], path)
    assert same(pretrained.bert.state_dict(), model.bert.state_dict())
    assert same(encoder_state(path), encoder_state(pretrained))


def test_a_wrong_size_is_refused_and_nothing_is_copied(tasks, config, pretrained):
    other = BertForSequenceClassification(mp.nn.BertConfig.preset("tiny", vocab_size=config.vocab_size), 2)
    before = other.bert.state_dict()
    with pytest.raises((KeyError, ValueError)):
        load_encoder(other, pretrained)
    assert same(before, other.bert.state_dict())
    with pytest.raises(ValueError, match="pretrained= .* or config="):
        task_model(tasks["sentiment"])


def test_with_encoder_keeps_the_heads_and_takes_the_tuned_encoder(tasks, pretrained):
    model = task_model(tasks["sentiment"], pretrained)
    finetune(model, tasks["sentiment"], steps=3, batch_size=8, lr=1e-2, quiet=True)
    combined = with_encoder(pretrained, model)
    assert same(combined.bert.state_dict(), model.bert.state_dict())
    assert same(combined.mlm.state_dict(), {**pretrained.mlm.state_dict(),
                                            "decoder_weight": model.bert.embeddings.token.weight.numpy()})
    assert same(combined.nsp.state_dict(), pretrained.nsp.state_dict())
    assert combined.mlm.decoder_weight is combined.bert.embeddings.token.weight  # still tied
    assert not np.array_equal(pretrained.bert.embeddings.token.weight.numpy(),
                              model.bert.embeddings.token.weight.numpy())  # the original is untouched


def test_forgetting_probe_is_the_pretrained_score_before_fine_tuning(tasks, pretrained, tokenizer):
    batches = heldout_batches(PretrainingCorpus(20, seed=0, tokenizer=tokenizer), num_batches=1, batch_size=16)
    probe = forgetting_probe(pretrained, batches)
    for name in ("sentiment", "summarization"):  # with and without a pooler in the task's encoder
        model = task_model(tasks[name], pretrained)
        assert probe(model) == pretraining_metrics(pretrained, batches)
    finetune(model, tasks["summarization"], steps=3, batch_size=8, lr=1e-2, quiet=True)
    assert probe(model) != pretraining_metrics(pretrained, batches)  # the encoder moved; its score did too
    assert probe(task_model(tasks["sentiment"], pretrained)) == pretraining_metrics(pretrained, batches)


def test_embedding_similarity_of_word_groups(tokenizer):
    from minipeft.data import DEFAULT_LEXICON as lexicon
    from minipeft.train.transfer_effects import embedding_similarity

    table = np.random.default_rng(0).normal(size=(tokenizer.vocab_size, 16))
    topic = {lexicon.domain_of(n).name: n for n in lexicon.nouns}  # one noun per topic
    for noun in lexicon.nouns:  # every noun = its topic's first noun, plus a little noise
        table[tokenizer.token_to_id(noun)] = table[tokenizer.token_to_id(topic[lexicon.domain_of(noun).name])] + 1e-3
    similarity = embedding_similarity(table, tokenizer, lexicon)
    assert similarity["nouns, same topic"] > 0.999
    assert abs(similarity["nouns, other topics"]) < 0.6 and set(similarity) >= {"names"}


def test_summary_slot_errors_counts_each_slot(tasks):
    from minipeft.train.transfer_effects import summary_slot_errors

    task = tasks["summarization"]
    tok = task.tokenizer
    right = [tok.encode(" ".join(e.summary)) for e in task.test]
    assert summary_slot_errors(task, right) == {"name wrong": 0, "likes/dislikes wrong": 0, "noun wrong": 0,
                                                "wrong noun, same topic": 0}
    first = list(task.test[0].summary)
    other_name = next(n for n in ("alice", "bob", "carol") if n != first[0])
    wrong = [tok.encode(" ".join([other_name] + first[1:]))] + right[1:]
    assert summary_slot_errors(task, wrong)["name wrong"] == 1
    with pytest.raises(ValueError, match="predictions"):
        summary_slot_errors(task, right[:-1])


def test_a_checkpoint_whose_config_lies_is_refused_before_a_task_model_is_built(tmp_path):
    from minipeft.serialization import CheckpointError, load_arrays, save_arrays

    task = load_task("sentiment", seed=0, n_train=8, n_dev=8, n_test=8)
    model = BertForPreTraining(mp.nn.BertConfig.preset("tiny", vocab_size=task.tokenizer.vocab_size))
    save_checkpoint(model, tmp_path / "pre.npz")
    arrays, meta = load_arrays(tmp_path / "pre.npz")
    meta["config"]["num_layers"] = 100_000  # the description claims a model far bigger than its weights
    save_arrays(tmp_path / "lying.npz", arrays, meta)  # a valid file, with a valid fingerprint
    with pytest.raises(CheckpointError, match="do not fit the config"):
        task_model(task, tmp_path / "lying.npz")
