"""Transfer: put a pre-trained encoder into a task model, and put a fine-tuned one back.

The second step of the "two-step dance" starts every task model from the encoder that
pre-training left (a ``BertForPreTraining``'s ``bert``) and puts a fresh head on top:

    pretrained, meta, _ = load_shipped_pretrained()
    model = task_model(task, pretrained)               # its encoder = the pre-trained one
    scratch = task_model(task, config=pretrained.bert.config)   # the same shapes, random weights

What each kind of task gets (``task.kind``):

    classification  BertForSequenceClassification(pooling="mean")   encoder: model.bert
    qa              BertForQuestionAnswering                        encoder: model.bert
    seq2seq         EncoderDecoder                                  encoder: model.encoder

The encoder-decoder's encoder is a BertModel without a pooler, with the same parameter
names, so the pre-trained weights fit it exactly once the pooler's two are left out.
Its decoder layers start from scratch; the token table is one Parameter shared by the
encoder, the decoder input and the output projection, so that table (and only that
part of the decoder) starts pre-trained too.

After fine-tuning, ``with_encoder(pretrained, model)`` builds a ``BertForPreTraining``
from the *fine-tuned* encoder and the *original* MLM and NSP heads kept aside, to ask
how much of its masked-LM skill the encoder still has (catastrophic forgetting). The
MLM output layer is tied to the token table, so it is the fine-tuned table that scores
the words, as it would in BERT. ``forgetting_probe`` does the same at every evaluation of
a run, to watch the forgetting happen.

``pretrained_model(path)`` loads the starting point: a checkpoint you name, or the shipped
one. (What pre-training handed over, and where it got in the way: ``transfer_effects``.)
"""
from __future__ import annotations

import copy
from pathlib import Path

from ..nn import (BertConfig, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
                  BertModel, EncoderDecoder)
from ..serialization import CheckpointError
from .checkpoint import pretraining_config, read_checkpoint

POOLER = "pooler."


def encoder_of(model) -> BertModel:
    """The BertModel inside a task or pre-training model (``.bert``, or ``.encoder`` of an EncoderDecoder)."""
    if isinstance(model, BertModel):
        return model
    for name in ("bert", "encoder"):
        encoder = getattr(model, name, None)
        if isinstance(encoder, BertModel):
            return encoder
    raise TypeError(f"encoder_of: a {type(model).__name__} holds no BertModel (.bert or .encoder)")


def _is_path(source) -> bool:
    return isinstance(source, (str, bytes)) or hasattr(source, "__fspath__")


def encoder_state(source) -> dict:
    """The encoder's weights {name: array} (names without "bert.") of a BertForPreTraining, a model
    holding a BertModel, or a checkpoint path of one."""
    if _is_path(source):
        arrays, meta = read_checkpoint(source)
        state = {name[len("bert."):]: array for name, array in arrays.items() if name.startswith("bert.")}
        if not state:
            raise CheckpointError(f"{source} (a {meta.get('model', '?')}) holds no weight named 'bert.*': "
                                  f"not a pre-trained BERT checkpoint")
        return state
    return encoder_of(source).state_dict()


def load_encoder(target, source) -> list[str]:
    """Copy the pre-trained encoder of ``source`` into the encoder of ``target``; return the names
    of the weights left out (the pooler's, when the target has none, as the EncoderDecoder).

    Everything else must fit exactly (names and shapes); otherwise ``load_state_dict``
    raises, naming the weights, before anything is copied.
    """
    encoder = encoder_of(target)
    state = encoder_state(source)
    wanted = dict(encoder.named_parameters())
    skipped = sorted(name for name in state if name.startswith(POOLER) and name not in wanted)
    try:
        encoder.load_state_dict({name: array for name, array in state.items() if name not in skipped})
    except (KeyError, ValueError) as err:
        if not _is_path(source):
            raise
        raise CheckpointError(f"{source}: its encoder does not fit the task model's ({err})") from err
    return skipped


def task_model(task, pretrained=None, config: BertConfig | None = None, pooling: str = "mean"):
    """A fresh model for ``task`` (see the module docstring), its encoder copied from ``pretrained``
    (a BertForPreTraining or a checkpoint path) when given, else randomly initialised.

    ``config`` defaults to the pre-trained model's; one of the two is required. The head (and the
    decoder of a seq2seq model) is always new: seed with ``minipeft.manual_seed`` first.
    """
    if config is None:
        if pretrained is None:
            raise ValueError("task_model: pass pretrained= (a BertForPreTraining or a checkpoint path) or config=")
        if _is_path(pretrained):
            config = pretraining_config(pretrained, *read_checkpoint(pretrained))  # checked before building
        else:
            config = encoder_of(pretrained).config
    if config.vocab_size != task.tokenizer.vocab_size:
        raise ValueError(f"task_model: the model's vocabulary has {config.vocab_size} tokens but task "
                         f"{task.name!r}'s tokenizer has {task.tokenizer.vocab_size}")
    if task.kind == "classification":
        model = BertForSequenceClassification(config, task.num_labels, pooling=pooling)
    elif task.kind == "qa":
        model = BertForQuestionAnswering(config)
    elif task.kind == "seq2seq":
        model = EncoderDecoder(config)
    else:
        raise ValueError(f"task_model: unknown task kind {task.kind!r}")
    if pretrained is not None:
        load_encoder(model, pretrained)
    return model


def with_encoder(pretrained: BertForPreTraining, model) -> BertForPreTraining:
    """A copy of ``pretrained`` whose encoder holds ``model``'s encoder weights: the fine-tuned
    encoder under the original MLM and NSP heads (and the original pooler, if ``model``'s encoder
    has none). Neither input is changed, and no random numbers are drawn."""
    if not isinstance(pretrained, BertForPreTraining):
        raise TypeError(f"with_encoder: expected the BertForPreTraining whose heads to keep, "
                        f"got {type(pretrained).__name__}")
    combined = copy.deepcopy(pretrained)
    _copy_encoder(combined, model)
    return combined


def _copy_encoder(combined: BertForPreTraining, model) -> None:
    state = encoder_of(model).state_dict()
    missing = sorted(set(dict(combined.bert.named_parameters())) - set(state))
    if any(not name.startswith(POOLER) for name in missing):
        raise ValueError(f"with_encoder: the encoder lacks weights the pre-trained one has: {missing[:6]}")
    combined.bert.load_state_dict(state, strict=False)


def forgetting_probe(pretrained: BertForPreTraining, batches):
    """A function ``model -> {"mlm_accuracy", "nsp_accuracy", "mlm_loss", "nsp_loss"}``: the held-out
    pre-training scores (``pretraining_metrics`` on ``batches``) of ``model``'s encoder under the
    original heads of ``pretrained``, kept aside. Pass it as ``eval_fn`` to watch forgetting
    while a model fine-tunes. The combined model is built once and refilled at every call."""
    from .pretraining import pretraining_metrics

    combined = copy.deepcopy(pretrained)
    original = pretrained.state_dict()

    def probe(model) -> dict:
        combined.load_state_dict(original)  # the original pooler, where the encoder has none
        _copy_encoder(combined, model)
        return pretraining_metrics(combined, batches)

    return probe


def add_checkpoint_argument(parser) -> None:
    """The ``--checkpoint PATH`` flag of the lessons that start from a pre-trained model
    (for ``Lesson(..., add_arguments=add_checkpoint_argument)``); read it with pretrained_model."""
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="a BertForPreTraining checkpoint to start from (default: the shipped one)")


def pretrained_model(path=None):
    """(BertForPreTraining, meta, where it came from): the checkpoint at ``path`` if given, else the
    shipped one (``load_shipped_pretrained``, which raises CheckpointError saying how to make it
    when it is missing)."""
    from .checkpoint import load_pretrained
    from .shipped import load_shipped_pretrained, pretrained_path

    if path is not None:
        model, meta = load_pretrained(path)
        return model, meta, str(path)
    model, meta, _ = load_shipped_pretrained()
    return model, meta, f"the shipped checkpoint {pretrained_path().name}"


__all__ = ["add_checkpoint_argument", "encoder_of", "encoder_state", "forgetting_probe", "load_encoder",
           "pretrained_model", "task_model", "with_encoder"]
