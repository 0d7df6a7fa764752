"""``python -m minipeft.bench``: how fast is a training step, measured against this machine.

    python -m minipeft.bench                 table for bench-small on the current device
    python -m minipeft.bench --json          the same as one JSON object
    python -m minipeft.bench --device cuda   on the GPU

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
import json

from .. import backend
from .report import run_benchmarks, format_report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m minipeft.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: the current device")
    parser.add_argument("--config", default="bench-small", help="bench-small (default) or bench-base")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and lengths: a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args(argv)
    if args.device:
        backend.set_device(args.device)
    results = run_benchmarks(args.config, repeats=2 if args.quick else args.repeats, quick=args.quick)
    print(json.dumps(results, indent=2) if args.json else format_report(results))


if __name__ == "__main__":
    main()
