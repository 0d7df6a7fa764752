#!/usr/bin/env bash
# The GPU checks of issue 6 in one run, on a machine with an NVIDIA GPU, CuPy, NumPy,
# matplotlib and pytest (torch optional: it adds the PyTorch comparison). No network needed.
#
#     OUT=/tmp/gpu-results bash .ci/gpu_check.sh          # from anywhere; it cd's to the repo root
#
# Everything lands in $OUT:
#     environment.txt         date, GPU, driver, versions
#     pytest-gpu.log          python -m pytest -m gpu            (each kernel vs NumPy; GPU step vs CPU step)
#     bench-small.json/.log   python -m minipeft.bench --device cuda --json
#     bench-base.json/.log    ... --config bench-base            (kernels vs naive CuPy, adapter step, PyTorch)
#     lesson-10.log, figures/ python -m lessons 10 --device cuda (10_*.png, 10_results.json)
#     pytest-kernels.log      python -m pytest tests/kernels tests/emulated ... (compile, GPU, emulated; PyTorch model = ours)
#     summary.md              markdown tables of both benchmarks, for the README
#     steps.txt               exit code and seconds of every step
# Steps share one time budget (GPU_CHECK_BUDGET_S, default 480 s): each gets at most its own
# limit and what is left; a step that would start with under 20 s left is skipped.
# The exit code is 0 only if every step passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT="${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT/figures"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
PYTHON="${PYTHON:-python}"
deadline=$(( $(date +%s) + ${GPU_CHECK_BUDGET_S:-480} ))
status=0

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    "$PYTHON" - <<'EOF'
import platform, numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    print("cupy", cupy.__version__, "cuda runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "gpu", props["name"].decode(), "sm", f"{props['major']}{props['minor']}",
          "SMs", props["multiProcessorCount"])
except Exception as err:
    print("cupy unusable:", repr(err))
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available())
except ImportError:
    print("torch not installed")
EOF
} > "$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt"

# step NAME LIMIT_S STDOUT_FILE COMMAND...: run with a timeout, log, record exit code and time.
step() {
    local name=$1 limit=$2 stdout=$3
    shift 3
    local left=$(( deadline - $(date +%s) ))
    if (( left < 20 )); then
        echo "$name: SKIPPED (only ${left} s of the budget left)" | tee -a "$OUT/steps.txt"
        status=1
        return
    fi
    (( limit > left )) && limit=$left
    echo "=== $name (limit ${limit} s): $*"
    local start rc
    start=$(date +%s)
    if [[ "$stdout" == "-" ]]; then
        timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    else
        timeout "$limit" "$@" > "$stdout" 2> "$OUT/$name.log"
    fi
    rc=$?
    echo "$name: exit $rc after $(( $(date +%s) - start )) s$([[ $rc == 124 ]] && echo ' (TIMED OUT)')" \
        | tee -a "$OUT/steps.txt"
    tail -n 4 "$OUT/$name.log"
    (( rc == 0 )) || status=1
}

step pytest-gpu 150 - "$PYTHON" -m pytest -m gpu -q -rs -p no:cacheprovider
step bench-small 90 "$OUT/bench-small.json" "$PYTHON" -m minipeft.bench --device cuda --json
step bench-base 150 "$OUT/bench-base.json" "$PYTHON" -m minipeft.bench --device cuda --config bench-base --json
step lesson-10 120 - "$PYTHON" -m lessons 10 --device cuda --out "$OUT/figures"
step pytest-kernels 120 - "$PYTHON" -m pytest tests/kernels tests/emulated tests/bench/test_bench_torch_reference.py -m "not slow" -q -rs -p no:cacheprovider

"$PYTHON" - "$OUT" <<'EOF' > "$OUT/summary.md" 2>> "$OUT/steps.txt"
import json, sys
from pathlib import Path
from minipeft.bench.kernel_timing import markdown_summary
out = Path(sys.argv[1])
env = (out / "environment.txt").read_text().splitlines()
date = next((line[6:] for line in env if line.startswith("date: ")), "")
reports = []
for name in ("bench-small", "bench-base"):
    try:
        reports.append(json.loads((out / f"{name}.json").read_text()))
    except (OSError, ValueError) as err:
        print(f"<!-- {name}: no report ({err}) -->")
print(markdown_summary(reports, date))
EOF
echo "=== summary"
cat "$OUT/steps.txt"
echo "gpu_check: $([[ $status == 0 ]] && echo 'all steps passed' || echo 'SOME STEPS FAILED')"
exit $status
