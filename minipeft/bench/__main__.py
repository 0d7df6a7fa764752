"""``python -m minipeft.bench``: how fast is a training step, measured against this machine.

    python -m minipeft.bench                 table for bench-small on the current device
    python -m minipeft.bench --json          the same as one JSON object
    python -m minipeft.bench --device cuda   on the GPU
    python -m minipeft.bench --runs 3 --save figures/bench_cpu.json
                                             three runs one after another, kept in a JSON file

It reports the median milliseconds of a full training step (Adam, every weight trained),
the FLOPs of that step (counted matrix products), this machine's float32 GEMM peak
measured in the same run, and efficiency = (FLOPs / step time) / peak: the share of the
machine's best matrix speed that a whole training step reaches. Where torch is installed
(it is never a dependency), the same step written in plain PyTorch, timed in turns with
minipeft's. Then the forward + backward time of one RNN layer against one Transformer layer
as the sequence grows.
"""
from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

from .. import backend
from ..serialization import write_atomically
from .report import run_benchmarks, format_report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m minipeft.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: the current device")
    parser.add_argument("--config", default="bench-small", help="bench-small (default) or bench-base")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and lengths: a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--runs", type=int, default=1, help="run the whole benchmark this many times in a row")
    parser.add_argument("--save", default=None, help='also write {"date", "runs": [...]} to this JSON file')
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be a positive integer, got {args.runs}")
    if args.device:
        backend.set_device(args.device)
    runs = []
    for _ in range(args.runs):
        runs.append(run_benchmarks(args.config, repeats=2 if args.quick else args.repeats, quick=args.quick))
        print(json.dumps(runs[-1], indent=2) if args.json else format_report(runs[-1]), flush=True)
    if args.save:
        text = json.dumps({"date": datetime.date.today().isoformat(), "runs": runs}, indent=1)
        write_atomically(Path(args.save), lambda file: file.write(text.encode()))


if __name__ == "__main__":
    main()
