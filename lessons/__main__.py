"""Run the lessons: all in order (``python -m lessons``) or one (``python -m lessons 3``).

    python -m lessons                      every lessons/NN_*.py, in order
    python -m lessons 3 --quick            only lesson 03, tiny sizes
    python -m lessons --device cuda        flags (--quick --device --out --seed) pass through
    python -m lessons --list               the lessons and the first line of each docstring

Each lesson runs as its own process with this same Python, so one lesson cannot leak
state into the next. The run stops at the first lesson that fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import time
from pathlib import Path

LESSONS_DIR = Path(__file__).resolve().parent
REPO_ROOT = LESSONS_DIR.parent


def find_lessons() -> list[Path]:
    """Every lessons/NN_topic.py, sorted by number."""
    return sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))


def summary_line(path: Path) -> str:
    """The first line of a lesson's docstring, read without running the lesson."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return doc.strip().splitlines()[0] if doc else ""


def listing(lessons: list[Path]) -> str:
    if not lessons:
        return f"  (no lessons yet in {LESSONS_DIR})"
    width = max(len(p.stem) for p in lessons)
    return "\n".join(f"  {p.stem.ljust(width)}  {summary_line(p)}" for p in lessons)


def pick(lessons: list[Path], wanted: str) -> Path:
    """The lesson numbered ``wanted`` ("3", "03" or "03_transformer"); exit if none."""
    for path in lessons:
        if wanted == path.stem or (wanted.isdigit() and int(wanted) == int(path.stem[:2])):
            return path
    sys.exit(f"no lesson {wanted!r}. Available lessons:\n{listing(lessons)}")


def run_one(path: Path, flags: list[str]) -> tuple[int, float]:
    """Run one lesson script as a child process; return its exit code and run time."""
    env = dict(os.environ)
    # The repository root goes on the path so the lessons find minipeft even uninstalled.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    code = subprocess.call([sys.executable, str(path), *flags], env=env)
    return code, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lessons", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lesson", nargs="?", help="number of one lesson to run (1 or 01)")
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
    # Known lesson flags are declared so that `--out DIR` is never mistaken for a lesson number.
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds per lesson)")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="cpu or cuda")
    parser.add_argument("--out", help="folder for figures and results (default: figures/)")
    parser.add_argument("--seed", help="random seed")
    args, extra = parser.parse_known_args(argv)

    flags = (["--quick"] if args.quick else []) + extra
    for name in ("device", "out", "seed"):
        if getattr(args, name) is not None:
            flags += [f"--{name}", getattr(args, name)]

    lessons = find_lessons()
    if args.list:
        print(listing(lessons))
        return 0
    if args.lesson is not None:
        lessons = [pick(lessons, args.lesson)]
    elif not lessons:
        print(f"no lessons found in {LESSONS_DIR}", file=sys.stderr)
        return 1

    times = []
    for path in lessons:
        print(f"\n>>> {path.stem}", flush=True)
        code, seconds = run_one(path, flags)
        times.append((path.stem, seconds, "ok" if code == 0 else f"FAILED (exit {code})"))
        if code != 0:
            break

    if args.lesson is None or code != 0:
        width = max(len(name) for name, _, _ in times)
        print("\nsummary")
        for name, seconds, status in times:
            print(f"  {name.ljust(width)}  {seconds:7.1f} s  {status}")
        print(f"  {'total'.ljust(width)}  {sum(t for _, t, _ in times):7.1f} s")
    if code != 0:
        rerun = " ".join(["python -m lessons", times[-1][0][:2], *flags])
        print(f"\nlesson {times[-1][0]} failed (exit code {code}); stopped here. "
              f"Run it alone with: {rerun}", file=sys.stderr)
        return code if code > 0 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
