"""Benchmarks: honest timings (warm-up, device sync, medians) and FLOP counts.

``python -m minipeft.bench`` runs them; see ``__main__.py``. Speed is measured here and
never asserted in a test: shared machines are too noisy for timed tests.
"""
from .report import format_report, run_benchmarks
from .sequential import rnn_vs_transformer
from .steps import CONFIGS, TrainingStep, make_batch
from .timing import gemm_peak_gflops, median, time_ms

__all__ = ["CONFIGS", "TrainingStep", "format_report", "gemm_peak_gflops", "make_batch", "median",
           "rnn_vs_transformer", "run_benchmarks", "time_ms"]
