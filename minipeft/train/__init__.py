"""Training and evaluation: the loop, pre-training, fine-tuning, metrics and checkpoints.

    from minipeft.train import pretrain, finetune, evaluate, save_checkpoint, load_pretrained

    mp.manual_seed(0)
    model = BertForPreTraining(BertConfig.preset("tiny", vocab_size=tok.vocab_size))
    history = pretrain(model, PretrainingCorpus(10_000), steps=6000, eval_every=250,
                       probe_fn=polarity_probe_fn(tok))      # prints a progress line
    save_checkpoint(model, "bert.npz", extra={"steps": 6000})

    classifier = BertForSequenceClassification(config, 2, pooling="mean")
    load_checkpoint(classifier.bert, "bert.npz", prefix="bert.")
    finetune(classifier, load_task("sentiment"), steps=400, eval_every=100)
    evaluate(classifier, task, "test")   # {"accuracy", "accuracy_seen", "accuracy_unseen", "loss"}

Modules, in reading order: ``metrics`` (the scores, as formulas), ``history`` (what a run
records and prints), ``loop`` (one training loop for everything), ``objectives`` (the loss
of each kind of task), ``pretraining`` (the pre-training loop, ``pretrain``), ``evaluate``,
``finetune``, ``checkpoint`` (files of weights), ``shipped`` (the pre-trained checkpoint that
ships with minipeft: ``load_shipped_pretrained``), ``transfer``, ``transfer_effects`` (what
pre-training handed over), ``sweeps`` (fine-tuning methods side by side), ``inspection``
(what training touches), ``family`` (one PEFT run as plain data) and ``processes`` (many
runs spread over the cores).
"""
from . import metrics
from .checkpoint import (CheckpointError, load_checkpoint, load_pretrained, model_config, read_checkpoint,
                         save_checkpoint)
from .evaluate import best_spans, evaluate, predict
from .finetune import endless, finetune
from .history import History, Progress
from .loop import NonFiniteLossError, build_optimizer, count_tokens, evaluation_mode, to_device, train
from .metrics import accuracy, exact_match, rouge1_f, rouge_l_f, span_exact_match, span_f1
from .objectives import TASK_LOSSES, check_model_for_task
from .pretraining import heldout_batches, polarity_probe_fn, pretrain, pretraining_loss, pretraining_metrics

__all__ = ["metrics", "accuracy", "exact_match", "span_exact_match", "span_f1", "rouge1_f", "rouge_l_f",
           "History", "Progress", "NonFiniteLossError", "train", "build_optimizer", "count_tokens",
           "evaluation_mode", "to_device", "TASK_LOSSES", "check_model_for_task",
           "pretrain", "pretraining_loss", "pretraining_metrics", "polarity_probe_fn", "heldout_batches",
           "evaluate", "predict", "best_spans", "finetune", "endless",
           "CheckpointError", "save_checkpoint", "load_checkpoint", "load_pretrained", "read_checkpoint",
           "model_config"]
from .shipped import (RECIPE, compact_history, fill_mask, load_shipped_pretrained, mask_probabilities,  # noqa: E402
                      pretrained_path)
__all__ += ["RECIPE", "compact_history", "fill_mask", "load_shipped_pretrained", "mask_probabilities",
            "pretrained_path"]
