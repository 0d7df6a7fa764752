"""Smoke runs of every lesson (``--quick``) and of the ``python -m lessons`` runner.

Each lesson runs the way a learner runs it, as ``python -m lessons N --quick``, in a
child process, writing into a temporary folder instead of figures/.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
META_KEYS = {"lesson", "quick", "device", "seed", "run_time_s", "figures"}


def run_lessons(*args, cwd=REPO, env=None, timeout=240):
    """``python -m lessons ARGS`` in ``cwd``; returns the CompletedProcess (text output)."""
    return subprocess.run([sys.executable, "-m", "lessons", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def has_number(value) -> bool:
    """True if value is, or contains, an int or float (bools do not count)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, dict):
        return any(has_number(v) for v in value.values())
    if isinstance(value, list):
        return any(has_number(v) for v in value)
    return False


def check_outputs(out: Path, number: str) -> dict:
    """The files one lesson must leave: a real PNG or more, and a results file with numbers."""
    pngs = sorted(out.glob(f"{number}_*.png"))
    assert pngs, f"lesson {number} wrote no {number}_*.png into {out}"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, f"{png.name} is not a PNG file"
        assert png.stat().st_size > 5_000, f"{png.name} is only {png.stat().st_size} bytes"
    results = json.loads((out / f"{number}_results.json").read_text())
    assert isinstance(results.get("run_time_s"), (int, float))
    measured = {k: v for k, v in results.items() if k not in META_KEYS and has_number(v)}
    assert measured, f"{number}_results.json records no measured number: {results}"
    return results


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_quick(lesson, tmp_path):
    number = lesson.stem[:2]
    proc = run_lessons(number, "--quick", "--out", tmp_path)
    assert proc.returncode == 0, f"{lesson.name} failed:\n{proc.stdout}\n{proc.stderr}"
    results = check_outputs(tmp_path, number)
    assert results["quick"] is True


def test_lesson_files_follow_the_conventions():
    for lesson in LESSONS:
        text = lesson.read_text(encoding="utf-8")
        assert text.lstrip().startswith(('"""', 'r"""')), f"{lesson.name}: start with a docstring"
        cells = [line for line in text.splitlines() if line.lstrip().startswith("# %%")]
        assert len(cells) >= 2, f"{lesson.name}: split the lesson into cells marked '# %%'"
        indented = [line for line in cells if not line.startswith("# %%")]
        assert not indented, f"{lesson.name}: cell markers must start the line (editors ignore others): {indented}"
        assert f'Lesson("{lesson.stem}", __doc__' in text and text.rstrip().endswith("lesson.end()"), \
            f"{lesson.name}: begin with Lesson({lesson.stem!r}, __doc__...).begin() and end with lesson.end()"


CELL_BY_CELL = """
import re, sys
path, out = sys.argv[1], sys.argv[2]
sys.argv = ["kernel", "--quick", "--out", out]
namespace = {"__name__": "__main__"}
for number, cell in enumerate(re.split(r"(?m)^(?=# %%)", open(path).read())):
    exec(compile(cell, f"{path} cell {number}", "exec"), namespace)  # as an editor runs one cell
"""


@pytest.mark.parametrize("number", ["01", "08"])
def test_a_lesson_runs_cell_by_cell_as_a_notebook_would(number, tmp_path):
    lesson = next(p for p in LESSONS if p.stem.startswith(number))
    proc = subprocess.run([sys.executable, "-c", CELL_BY_CELL, str(lesson), str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{lesson.name} cell by cell:\n{proc.stdout}\n{proc.stderr}"
    check_outputs(tmp_path, number)


def test_unknown_lesson_fails_and_lists_the_lessons():
    proc = run_lessons(99, timeout=60)
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert "no lesson '99'" in message
    for lesson in LESSONS:
        assert lesson.stem in message


# --- the runner, on throwaway lessons in a temporary copy of lessons/ -----------------

GOOD_LESSON = '''\
    """{title}

    A throwaway lesson used only by tests/test_lessons.py.
    """
    import numpy as np
    import matplotlib.pyplot as plt
    from minipeft.lesson import Lesson


    lesson = Lesson("{stem}", __doc__).begin()

    # %% A random walk.
    values = np.random.default_rng(0).normal(size=2000).cumsum()
    fig, ax = plt.subplots()
    ax.plot(values)
    lesson.save_figure(fig, "{number}_walk.png")
    lesson.record(last=values[-1], quick_seen=lesson.quick)

    # %%
    lesson.end()
'''

BAD_LESSON = '''\
    """Always fails."""
    raise SystemExit("this lesson is broken on purpose")
'''


@pytest.fixture
def fake_repo(tmp_path):
    """A copy of the runner with lessons 01 (works), 02 (fails) and 03 (works)."""
    lessons = tmp_path / "repo" / "lessons"
    lessons.mkdir(parents=True)
    for name in ("__init__.py", "__main__.py"):
        shutil.copy(REPO / "lessons" / name, lessons / name)
    (lessons / "01_first.py").write_text(textwrap.dedent(
        GOOD_LESSON.format(title="The first fake lesson.", stem="01_first", number="01")))
    (lessons / "02_broken.py").write_text(textwrap.dedent(BAD_LESSON))
    (lessons / "03_third.py").write_text(textwrap.dedent(
        GOOD_LESSON.format(title="The third fake lesson.", stem="03_third", number="03")))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return lessons.parent, env


def test_runner_runs_one_lesson_by_number(fake_repo, tmp_path):
    repo, env = fake_repo
    out = tmp_path / "out"
    proc = run_lessons(1, "--quick", "--out", out, cwd=repo, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "lesson 01 finished in" in proc.stdout
    results = check_outputs(out, "01")
    assert results["quick"] is True and results["quick_seen"] is True
    assert results["figures"] == ["01_walk.png"]
    assert not (out / "03_results.json").exists()


def test_runner_lists_lessons_with_their_first_docstring_line(fake_repo):
    repo, env = fake_repo
    proc = run_lessons("--list", cwd=repo, env=env, timeout=60)
    assert proc.returncode == 0
    assert "01_first" in proc.stdout and "The first fake lesson." in proc.stdout
    assert "02_broken" in proc.stdout and "Always fails." in proc.stdout


def test_runner_stops_at_the_first_failure(fake_repo, tmp_path):
    repo, env = fake_repo
    out = tmp_path / "out"
    proc = run_lessons("--quick", "--out", out, cwd=repo, env=env, timeout=120)
    assert proc.returncode != 0
    assert "lesson 02_broken failed" in proc.stderr
    assert "summary" in proc.stdout
    assert (out / "01_results.json").exists()
    assert not (out / "03_results.json").exists(), "the runner went on after a failure"


def test_unknown_lesson_lists_the_available_ones(fake_repo):
    repo, env = fake_repo
    proc = run_lessons(99, cwd=repo, env=env, timeout=60)
    assert proc.returncode != 0
    assert "no lesson '99'" in proc.stderr
    assert "01_first" in proc.stderr and "03_third" in proc.stderr
