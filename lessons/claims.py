"""The numbers the lessons and the README state, and where each comes from.

A learner who finds one number in the prose that the code did not produce stops trusting
the rest. So every number that a lesson's docstring or the README states is either

- a **measurement**, registered below as a ``Claim``: the words quoted, the number as
  written, and the results key it must match. ``tests/test_claims.py`` checks it against
  the committed ``figures/NN_results.json``; when a rerun moves a result away from its
  prose, that test fails and names the prose; or
- **not a measurement** (a setting the code chooses, a paper's figure, a count from
  shapes, a formula's arithmetic, a definition such as chance), registered as ``Given``
  with its kind, so the reader of this file sees that nothing was measured; or
- written by the lesson at run time from what it has just measured (an f-string in a
  ``print``), which needs no entry: it cannot drift.

The test also reads every number in the regions listed in ``CHECKED`` (README's lesson
table and its checkpoint probes, and every lesson docstring but those of lessons 03 and 10,
whole) and fails on any number that is neither a ``Claim`` nor a ``Given``.

How to add an entry
-------------------

A claim::

    Claim("05", "scratch 72.6% (std 3.0)", "72.6", "05:pretrained_vs_scratch:sentiment:scratch", scale=100)

- ``source``: a lesson number ("05": the lesson's docstring) or a file ("README.md");
- ``quote``: words copied from that text, long enough to be found and to read on its own;
  line breaks and indentation count as one space (quote across a line break with a space);
- ``number``: the number as the quote writes it ("72.6", "6,343,680", "1e-10"); it must
  stand in the quote once;
- ``key``: where the measurement is: "NN:" then the keys into ``figures/NN_results.json``,
  separated by ":" (a list item by its index: "02:time_ms_by_length:RNN:0"); or a
  repository path to another JSON file then its keys ("figures/bench.json:full_step_ms").
  Two such keys joined by " / " or " - " give their ratio or difference, several joined
  by " + " their sum;
- ``scale``: what the stored value is multiplied by to read as the prose writes it (100 for
  a fraction written as a percentage, 1/60 for seconds written as minutes);
- tolerance: by default the stated number must be the measured one rounded to the digits
  written ("0.87" holds for 0.865 to 0.875); ``tolerance=`` widens it by an absolute amount
  (in the prose's units), ``relative=`` by a fraction of the stated number ("about 1e-10":
  ``relative=1``). Use them for words such as "about", and for run times, which vary.

A number that is not a measurement::

    Given("07", "m = 4 at d = 64", "setting")

covers every number in its quote; ``kind`` is one of ``KINDS``. A ``Given`` quote must not
hold a number that a ``Claim`` checks (narrow it). To check a new region of prose (a README
section, a lesson's docstring), add a ``Checked(source, start, end)`` with the words that
open it ("": from the beginning) and the words just after it (``None``: to the end of the
docstring or file), e.g.

    Checked("README.md", "| `03_", "| 04 |")          README's row for lesson 03
    Checked("03", "")                                  lesson 03's docstring, whole
    Checked("README.md", "## Benchmark", "## Reading the tests")

then run ``python -m pytest tests/test_claims.py``: it lists every number of the new
region that has no entry yet, with the words around it.
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "setting": "a choice the code makes (steps, sizes, learning rates, seeds), not a result",
    "paper": "a number quoted from a paper (Houlsby et al., 2019; Devlin et al., 2019)",
    "story": "a number of the story this course tells (its BERT-Large savings table: 345M, ~6.34M, 1.8%)",
    "shapes": "counted from the model's shapes or the data's definition; no run can change it",
    "arithmetic": "worked from other numbers in the same sentence (a formula, a unit)",
    "definition": "chance level, a bar a probe must pass, a constant or identity of the math",
    "reference": "a name or a position, not a quantity (lesson 04, step t = 0, layer 1)",
}


@dataclass(frozen=True)
class Claim:
    """A measured number stated in prose, and the result it must match."""

    source: str
    quote: str
    number: str
    key: str
    scale: float = 1.0
    tolerance: float | None = None
    relative: float | None = None


@dataclass(frozen=True)
class Given:
    """Numbers in prose that are not measurements (see ``KINDS``)."""

    source: str
    quote: str
    kind: str


@dataclass(frozen=True)
class Checked:
    """A region of prose whose every number must be registered: from ``start`` to ``end``."""

    source: str
    start: str
    end: str | None = None


CHECKED = [
    # README's lesson table, row by row
    *(Checked("README.md", f"| `{row}_", f"| {following} |")
      for row, following in (("01", "02"), ("02", "03"), ("03", "04"), ("04", "05"), ("05", "06"), ("06", "07"),
                             ("07", "08"), ("08", "09"), ("09", "10"))),
    Checked("README.md", "| `10_", "| 11 |"),
    # README: the benchmark, as python -m minipeft.bench --runs 3 --save figures/bench_cpu.json measured it
    Checked("README.md", "## Benchmark", "## Reading the tests"),
    # README: the files' fuzz counts, as tests/files/fuzz_files.py reported them (figures/files_fuzz_seed*.json)
    Checked("README.md", "## Files and safety"),
    # README: the pre-trained checkpoint's probes and plateau, as lesson 04 measures them
    Checked("README.md", "- **Probes on held-out text**", "## Files and safety"),
    # each lesson docstring, whole
    *(Checked(number, "") for number in ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11")),
    Checked("README.md", "| `11_", "Every lesson accepts"),
]

CLAIMS = [
    # lesson 01: backprop by hand
    Claim("01", "the largest disagreement (about 1e-10", "1e-10", "01:max_abs_diff_vs_numeric", relative=1),
    # lesson 02: RNNs
    Claim("02", "then falls to zero (test accuracy 1.0)", "1.0", "02:first_token_test_accuracy:LSTM"),
    Claim("02", "stays there: 0.87 over its last 50", "0.87", "02:first_token_final_loss:RNN"),
    Claim("02", "steps, test accuracy 0.50.", "0.50", "02:first_token_test_accuracy:RNN"),
    Claim("02", "the RNN by about x0.88 per step back", "0.88", "02:grad_factor_per_step:RNN, untrained"),
    Claim("02", "the LSTM faster, x0.81", "0.81", "02:grad_factor_per_step:LSTM, untrained"),
    Claim("02", "to 1.5e-15 of its last-step value", "1.5e-15",
          "02:grad_norm_by_step:RNN, trained:4 / 02:grad_norm_by_step:RNN, trained:39"),
    Claim("02", "(3.3e-14 at t = 0)", "3.3e-14", "02:grad_ratio_first_to_last:RNN, trained"),
    Claim("02", "at about half strength (0.56;", "0.56", "02:grad_ratio_first_to_last:LSTM, trained"),
    # lesson 04: pre-training (the shipped run's history, and a fresh evaluation)
    Claim("04", "Before step 2,000 of the shipped run", "2,000", "04:milestones:unseen probe > 0.6"),
    Claim("04", "above 0.6 at step 2,000", "2,000", "04:milestones:unseen probe > 0.6"),
    Claim("04", "above 0.9 at step 2,250", "2,250", "04:milestones:unseen probe > 0.9"),
    Claim("04", "NSP passed 0.6 only at step 5,500", "5,500", "04:milestones:NSP accuracy > 0.6"),
    Claim("04", "and negation at step 8,750", "8,750", "04:milestones:negated unseen probe > 0.6"),
    Claim("04", "passing 0.9 at step 9,750", "9,750", "04:milestones:negated unseen probe > 0.9"),
    Claim("04", "So the recipe runs 12,000 steps: 10 minutes", "10", "04:train_time_s", scale=1 / 60, tolerance=0.5),
    Claim("04", "The shipped model: unseen 0.998", "0.998", "04:probes:polarity_unseen"),
    Claim("04", "negated 0.97", "0.97", "04:probes:negated_unseen"),
    Claim("04", "NSP 0.75, MLM 0.62", "0.75", "04:probes:nsp_accuracy"),
    Claim("04", "NSP 0.75, MLM 0.62", "0.62", "04:probes:mlm_accuracy"),
    Claim("04", "until NSP passes 0.6 at step 5,500", "5,500", "04:milestones:NSP accuracy > 0.6"),
    Claim("04", "at 0.5 before step 2,000", "2,000", "04:milestones:unseen probe > 0.6"),
    Claim("04", "(before step 8,750 for negation)", "8,750", "04:milestones:negated unseen probe > 0.6"),
    Claim("04", "BERT (d 64, 2 layers, 4 heads, 118,163 parameters)", "118,163", "04:parameters"),
    Claim("04", "MLM accuracy reaches 0.55 by step 500", "0.55",
          "minipeft/data/pretrained/bert_tiny.json:extra:history:evals:2:mlm_accuracy"),
    Claim("04", "MLM accuracy reaches 0.55 by step 500", "500",
          "minipeft/data/pretrained/bert_tiny.json:extra:history:evals:2:step"),
    Claim("04", "it ends near 0.62 although", "0.62", "04:probes:mlm_accuracy"),
    Claim("04", "every probe sat at 0.50 while", "0.50",
          "minipeft/data/pretrained/bert_tiny.json:extra:history:evals:7:probe_unseen", tolerance=0.01),
    Claim("04", "bert_tiny.npz``, 574 KB", "574", "04:checkpoint_bytes", scale=1e-3),
    # lesson 05: fine-tuning against scratch
    Claim("05", "(d 64, 2 layers, 114k encoder parameters)", "114", "06:parameters:tiny_encoder", scale=1e-3),
    Claim("05", "(500 for sentiment and pair, 1,000 for the others)", "500", "05:train_examples:sentiment"),
    Claim("05", "(500 for sentiment and pair, 1,000 for the others)", "1,000", "05:train_examples:contrast"),
    Claim("05", "NSP left chance only at step 5,500 of 12,000", "5,500", "04:milestones:NSP accuracy > 0.6"),
    Claim("05", "sentiment: pre-trained 100% on all 3 seeds", "100", "05:pretrained_vs_scratch:sentiment:pretrained",
          scale=100),
    Claim("05", "scratch 72.6% (std 3.0)", "72.6", "05:pretrained_vs_scratch:sentiment:scratch", scale=100),
    Claim("05", "scratch 72.6% (std 3.0)", "3.0", "05:pretrained_vs_scratch_details:sentiment:scratch_std",
          scale=100),
    Claim("05", "pair: 97.7% against", "97.7", "05:pretrained_vs_scratch:pair:pretrained", scale=100),
    Claim("05", "against 50.0%, which is chance", "50.0", "05:pretrained_vs_scratch:pair:scratch", scale=100),
    Claim("05", "one seed): 93.4% against 68.0%", "93.4", "05:pretrained_vs_scratch:contrast:pretrained", scale=100),
    Claim("05", "one seed): 93.4% against 68.0%", "68.0", "05:pretrained_vs_scratch:contrast:scratch", scale=100),
    Claim("05", "wins by 27, 48 and 25 points", "27", "05:pretrained_vs_scratch_details:sentiment:gain_points"),
    Claim("05", "wins by 27, 48 and 25 points", "48", "05:pretrained_vs_scratch_details:pair:gain_points"),
    Claim("05", "wins by 27, 48 and 25 points", "25", "05:pretrained_vs_scratch_details:contrast:gain_points"),
    Claim("05", "*below* chance on unseen ones (45%)", "45", "05:seen_unseen:sentiment:from scratch:unseen", scale=100),
    Claim("05", "The pre-trained model scores 100% on both", "100", "05:seen_unseen:sentiment:pre-trained:unseen",
          scale=100),
    Claim("05", "learns it: 0.92 on the seen half", "0.92", "05:curves:pair pre-trained:accuracy_seen:4"),
    Claim("05", "one seed): 0.35 / 0.33 pre-trained", "0.35", "05:qa_and_summarization_all_metrics:qa:pre-trained_f1"),
    Claim("05", "one seed): 0.35 / 0.33 pre-trained", "0.33",
          "05:qa_and_summarization_all_metrics:qa:pre-trained_exact_match"),
    Claim("05", "against 0.39 / 0.37 from scratch", "0.39", "05:qa_and_summarization_all_metrics:qa:from scratch_f1"),
    Claim("05", "against 0.39 / 0.37 from scratch", "0.37",
          "05:qa_and_summarization_all_metrics:qa:from scratch_exact_match"),
    Claim("05", "from scratch): 0.87 pre-trained", "0.87", "05:pretrained_vs_scratch:summarization:pretrained"),
    Claim("05", "0.87 pre-trained against 1.00.", "1.00", "05:pretrained_vs_scratch:summarization:scratch"),
    Claim("05", "embedding (cosine 0.975;", "0.975", "05:token_embedding_cosine:nouns, same topic"),
    Claim("05", "nouns of different topics 0.52)", "0.52", "05:token_embedding_cosine:nouns, other topics"),
    Claim("05", "noun: 222 of 500 pre-trained", "222", "05:summarization_errors:pre-trained:noun wrong"),
    Claim("05", "noun: 222 of 500 pre-trained", "500", "05:test_examples:summarization"),
    Claim("05", "(cosine 0.76 between names)", "0.76", "05:token_embedding_cosine:names"),
    Claim("05", "and 95 pre-trained summaries name the wrong person", "95", "05:summarization_errors:pre-trained:name wrong"),
    Claim("05", "The default run took 3.4 minutes", "3.4", "05:run_time_s", scale=1 / 60, relative=1),
    Claim("05", "the wrong person (scratch: 0)", "0", "05:summarization_errors:from scratch:name wrong"),
    # lesson 06: the costs of full fine-tuning
    Claim("06", "saved): 4.2 MB beside", "4.2", "06:memory_bytes:tiny (measured):activations", scale=1e-6),
    Claim("06", "beside 0.46 MB of weights", "0.46", "06:memory_bytes:tiny (measured):parameters", scale=1e-6),
    Claim("06", "BERT-Large (335,141,888 parameters)", "335,141,888", "06:parameters:large"),
    Claim("06", "tokens: 5.36 GB of weights", "5.36", "06:memory_bytes:BERT-Large (computed):parameters"
          " + 06:memory_bytes:BERT-Large (computed):gradients + 06:memory_bytes:BERT-Large (computed):optimizer_state",
          scale=1e-9),
    Claim("06", "plus 9.7 GB of activations", "9.7", "06:memory_bytes:BERT-Large (computed):activations", scale=1e-9),
    Claim("06", "about 15 GB for one step", "15", "06:memory_total_bytes:BERT-Large (computed)", scale=1e-9),
    Claim("06", "one tiny step took about 10 ms", "10", "06:step_ms_tiny", relative=0.3),
    Claim("06", "step is 7.6 TFLOP", "7.6", "06:step_gemm_flops:BERT-Large (computed)", scale=1e-12),
    Claim("06", "at least 45 s on this CPU", "45", "06:step_seconds_at_matmul_peak:BERT-Large (computed)"),
    Claim("06", "(170 GFLOP/s; it varies", "170", "06:gemm_peak_gflops", tolerance=5),
    Claim("06", "writes 471 KB per classifier", "471", "06:checkpoint_bytes:sentiment", scale=1e-3),
    Claim("06", "and 1.03 MB for the encoder-decoder", "1.03", "06:checkpoint_bytes:summarization", scale=1e-6),
    Claim("06", "changed: 96% of the encoder's", "96", "06:weights_changed:sentiment:weights_changed", scale=100),
    Claim("06", "does not use; 100% for the", "100", "06:weights_changed:summarization:weights_changed",
          scale=100),
    Claim("06", "BERT-Large's 335M float32", "335", "06:parameters:large", scale=1e-6),
    Claim("06", "parameters are 1.34 GB per task", "1.34", "06:bert_large_bytes_per_task", scale=1e-9),
    Claim("06", "N tasks cost N x 1.34 GB", "1.34", "06:bert_large_bytes_per_task", scale=1e-9),
    Claim("06", "a handful (5) is 6.7 GB", "6.7", "06:storage_by_tasks:large_gb:1"),
    Claim("06", "one terabyte is 746 tasks", "746", "06:bert_large_tasks_per_terabyte"),
    Claim("06", "(186 if each copy", "186", "06:bert_large_tasks_per_terabyte", scale=0.25),
    Claim("06", "Before: 61.4%", "61.4", "06:heldout_before:mlm_accuracy", scale=100),
    Claim("06", "sentiment 40.2,", "40.2", "06:forgetting:sentiment:mlm_acc_after", scale=100),
    Claim("06", "pair 39.7,", "39.7", "06:forgetting:pair:mlm_acc_after", scale=100),
    Claim("06", "qa 38.0,", "38.0", "06:forgetting:qa:mlm_acc_after", scale=100),
    Claim("06", "contrast 53.3,", "53.3", "06:forgetting:contrast:mlm_acc_after", scale=100),
    Claim("06", "summarization 58.1:", "58.1", "06:forgetting:summarization:mlm_acc_after", scale=100),
    Claim("06", "58.1: 3 to 23 points lost", "3", "06:forgetting_drop_points:summarization"),
    Claim("06", "58.1: 3 to 23 points lost", "23", "06:forgetting_drop_points:qa"),
    Claim("06", "sentiment lost 20 points in its first 100 steps", "20",
          "06:forgetting_curves:sentiment:1:0 - 06:forgetting_curves:sentiment:1:2", scale=100),
    Claim("06", "from 57.3 to 42.0", "57.3", "06:forgetting_curves:pair:1:3", scale=100),
    Claim("06", "from 57.3 to 42.0", "42.0", "06:forgetting_curves:pair:1:6", scale=100),
    Claim("06", "sees 61.5 fall to 26.7", "61.5", "07:forgetting:pair:mlm_acc_before", scale=100),
    Claim("06", "sees 61.5 fall to 26.7", "26.7", "07:forgetting:pair:full", scale=100),
    Claim("06", "The default run took 47 s", "47", "06:run_time_s", relative=1),
    # lesson 07: adapters
    Claim("07", "here m = 4 at d = 64 is 2.6% of the parameters", "2.6",
          "07:adapter_vs_full:sentiment:adapter_trainable / 07:adapter_vs_full:sentiment:full_trainable", scale=100),
    Claim("07", "bit-identical to before (largest difference 0.0)", "0.0", "07:identity_max_abs_diff"),
    Claim("07", "Look at W_down: at this first step its gradient is exactly 0", "0",
          "07:gradient_norms:adapter:bert.layers.0.attention.output.adapters.sentiment.down.weight"),
    Claim("07", "the attention key bias, about 3e-9", "3e-9",
          "07:gradient_norms:full:bert.layers.0.attention.key.bias", relative=0.5),
    Claim("07", "(0.967 at step 250", "0.967", "05:curves:pair pre-trained:accuracy_seen:5"),
    Claim("07", "0.982 at 400 on the seen half", "0.982", "05:curves:pair pre-trained:accuracy_seen:8"),
    Claim("07", "the adapters score 0.812", "0.812", "07:adapter_vs_full:contrast:adapter"),
    Claim("07", "against full fine-tuning's 0.934", "0.934", "07:adapter_vs_full:contrast:full"),
    Claim("07", "12.2 points behind", "12.2", "07:adapter_vs_full:contrast:gap_points"),
    Claim("07", "m = 16 reaches 0.913", "0.913", "09:score_vs_params:adapter:16:score"),
    Claim("07", "full fine-tuning (0.935)", "0.935", "09:score_vs_params:adapter:32:score"),
    Claim("07", "with 17,410 trained parameters", "17,410", "09:score_vs_params:adapter:32:trainable"),
    Claim("07", "trained parameters, 15% of the base model", "15",
          "09:score_vs_params:adapter:32:trainable / 09:score_vs_params:full:trainable", scale=100),
    Claim("07", "2.0% of 113,794", "113,794", "07:adapter_vs_full:sentiment:full_trainable"),
    Claim("07", "6,343,680 for BERT-Large", "6,343,680", "08:bert_large_table:adapter_modules"),
    Claim("07", "for BERT-Large, 1.9%", "1.9", "08:large_adapter_pct_of_shapes"),
    Claim("07", "642 parameters here", "642", "09:score_vs_params:layer_norm:trainable"),
    Claim("07", "here, 22% of all that m = 4", "22",
          "09:score_vs_params:layer_norm:trainable / 09:score_vs_params:adapter:4:trainable", scale=100),
    Claim("07", "against 100,354 in BERT-Large", "100,354", "08:bert_large_table:layer_norms + 08:bert_large_table:head"),
    # lesson 08: counts from shapes (no run can move them, but the lesson records them: check against that)
    Claim("08", "BERT-Large's 335M parameters against", "335", "08:bert_large_table:base_parameters", scale=1e-6),
    Claim("08", "against an adapter's 6.3M", "6.3", "08:bert_large_table:adapter_modules", scale=1e-6),
    Claim("08", "allocate 335M float32 numbers", "335", "08:bert_large_table:base_parameters", scale=1e-6),
    Claim("08", "float32 numbers, 1.34 GB, for nothing", "1.34", "08:large_full_float32_gb"),
    Claim("08", "= 6,343,680, the table's", "6,343,680", "08:bert_large_table:adapter_modules"),
    Claim("08", "x 1024 x 24 = 98,304)", "98,304", "08:bert_large_table:layer_norms"),
    Claim("08", "labels + labels: 2,050 for", "2,050", "08:bert_large_table:head"),
    Claim("08", "pooler) has 335,141,888 parameters", "335,141,888", "08:bert_large_table:base_parameters"),
    Claim("08", "the adapter modules are 1.89% of it", "1.89", "08:large_adapter_pct_of_shapes"),
    Claim("08", "its rounded 345M (1.84%)", "1.84", "08:large_adapter_pct_of_seed_345M"),
    Claim("08", "With the layer norms and head, an adapter trains 1.92%", "1.92", "08:large_per_task_pct_of_shapes"),
    Claim("08", "its adapter modules (341.5M)", "341.5", "08:large_print_trainable_parameters:total_with_adapters",
          scale=1e-6),
    Claim("08", "an adapter's 6,444,034 trainable", "6,444,034", "08:large_print_trainable_parameters:trainable"),
    Claim("08", "head) are 1.92% of the model as it was", "1.92",
          "08:large_print_trainable_parameters:pct_of_base_with_head"),
    Claim("08", "and 1.89% of the model with adapters", "1.89",
          "08:large_print_trainable_parameters:pct_of_total_with_adapters"),
    Claim("08", "per task: N x 1.34 GB", "1.34", "08:large_full_float32_gb"),
    Claim("08", "BERT-Large plus p = 1.92% of it", "1.92", "08:large_per_task_pct_of_shapes"),
    Claim("08", "9x against 1.17x for", "9", "08:storage_ratio_9_tasks:full"),
    Claim("08", "9x against 1.17x for", "1.17", "08:storage_ratio_9_tasks:adapters"),
    Claim("08", "1 + 9 x 2.1% = 1.19", "1.19", "08:houlsby_storage_multiples:2.1% per task"),
    Claim("08", "1 + 9 x 3.6% = 1.32", "1.32", "08:houlsby_storage_multiples:3.6% per task"),
    Claim("08", "Our 1.92% for m = 64", "1.92", "08:large_per_task_pct_of_shapes"),
    # lesson 09: performance against cost (contrast)
    Claim("09", "everything scores close to 100%", "100", "07:adapter_vs_full:pair:full", scale=100, tolerance=1.5),
    Claim("09", "fell 12.2 points behind", "12.2", "07:adapter_vs_full:contrast:gap_points"),
    Claim("09", "(0.812 against 0.934)", "0.812", "07:adapter_vs_full:contrast:adapter"),
    Claim("09", "(0.812 against 0.934)", "0.934", "07:adapter_vs_full:contrast:full"),
    Claim("09", "here it scores 0.812", "0.812", "09:score_vs_params:adapter:4:score"),
    Claim("09", "12.2 points below full", "12.2",
          "09:score_vs_params:full:score - 09:score_vs_params:adapter:4:score", scale=100),
    Claim("09", "full fine-tuning's 0.934, at", "0.934", "09:full_finetuning_score"),
    Claim("09", "at 2.6% of the parameters of the model with its adapters", "2.6",
          "09:score_vs_params:adapter:4:fraction", scale=100),
    Claim("09", "takes m = 32 (0.935)", "0.935", "09:score_vs_params:adapter:32:score"),
    Claim("09", "(0.935) at 13.3%", "13.3", "09:score_vs_params:adapter:32:fraction", scale=100),
    Claim("09", "only the top layer (44% of the weights)", "44", "09:score_vs_params:top_layers:1:fraction",
          scale=100),
    Claim("09", "falls far short (0.724)", "0.724", "09:score_vs_params:top_layers:1:score"),
    Claim("09", "only all the layers (88%)", "88", "09:score_vs_params:top_layers:2:fraction", scale=100),
    Claim("09", "shrink 12-fold on the tiny model", "12",
          "09:step_cost:tiny:full:gradients / 09:step_cost:tiny:adapter:gradients"),
    Claim("09", "and 26-fold on bench-small", "26",
          "09:step_cost:bench-small:full:gradients / 09:step_cost:bench-small:adapter:gradients"),
    Claim("09", "to 0.71 and 0.73 of full", "0.71",
          "09:step_cost:tiny:adapter:activations / 09:step_cost:tiny:full:activations"),
    Claim("09", "to 0.71 and 0.73 of full", "0.73",
          "09:step_cost:bench-small:adapter:activations / 09:step_cost:bench-small:full:activations"),
    Claim("09", "the total falls to 0.65 and 0.67", "0.65", "09:step_cost:tiny:adapter_vs_full_memory"),
    Claim("09", "the total falls to 0.65 and 0.67", "0.67", "09:step_cost:bench-small:adapter_vs_full_memory"),
    Claim("09", "Time falls to 0.66 and 0.76", "0.66", "09:step_cost:tiny:adapter_vs_full_time", tolerance=0.03),
    Claim("09", "Time falls to 0.66 and 0.76", "0.76", "09:step_cost:bench-small:adapter_vs_full_time",
          tolerance=0.03),
    Claim("09", "Adam's state are 5.4 GB for full", "5.4", "06:memory_bytes:BERT-Large (computed):parameters"
          " + 06:memory_bytes:BERT-Large (computed):gradients + 06:memory_bytes:BERT-Large (computed):optimizer_state",
          scale=1e-9),
    Claim("09", "both stay exactly 0 for ever", "0", "09:init_scale:runs:0:adapter_change_by_part:down.weight"
          " + 09:init_scale:runs:0:adapter_change_by_part:up.weight"
          " + 09:init_scale:runs:0:adapter_change_by_part:down.bias"),
    Claim("09", "only b_up moves, by 1.79 in all", "1.79", "09:init_scale:runs:0:adapter_change_by_part:up.bias"),
    Claim("09", "and the score, 0.658, is", "0.658", "09:init_scale:runs:0:score"),
    Claim("09", "the layer norms alone, 0.664", "0.664", "09:init_scale:layer_norm_head_score"),
    Claim("09", "but to 0.827-0.889", "0.827", "09:init_scale:runs:0.01:score"),
    Claim("09", "but to 0.827-0.889", "0.889", "09:init_scale:runs:1e-07:score"),
    Claim("09", "below the default init's 0.913", "0.913", "09:init_scale:default_init_score"),
    Claim("09", "and the score is 0.772", "0.772", "09:init_scale:runs:1e-12:score"),
    Claim("09", "by 1.45 times the output's own size", "1.45", "09:init_scale:runs:1:output_change_at_init"),
    Claim("09", "training is slow and worse (0.657)", "0.657", "09:init_scale:runs:1:score"),
    # README: the lesson table's run times (the committed runs; a busy machine takes longer)
    Claim("README.md", "values and gradients | 1 s |", "1", "01:run_time_s", relative=1),
    Claim("README.md", "time linear in T | 30 s |", "30", "02:run_time_s", relative=1),
    Claim("README.md", "negation) | 4 s (reuses", "4", "04:run_time_s", relative=1),
    Claim("README.md", "`--retrain`: about 10 min", "10", "04:train_time_s", scale=1 / 60, tolerance=0.5),
    Claim("README.md", "QA and summarization | 3.4 min |", "3.4", "05:run_time_s", scale=1 / 60, relative=1),
    Claim("README.md", "the init-scale sweep | 2.7 min |", "2.7", "09:run_time_s", scale=1 / 60, relative=1),
    Claim("README.md", "catastrophic forgetting | 47 s |", "47", "06:run_time_s", relative=1),
    Claim("README.md", "no forgetting | 2.7 min |", "2.7", "07:run_time_s", scale=1 / 60, relative=1),
    Claim("README.md", "number of tasks | 1 s |", "1", "08:run_time_s", relative=1),
    Claim("README.md", "carried to an H100 | 36 s |", "36", "03:run_time_s", relative=1),
    Claim("README.md", "runs all eleven in about 17 minutes", "17", "01:run_time_s + 02:run_time_s + 03:run_time_s + 04:run_time_s + 05:run_time_s + 06:run_time_s + 07:run_time_s + 08:run_time_s + 09:run_time_s + 10:run_time_s + 11:run_time_s", scale=1 / 60, relative=0.5),
    # README: files and safety (python tests/files/fuzz_files.py --seed 0, and --seed 2 --mutants 1000 --hostile other)
    Claim("README.md", "848 loads, 753 clear errors", "848", "figures/files_fuzz_seed0.json:loads"),
    Claim("README.md", "848 loads, 753 clear errors", "753", "figures/files_fuzz_seed0.json:clear"),
    Claim("README.md", "95 loads of exactly the original weights", "95", "figures/files_fuzz_seed0.json:identical"),
    Claim("README.md", "look), 0 crashes", "0", "figures/files_fuzz_seed0.json:crash"),
    Claim("README.md", "gave 3,098 loads", "3,098", "figures/files_fuzz_seed2.json:loads"),
    Claim("README.md", "2,784 clear errors", "2,784", "figures/files_fuzz_seed2.json:clear"),
    Claim("README.md", "314 identical", "314", "figures/files_fuzz_seed2.json:identical"),
    Claim("README.md", "identical, 0 crashes", "0", "figures/files_fuzz_seed2.json:crash"),
    # README: the benchmark (python -m minipeft.bench --runs 3 --save figures/bench_cpu.json) and lesson 03
Claim("README.md", 'full training step | 147.0 ms', '147.0', 'figures/bench_cpu.json:runs:0:full_step_ms'),
    Claim("README.md", '| 116.0 ms', '116.0', 'figures/bench_cpu.json:runs:1:full_step_ms'),
    Claim("README.md", '| 118.6 ms', '118.6', 'figures/bench_cpu.json:runs:2:full_step_ms'),
    Claim("README.md", 'FLOPs per step (matrix products, forward + backward) | 10.47 GFLOP', '10.47', 'figures/bench_cpu.json:runs:0:flops_per_step', scale=1e-09),
    Claim("README.md", '| 10.47 GFLOP', '10.47', 'figures/bench_cpu.json:runs:1:flops_per_step', scale=1e-09),
    Claim("README.md", '| 10.47 GFLOP', '10.47', 'figures/bench_cpu.json:runs:2:flops_per_step', scale=1e-09),
    Claim("README.md", 'GEMM peak measured in the same run | 186.5 GFLOP/s', '186.5', 'figures/bench_cpu.json:runs:0:gemm_peak_gflops'),
    Claim("README.md", '| 201.0 GFLOP/s', '201.0', 'figures/bench_cpu.json:runs:1:gemm_peak_gflops'),
    Claim("README.md", '| 181.0 GFLOP/s', '181.0', 'figures/bench_cpu.json:runs:2:gemm_peak_gflops'),
    Claim("README.md", '**efficiency** (achieved / peak) | **38.2%', '38.2', 'figures/bench_cpu.json:runs:0:efficiency', scale=100),
    Claim("README.md", '| **44.9%', '44.9', 'figures/bench_cpu.json:runs:1:efficiency', scale=100),
    Claim("README.md", '| **48.8%', '48.8', 'figures/bench_cpu.json:runs:2:efficiency', scale=100),
    Claim("README.md", 'adapter step (m = 16, base frozen) | 113.8 ms', '113.8', 'figures/bench_cpu.json:runs:0:adapter_step_ms'),
    Claim("README.md", '| 88.1 ms', '88.1', 'figures/bench_cpu.json:runs:1:adapter_step_ms'),
    Claim("README.md", '| 89.8 ms', '89.8', 'figures/bench_cpu.json:runs:2:adapter_step_ms'),
    Claim("README.md", '**adapter step / full step** (in turns) | **0.774', '0.774', 'figures/bench_cpu.json:runs:0:adapter_vs_full'),
    Claim("README.md", '| **0.760', '0.760', 'figures/bench_cpu.json:runs:1:adapter_vs_full'),
    Claim("README.md", '| **0.757', '0.757', 'figures/bench_cpu.json:runs:2:adapter_vs_full'),
    Claim("README.md", 'PyTorch fp32 eager full step (own process) | 98.8 ms', '98.8', 'figures/bench_cpu.json:runs:0:torch_separate_process:torch_full_ms'),
    Claim("README.md", '| 101.3 ms', '101.3', 'figures/bench_cpu.json:runs:1:torch_separate_process:torch_full_ms'),
    Claim("README.md", '| 91.3 ms', '91.3', 'figures/bench_cpu.json:runs:2:torch_separate_process:torch_full_ms'),
    Claim("README.md", 'minipeft full step (own process) | 115.7 ms', '115.7', 'figures/bench_cpu.json:runs:0:torch_separate_process:minipeft_full_ms'),
    Claim("README.md", '| 132.2 ms', '132.2', 'figures/bench_cpu.json:runs:1:torch_separate_process:minipeft_full_ms'),
    Claim("README.md", '| 135.1 ms', '135.1', 'figures/bench_cpu.json:runs:2:torch_separate_process:minipeft_full_ms'),
    Claim("README.md", '**minipeft / PyTorch, full step** | **1.17', '1.17', 'figures/bench_cpu.json:runs:0:torch_separate_process:full_ratio'),
    Claim("README.md", '| **1.30', '1.30', 'figures/bench_cpu.json:runs:1:torch_separate_process:full_ratio'),
    Claim("README.md", '| **1.48', '1.48', 'figures/bench_cpu.json:runs:2:torch_separate_process:full_ratio'),
    Claim("README.md", '**minipeft / PyTorch, adapter step** | **1.20', '1.20', 'figures/bench_cpu.json:runs:0:torch_separate_process:adapter_ratio'),
    Claim("README.md", '| **1.30', '1.30', 'figures/bench_cpu.json:runs:1:torch_separate_process:adapter_ratio'),
    Claim("README.md", '| **1.53', '1.53', 'figures/bench_cpu.json:runs:2:torch_separate_process:adapter_ratio'),
    Claim("README.md", "PyTorch's own adapter / full | 0.74", '0.74', 'figures/bench_cpu.json:runs:0:torch_separate_process:torch_adapter_vs_full'),
    Claim("README.md", '| 0.76', '0.76', 'figures/bench_cpu.json:runs:1:torch_separate_process:torch_adapter_vs_full'),
    Claim("README.md", '| 0.76', '0.76', 'figures/bench_cpu.json:runs:2:torch_separate_process:torch_adapter_vs_full'),
    Claim("README.md", "minipeft's adapter / full (own process) | 0.76", '0.76', 'figures/bench_cpu.json:runs:0:torch_separate_process:minipeft_adapter_vs_full'),
    Claim("README.md", '| 0.76', '0.76', 'figures/bench_cpu.json:runs:1:torch_separate_process:minipeft_adapter_vs_full'),
    Claim("README.md", '| 0.79', '0.79', 'figures/bench_cpu.json:runs:2:torch_separate_process:minipeft_adapter_vs_full'),
Claim("README.md", 'The adapter step does 0.69x the FLOPs', '0.69', 'figures/bench_cpu.json:runs:0:adapter_flops_per_step / figures/bench_cpu.json:runs:0:flops_per_step'),
    Claim("README.md", "takes 1.17-1.48x PyTorch's", '1.17', 'figures/bench_cpu.json:runs:0:torch_separate_process:full_ratio'),
    Claim("README.md", "takes 1.17-1.48x PyTorch's", '1.48', 'figures/bench_cpu.json:runs:2:torch_separate_process:full_ratio'),
    Claim("README.md", '(the adapter step 1.20-1.53x)', '1.20', 'figures/bench_cpu.json:runs:0:torch_separate_process:adapter_ratio'),
    Claim("README.md", '(the adapter step 1.20-1.53x)', '1.53', 'figures/bench_cpu.json:runs:2:torch_separate_process:adapter_ratio'),
    Claim("README.md", 'takes 0.74-0.76x its full step', '0.74', 'figures/bench_cpu.json:runs:0:torch_separate_process:torch_adapter_vs_full'),
    Claim("README.md", 'takes 0.74-0.76x its full step', '0.76', 'figures/bench_cpu.json:runs:1:torch_separate_process:torch_adapter_vs_full'),
    Claim("README.md", "the Transformer layer takes 3.8x the RNN layer's time", '3.8', '03:ranking:cpu_transformer_over_rnn'),
    Claim("README.md", 'it runs 1.45x faster than on one', '1.45', '03:speedup:transformer_speedup:3'),
    Claim("README.md", 'products: 1.53x)', '1.53', '03:speedup:transformer_amdahl:3'),
    Claim("README.md", 'the RNN layer runs 1.06x', '1.06', '03:speedup:rnn_speedup:3'),
    Claim("README.md", 'lands within 0.81-1.07', '0.81', '03:model:measured_over_model:transformer:1'),
    Claim("README.md", 'lands within 0.81-1.07', '1.07', '03:model:measured_over_model:transformer:4'),
    Claim("README.md", 'layer 39x slower', '39', '03:ranking:gpu_rnn_over_transformer'),
    Claim("README.md", "| 4 s without a GPU |", "4", "10:run_time_s", relative=1),
    # README: the pre-trained checkpoint, as lesson 04 measures it
    Claim("README.md", "probe, seen adjectives | 0.999 |", "0.999", "04:probes:polarity_seen"),
    Claim("README.md", "probe, unseen adjectives | 0.998 |", "0.998", "04:probes:polarity_unseen"),
    Claim("README.md", "under negation, seen adjectives | 0.974 |", "0.974", "04:probes:negated_seen"),
    Claim("README.md", "under negation, unseen adjectives | 0.971 |", "0.971", "04:probes:negated_unseen"),
    Claim("README.md", "prediction accuracy | 0.754 |", "0.754", "04:probes:nsp_accuracy"),
    Claim("README.md", "(25% masking) | 0.621 |", "0.621", "04:probes:mlm_accuracy"),
    Claim("README.md", "0.50 before step 2,000;", "2,000", "04:milestones:unseen probe > 0.6"),
    Claim("README.md", "passed 0.9 at step 2,250", "2,250", "04:milestones:unseen probe > 0.9"),
    Claim("README.md", "NSP passed 0.6 at step 5,500", "5,500", "04:milestones:NSP accuracy > 0.6"),
    Claim("README.md", "negation passed 0.6 at step 8,750", "8,750", "04:milestones:negated unseen probe > 0.6"),
    Claim("README.md", "and 0.9 at step 9,750", "9,750", "04:milestones:negated unseen probe > 0.9"),
    Claim("README.md", "(6,343,680 adapter parameters", "6,343,680", "08:bert_large_table:adapter_modules"),
    Claim("README.md", "1.89% of 335.1M", "1.89", "08:large_adapter_pct_of_shapes"),
    Claim("README.md", "1.89% of 335.1M", "335.1", "08:bert_large_table:base_parameters", scale=1e-6),
    Claim("README.md", "1.84% of 345M", "1.84", "08:large_adapter_pct_of_seed_345M"),
    # lesson 11: the PEFT family
    Claim("11", "a passage needs up to 26 more", "26", "11:longest_contrast_passage"),
    Claim("11", "134 training runs of", "134", "11:training_runs"),
    Claim("11", "never saw a sequence longer than 27 tokens", "27", "11:prompt_positions:first_untrained_position"),
    Claim("11", "``contrast`` at r = 16 (8,322 trained", "16", "11:within_2_points:lora:size"),
    Claim("11", "``contrast`` at r = 16 (8,322 trained", "8,322", "11:within_2_points:lora:trainable"),
    Claim("11", "the serial adapters need there (m = 64, 33,922)", "64", "11:within_2_points:adapter:size"),
    Claim("11", "the serial adapters need there (m = 64, 33,922)", "33,922", "11:within_2_points:adapter:trainable"),
    Claim("11", "adapters get there at m = 64 too", "64", "11:within_2_points:parallel:size"),
    Claim("11", "On ``sentiment`` every method scores 1.0", "1.0", " + ".join(
        f"11:sentiment_pair:sentiment:{m}:score" for m in ("full", "lora", "adapter", "pfeiffer", "parallel", "prompt",
                                                            "prefix", "bitfit", "ia3", "layer_norm")), scale=0.1),
    Claim("11", "falls to 0.511 on ``contrast``", "0.511", "11:methods:prompt:32:score"),
    Claim("11", "the same prompt scores 0.741 (seed 0)", "0.741", "11:prompt_positions:checks:0:kept_seed0"),
    Claim("11", "the best shifted prompt's 0.720", "0.720", "11:methods:prompt:16:score"),
    Claim("11", "keeping positions gives 0.526 (seed 0)", "0.526", "11:prompt_positions:checks:1:kept_seed0"),
    Claim("README.md", "beside what was measured; 134 runs", "134", "11:training_runs"),
    Claim("README.md", "two at a time (one per core) | 5.9 min |", "5.9", "11:run_time_s", scale=1 / 60, relative=1),
]

GIVEN = [
    # lesson 01
    Given("01", "x (1x2) -> z1", "shapes"),
    Given("01", "dz1 = dh * (1 - h^2)", "definition"),
    Given("01", "tanh's slope 1 - h^2, which is at most 1 and near 0 wherever |h| is near 1", "definition"),
    # lesson 02
    Given("02", "h_t = tanh(x_t W_x + h_{t-1} W_h + b)", "definition"),
    Given("02", "Step t needs h_{t-1}", "definition"),
    Given("02", "by diag(1 - h^2) W_h^T", "definition"),
    Given("02", "z = x_t W_x + h_{t-1} W_h + b", "definition"),
    Given("02", "c_t = f * c_{t-1} + i * g", "definition"),
    Given("02", "While f stays near 1", "definition"),
    Given("02", "the Transformer of lesson 03 removes", "reference"),
    Given("02", "(one of 4) among random distractors", "setting"),
    Given("02", "Chance accuracy is 1/4 (a loss of log 4 = 1.386)", "definition"),
    Given("02", "recall the first of T = 40 tokens", "setting"),
    Given("02", "sits at log 4", "definition"),
    Given("02", "to near log 2", "definition"),
    Given("02", "over its last 50 of 1000 steps", "setting"),
    Given("02", "tiny for both models (cell 3)", "reference"),
    Given("02", "sigmoid(1) = 0.73", "definition"),
    Given("02", "value at t = 4", "reference"),
    Given("02", "at t = 0): it settled", "reference"),
    Given("02", "back to t = 0 at", "reference"),
    Given("02", "windows k = 2, 5, 10, 20 and full BPTT (40) on the task with the key 20 steps before the end",
          "setting"),
    Given("02", "at steps k, 2k, ...; T = 40 is a multiple", "setting"),
    # lesson 04
    Given("04", "fine-tuning (lesson 05), teaches", "reference"),
    Given("04", "(8 names, 4 topics,", "shapes"),
    Given("04", "tiny BERT (d 64, 2 layers, 4 heads,", "setting"),
    Given("04", "(80% of them replaced by [MASK], 10% by a random word, 10% left alone)", "setting"),
    Given("04", "Each step draws 64 fresh sentence pairs", "setting"),
    Given("04", "*which* of the 8: the best it can do is 1/8 each", "arithmetic"),
    Given("04", "0.5 is chance", "definition"),
    Given("04", "training sets of lesson 05:", "reference"),
    Given("04", "between two evaluations 250 steps apart, the polarity probes jumped: above 0.6", "setting"),
    Given("04", "above 0.9 at step", "definition"),
    Given("04", "NSP passed 0.6 only", "definition"),
    Given("04", "passing 0.9 at step", "definition"),
    Given("04", "in trial runs of 6,000 and 8,000 steps", "setting"),
    Given("04", "the recipe runs 12,000 steps", "setting"),
    Given("04", "an evaluation every 250 steps", "setting"),
    Given("04", "against their bars (0.8 for the unseen and negated probes, 0.65 for NSP)", "definition"),
    Given("04", "top 3 with probabilities over all 81 tokens", "shapes"),
    Given("04", "means of blocks of 25 steps", "setting"),
    Given("04", "where the probes left 0.5", "definition"),
    Given("04", "on ln 2 = 0.693, a coin toss, until NSP passes 0.6", "definition"),
    Given("04", "on one 0..1 axis, with chance (0.5)", "definition"),
    Given("04", "the flat stretch at 0.5 before", "definition"),
    Given("04", "from scratch for 60 steps", "setting"),
    # lesson 05
    Given("05", "Lesson 04 pre-trained a tiny BERT (d 64, 2 layers,", "setting"),
    Given("05", "(400 steps of 32, AdamW lr 1e-3 with 10% warm-up", "setting"),
    Given("05", "as lesson 04's probes showed", "reference"),
    Given("05", "(lesson 04: NSP", "reference"),
    Given("05", "of 12,000).", "setting"),
    Given("05", "numbers of our run, seed 0", "setting"),
    Given("05", "on all 3 seeds", "setting"),
    Given("05", "it does not win (item 4)", "reference"),
    Given("05", "fails even the seen half in 400 steps", "setting"),
    Given("05", "by step 200 (seed 0)", "setting"),
    # lesson 06
    Given("06", "Lesson 05 fine-tuned every weight", "reference"),
    Given("06", "the weights (4 bytes each), their gradients (4) and Adam's two moments (8): 16 bytes per "
                "parameter, 4x the model", "arithmetic"),
    Given("06", "for a batch of 32 sentences of 12 tokens", "setting"),
    Given("06", "tested to agree with the measurement within 0.1%", "setting"),
    Given("06", "at batch 32 x 128 tokens", "setting"),
    Given("06", "after 400 steps", "setting"),
    Given("06", "(345M, the count of the savings table lesson 08 quotes: 1.38 GB)", "story"),
    Given("06", "a handful (5)", "arithmetic"),
    Given("06", "Adam's state, 16 bytes per parameter", "arithmetic"),
    Given("06", "and lesson 07's adapters", "reference"),
    Given("06", "(256 sentence pairs, 25% of words masked)", "setting"),
    Given("06", "After 400 steps at lr 1e-3", "setting"),
    Given("06", "in its first 100 steps", "setting"),
    Given("06", "between steps 150 and 300", "setting"),
    Given("06", "Lesson 07 trains pair for 1,000 steps", "setting"),
    # lesson 07
    Given("07", "(Houlsby et al., 2019). Lessons 05 and 06", "reference"),
    Given("07", "here m = 4 at d = 64 is", "setting"),
    Given("07", "an ``Adapter`` (64 -> 4 -> 64)", "setting"),
    Given("07", "both projections near zero, std 1e-2", "setting"),
    Given("07", "(lesson 09's init sweep", "reference"),
    Given("07", "because it reaches W_down through W_up = 0. After one update W_up is no longer 0", "definition"),
    Given("07", "(Had both started at 0, neither would ever move: lesson 09.)", "definition"),
    Given("07", "(sentiment and pair: mean of 3 seeds)", "setting"),
    Given("07", "Adapters use lr 1e-2", "setting"),
    Given("07", "full fine-tuning lr 1e-3", "setting"),
    Given("07", "the same steps, batch 32", "setting"),
    Given("07", "pair trains for 1,000 steps, the others for 400", "setting"),
    Given("07", "lesson 05's pre-trained model was still climbing at step 400", "reference"),
    Given("07", "at step 250,", "reference"),
    Given("07", "at 400 on the seen half", "reference"),
    Given("07", "m = 4 at d = 64 is BERT-Large's ratio, m/d = 1/16 (m = 64 at d = 1024, the setting of the "
                "\"about 2%\" in the story)", "paper"),
    Given("07", "and lesson 09 measures", "reference"),
    Given("07", "m = 16 reaches", "setting"),
    Given("07", "and m = 32 matches", "setting"),
    Given("07", "So \"about 2% of the parameters", "story"),
    Given("07", "(4 adapters x (2md + d + m) = 2,320 here, 2.0% of", "shapes"),
    Given("07", "of all that m = 4 trains", "setting"),
    Given("07", "in BERT-Large, 1.6% of what m = 64 trains", "arithmetic"),
    Given("07", "whether m/d = 1/16 is enough", "arithmetic"),
    # lesson 08
    Given("08", "(\"Savings Example: BERT Large (345M params)\"): Fine-Tuning Method Trainable Params % of Total "
                "Full Fine-Tuning 345M 100% PEFT (Adapters) ~6.34M 1.8%", "story"),
    Given("08", "Houlsby et al. (2019), who introduced adapters, put it this way: \"On GLUE, we attain within 0.4% "
                "of the performance of full fine-tuning, adding only 3.6% parameters per task. By contrast, "
                "fine-tuning trains 100% of the parameters per task.\" Their Table 1 gives the storage side: for "
                "the 9 GLUE tasks, full fine-tuning needs 9x the parameters of one BERT-Large; adapters need about "
                "1.3x (sizes 8-256 chosen per task, 3.6% per task) or 1.2x (size 64 everywhere, 2.1% per task)",
          "paper"),
    Given("08", "An adapter (Houlsby et al., 2019)", "reference"),
    Given("08", "Two per layer, 24 layers, d = 1024, m = 64: 48 x 132,160", "shapes"),
    Given("08", "the table's \"~6.34M\"", "story"),
    Given("08", "the layer norms (2 per layer x (gamma + beta) x 1024 x 24 =", "shapes"),
    Given("08", "for 2 labels", "setting"),
    Given("08", "BertModel (embeddings, 24 layers, pooler)", "shapes"),
    Given("08", "The table's \"1.8%\" divides by its rounded 345M", "story"),
    Given("08", "the BERT paper itself says 340M", "paper"),
    Given("08", "plugs in m = 16 adapters", "setting"),
    Given("08", "the same number as 2 x layers x (2md + d + m)", "shapes"),
    Given("08", "That is why cell 1 may trust", "reference"),
    Given("08", "per task: 1 + N x p copies", "arithmetic"),
    Given("08", "for Houlsby's 9 GLUE tasks", "paper"),
    Given("08", "the same way: 1 + 9 x 2.1% =", "paper"),
    Given("08", "(his 1.2x) and 1 + 9 x 3.6% =", "paper"),
    Given("08", "(his 1.3x)", "paper"),
    Given("08", "for m = 64 is a little below his 2.1%", "paper"),
    Given("08", "for N = 1..20, full fine-tuning against adapters of size 8, 64 and 256", "setting"),
    Given("README.md", "of 345M), storage", "story"),
    Given("README.md", "1,024 held-out sentence pairs and 1,024 fresh probe sentences per kind; 0.5 is chance",
          "setting"),
    Given("README.md", "| >= 0.8 |", "definition"),
    Given("README.md", "| >= 0.65 |", "definition"),
    Given("README.md", "masked-LM accuracy (25% masking)", "setting"),
    Given("README.md", "evaluations every 250 steps): every probe sat at 0.50", "setting"),
    Given("README.md", "the polarity probes passed 0.9", "definition"),
    Given("README.md", "NSP passed 0.6", "definition"),
    Given("README.md", "negation passed 0.6", "definition"),
    Given("README.md", "and 0.9 at step", "definition"),
    Given("README.md", "With 6,000 or 8,000 steps negation was not learned", "setting"),
    # lesson 09
    Given("09", "Houlsby et al.'s Figures 3, 4 and 6", "paper"),
    Given("09", "Lesson 07 found adapters", "reference"),
    Given("09", "A passage of 2-3 sentences", "shapes"),
    Given("09", "Full fine-tuning lands between 0.80 and 0.97 here (the lesson checks it)", "setting"),
    Given("09", "(Houlsby's Fig. 3/4)", "paper"),
    Given("09", "adapters of bottleneck m = 1, 2, 4, 8, 16, 32, 64", "setting"),
    Given("09", "Houlsby went to m = 256 at d = 1024", "paper"),
    Given("09", "so here m stops at d = 64", "setting"),
    Given("09", "the top k of the 2 layers (k = 1, 2)", "setting"),
    Given("09", "The ringed point, m = 4 at d = 64, has BERT-Large's ratio m/d = 1/16 (m = 64 at d = 1024, "
                "the setting of the story's \"about 2%\")", "paper"),
    Given("09", "Matching full fine-tuning takes m = 32", "setting"),
    Given("09", "lesson 07 explains", "reference"),
    Given("09", "against adapters (m = 16)", "setting"),
    Given("09", "bench-small model (d 128, 4 layers, 64 tokens)", "setting"),
    Given("09", "fine-tuning: lesson 06.)", "reference"),
    Given("09", "(Houlsby's Fig. 6): train adapters (m = 16)", "paper"),
    Given("09", "With 2 layers the spans are layer 0, layer 1, and both: a 2 x 2 upper triangle.", "shapes"),
    Given("09", "costs little in a 24-layer BERT; in a 2-layer model", "paper"),
    Given("09", "both projections ~ N(0, s^2), for s = 1e-12 .. 1, and s = 0 exactly", "setting"),
    Given("09", "vice versa: at s = 0 both", "setting"),
    Given("09", "every s from 1e-9 to 1e-1 trains", "setting"),
    Given("09", "(W_up = 0, W_down at a normal scale;", "setting"),
    Given("09", "any s up to about 1e-2 works", "paper"),
    Given("09", "Adam's epsilon (1e-8), at s = 1e-12", "setting"),
    Given("09", "Too large (s = 1)", "setting"),
    # lesson 03 (its measured numbers are all printed at run time; the docstring states none)
    Given("03", "Lesson 02's RNN read a sequence", "reference"),
    Given("03", "The key can be 1 or 500 positions away", "definition"),
    Given("03", "the *layers* (2 in this lesson's model, 12 in BERT-Base)", "shapes"),
    Given("03", "The price is A itself: T^2 entries per head", "shapes"),
    Given("03", "trained on lesson 02's recall task: 40 tokens, the first is the key (K0..K3, the label), the "
                "other 39 are distractors. Next to it, lesson 02's RNN", "setting"),
    Given("03", "(chance is 1/4)", "definition"),
    Given("03", "on the plateau lesson 02 shows", "reference"),
    Given("03", "an RNN can be coaxed through 40 steps (lesson 02's LSTM is", "reference"),
    Given("03", "the RNN must pass the key along 39 steps", "setting"),
    Given("03", "each row sums to 1. The strip", "definition"),
    Given("03", "against 1/T for a head", "definition"),
    Given("03", "Vaswani et al. (2017) compare the two kinds of layer in their Table 1", "paper"),
    Given("03", "work per layer O(n d^2) for a recurrent layer against O(n^2 d) for self-attention; sequential "
                "operations O(n) against O(1); maximum path length between two positions O(n) against O(1)",
          "paper"),
    Given("03", "(d 128, batch 8, T = 16 to 1024)", "setting"),
    Given("03", "12 B T d^2 - 2 B d^2, 48 B T d^2 - 8 B d^2 and 3 B (24 T d^2 + 4 T^2 d) exactly", "shapes"),
    Given("03", "an RNN mixes positions only in h_(t-1) W_h, so position 1 reaches position T through T - 1 of those "
                "products", "shapes"),
    Given("03", "beside Table 1's entry (the encoder's work is 24 T d^2 + 4 T^2 d: its slope climbs from 1 towards "
                "2 as 4 T^2 d overtakes 24 T d^2, past T = 6 d)", "arithmetic"),
    Given("03", "speedup = time(1 thread) / time(all cores)", "definition"),
    Given("03", "bounds the speedup at 1 / ((1 - p) + p / n)", "definition"),
    Given("03", "The lesson prints both at T = 512", "setting"),
    Given("03", "(each op's forward and backward call: 2 per op, counted)", "definition"),
    Given("03", "(an RNN of width 1 on one sequence", "setting"),
    Given("03", "the times measured in cell 4 (points)", "reference"),
    Given("03", "The lesson prints the factor at T = 512", "setting"),
    Given("03", "Lesson 10 measures the same layers", "reference"),
    Given("03", "about 24 d^2 + 4 T d floating-point operations forward (the four attention projections, the "
                "feed-forward block, then the T^2 attention itself) against the RNN's 4 d^2: 6 to 10 times the work "
                "at these lengths (cell 3 counts it)", "shapes"),
    Given("README.md", "lesson 03's cost model on a GPU", "reference"),
    Given("README.md", "Vaswani et al.'s Table 1 counted", "paper"),
    # README: the benchmark section
    Given("README.md", '"bench-small" (vocabulary 1000, 4 layers, d 128, 4 heads, FF 512, sequence 64, batch 32, dropout 0, '
                       'classifier on [CLS], Adam)', "setting"),
    Given("README.md", "the median of 7 runs", "setting"),
    Given("README.md", "and the adapter step (m = 16, base frozen) is timed", "setting"),
    Given("README.md", "x86_64 CPU (2026-12-06, `python -m minipeft.bench --runs 3 --save", "reference"),
    Given("README.md", "with PyTorch 2.13.0 (CPU build)", "reference"),
    Given("README.md", "| measurement | run 1 | run 2 | run 3 |", "reference"),
    Given("README.md", "| adapter step (m = 16, base frozen) |", "setting"),
    Given("README.md", "(attention at T = 64 is 128 small products per call;", "shapes"),
    Given("README.md", "(2048 x 128 by 128 x 16)", "shapes"),
    Given("README.md", "The project's target for the ratio is 0.75", "setting"),
    Given("README.md", "Lesson 03 times one RNN layer against one Transformer encoder layer (d 128, batch 8", "setting"),
    Given("README.md", "At T = 512, on one thread", "setting"),
    Given("README.md", "of every measured time from T = 64 to 1024", "setting"),
    Given("README.md", "Transformer layer at T = 512, since", "setting"),
    Given("README.md", "(lesson 10 draws it", "reference"),
    Given("README.md", "bench-base (BERT-Base shapes, sequence 128, batch 32)", "setting"),
    Given("README.md", "lesson 10 on a GPU machine", "reference"),
    Given("README.md", "(lesson 10 draws the cost model's projection for an H100 and an H200 meanwhile)", "reference"),
    # README: files and safety
    Given("README.md", "at most 64 KiB", "setting"),
    Given("README.md", "tries it as a hostile user would: 250 damaged copies", "setting"),
    Given("README.md", "headers claiming 4 x 10^12 floats, configs of 100,000 layers or a 2M vocabulary, descriptions "
                       "nested 100,000 deep", "setting"),
    Given("README.md", "capped. Seed 0 (`figures", "setting"),
    Given("README.md", "--seed 2 --mutants 1000", "setting"),
    # lesson 10 (it prints every measured or projected number at run time)
    Given("10", "(4 layers, d 128, batch 32, sequence 64)", "setting"),
    Given("10", "(12 layers, d 768, sequence 128)", "setting"),
    Given("10", "lesson 03's cost model", "reference"),
    Given("10", "(d 128, batch 8) as the sequence grows from 16 to 1024 positions", "setting"),
    Given("10", "2 per op, a few ops per step", "definition"),
    Given("10", "the GPU projection of cell 2", "reference"),
    # lesson 11: the PEFT family
    Given("11", "(IA)^3", "reference"),
    Given("11", "Adapters (lessons 07-09)", "reference"),
    Given("11", "adapters (Houlsby 2019)", "paper"),
    Given("11", "parallel (He 2022)", "paper"),
    Given("11", "LoRA (Hu 2021) h = W0 x + (alpha / r) B A x on query and value; B = 0 at start", "paper"),
    Given("11", "BitFit (Ben Zaken 2021)", "paper"),
    Given("11", "prompt tuning (Lester 2021)", "paper"),
    Given("11", "prefix tuning (Li and Liang 2021)", "paper"),
    Given("11", "(Liu 2022)", "paper"),
    Given("11", "tiny BERT (lesson 04), with the same recipe as lessons 07 and 09 (400 steps, batch 32,", "setting"),
    Given("11", "runs of 400 steps, 3 fine-tuning seeds per point", "setting"),
    Given("11", "``contrast`` (lesson 09: the task where methods separate), every method over its sizes: "
                "LoRA r = 1, 4, 16, 64; serial adapters m = 1, 4, 16, 64; Pfeiffer and parallel adapters "
                "m = 1, 16, 64; prompt and prefix length P = 1, 16, 32;", "setting"),
    Given("11", "(seed 0), about the best", "setting"),
    Given("11", "(seed 0), chance again", "setting"),
    Given("11", "Prompt length 64 cannot run the usual way", "setting"),
    Given("11", "of a 64-place table", "shapes"),
    Given("11", "One check more, seed 0 only", "setting"),
    Given("11", "(P = 32 on ``contrast``, 16 on ``pair``)", "setting"),
    Given("11", "does not carry over to 114k", "shapes"),
    Given("11", "one size (r, m, P = 16)", "setting"),
    Given("11", "12 steps (the numbers then mean nothing)", "setting"),
    Given("11", "1e-3 for full fine-tuning and 1e-2 for LoRA, adapters and the layer norms (as lessons 07 and 09)",
          "setting"),
    Given("11", "(seed 0, 400 steps, picked by its test score", "setting"),
    Given("11", "prompt tuning 3e-2, BitFit 3e-2, prefix tuning 1e-1, (IA)^3 1e-1.", "setting"),
    Given("11", "the worst and best of the 3 seeds", "setting"),
    Given("11", "the smallest size within 2 points of full fine-tuning (mean of 3 seeds)", "definition"),
    Given("11", "at batch 1 and batch 32", "setting"),
    Given("11", "These papers measured models of 100M-11B parameters", "paper"),
    Given("11", "this one has 114k", "shapes"),
    Given("11", "LoRA gets within 2 points of full", "definition"),
    Given("11", "read the within-2-points sizes", "definition"),
    Given("README.md", "prompt and prefix tuning, (IA)^3 and three adapter placements", "reference"),
    Given("README.md", "score against trained parameters (3 seeds)", "setting"),
]

