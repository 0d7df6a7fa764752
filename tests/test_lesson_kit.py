"""Unit tests of minipeft/lesson.py, the kit every lesson script uses."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import minipeft
from minipeft import lesson as kit
from minipeft.lesson import Lesson

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def devices(monkeypatch):
    """Record the engine calls Lesson makes, without touching the real engine state."""
    calls = []
    monkeypatch.setattr(minipeft, "set_device", lambda name: calls.append(("device", name)),
                        raising=False)
    monkeypatch.setattr(minipeft, "manual_seed", lambda seed: calls.append(("seed", seed)),
                        raising=False)
    monkeypatch.delenv("MINIPEFT_DEVICE", raising=False)
    return calls


def make(tmp_path, *flags, name="01_demo", **kwargs):
    return Lesson(name, "A demo lesson.", ["--out", str(tmp_path), *flags], **kwargs)


def test_flags_and_defaults(tmp_path, devices):
    lesson = make(tmp_path / "new" / "folder")
    assert (lesson.quick, lesson.device, lesson.seed) == (False, "cpu", 0)
    assert lesson.out == (tmp_path / "new" / "folder").resolve() and lesson.out.is_dir()
    assert lesson.number == "01"
    quick = make(tmp_path, "--quick", "--seed", "7")
    assert quick.quick and quick.seed == 7


def test_device_comes_from_the_environment_unless_given(tmp_path, devices, monkeypatch):
    monkeypatch.setenv("MINIPEFT_DEVICE", "cuda")
    assert make(tmp_path).device == "cuda"
    assert make(tmp_path, "--device", "cpu").device == "cpu"


def test_begin_sets_device_and_seed(tmp_path, devices):
    lesson = make(tmp_path, "--seed", "3")
    assert devices == []  # parsing the flags changes nothing yet
    assert lesson.begin() is lesson
    assert devices == [("device", "cpu"), ("seed", 3)]


def test_in_a_notebook_kernel_the_command_line_is_not_read(tmp_path, devices, monkeypatch):
    monkeypatch.setattr(kit.sys, "argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])
    monkeypatch.setitem(kit.sys.modules, "ipykernel", object())
    lesson = Lesson("01_demo", "A demo lesson.")
    assert (lesson.quick, lesson.seed) == (False, 0)


def test_extra_arguments(tmp_path, devices):
    def add(parser):
        parser.add_argument("--steps", type=int, default=10)

    lesson = make(tmp_path, "--steps", "5", add_arguments=add)
    assert lesson.args.steps == 5


def test_name_must_start_with_a_two_digit_number(tmp_path):
    with pytest.raises(ValueError, match="01_topic"):
        Lesson("autograd", None, ["--out", str(tmp_path)])


def test_results_json_holds_recorded_values_converted_from_numpy(tmp_path, devices, capsys):
    lesson = make(tmp_path, "--quick").begin()
    lesson.record(loss=np.float32(0.5), steps=np.int64(12), curve=np.arange(3.0),
                  nested={"acc": np.float64(0.25), "pair": (1, 2)}, broken=float("nan"))
    assert lesson.end() == tmp_path.resolve() / "01_results.json"
    results = json.loads((tmp_path / "01_results.json").read_text())
    assert results["loss"] == 0.5 and type(results["loss"]) is float
    assert results["steps"] == 12
    assert results["curve"] == [0.0, 1.0, 2.0]
    assert results["nested"] == {"acc": 0.25, "pair": [1, 2]}
    assert results["broken"] is None  # JSON has no NaN
    assert results["quick"] is True and results["device"] == "cpu" and results["seed"] == 0
    assert results["lesson"] == "01_demo" and results["run_time_s"] >= 0
    assert "lesson 01 finished in" in capsys.readouterr().out


def test_results_are_written_atomically(tmp_path, devices, monkeypatch):
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(kit.os, "replace", spy)
    lesson = make(tmp_path).begin()
    lesson.record(x=1)
    lesson.end()
    final = tmp_path.resolve() / "01_results.json"
    assert renames and renames[-1][1] == final
    assert renames[-1][0].parent == final.parent and renames[-1][0] != final
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_results.json"]  # no temp left


def test_a_lesson_that_stops_before_end_leaves_existing_results_alone(tmp_path, devices):
    (tmp_path / "01_results.json").write_text('{"old": 1}')
    lesson = make(tmp_path).begin()
    lesson.record(x=2)  # ... and then a cell raises: end() is never reached
    assert json.loads((tmp_path / "01_results.json").read_text()) == {"old": 1}


def test_record_rejects_reserved_names_and_unknown_types(tmp_path):
    lesson = make(tmp_path)
    with pytest.raises(ValueError, match="run_time_s"):
        lesson.record(run_time_s=1.0)
    with pytest.raises(TypeError, match="model"):
        lesson.record(model=object())


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path, capsys):
    import matplotlib.pyplot as plt

    lesson = make(tmp_path)
    fig, ax = plt.subplots()
    ax.plot(np.sin(np.linspace(0, 10, 500)))
    path = lesson.save_figure(fig, "01_sine.png")
    assert path == tmp_path.resolve() / "01_sine.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert not plt.fignum_exists(fig.number)
    assert lesson.figures == ["01_sine.png"]
    assert str(path) in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_sine.png"]


@pytest.mark.parametrize("bad", ["02_sine.png", "sine.png", "1_sine.png", "sub/01_sine.png"])
def test_figure_name_must_start_with_the_lesson_number(tmp_path, bad):
    import matplotlib.pyplot as plt

    lesson = make(tmp_path)
    fig = plt.figure()
    with pytest.raises(ValueError, match="'01_'"):
        lesson.save_figure(fig, bad)
    plt.close(fig)


def test_table_aligns_columns(tmp_path, capsys):
    lesson = make(tmp_path)
    text = lesson.table("sizes", [["tiny", 1234567, 0.123456], ["base", 5, np.float32(2.0)]],
                        headers=["model", "params", "loss"])
    lines = text.splitlines()
    assert lines[0] == "sizes"
    assert "1,234,567" in text and "0.1235" in text
    rows = lines[3:]
    assert len({len(r) for r in rows}) == 1  # numbers are right-aligned to one width
    assert text in capsys.readouterr().out
    with pytest.raises(ValueError, match="expected 3"):
        lesson.table("bad", [[1, 2]], headers=["a", "b", "c"])


def test_default_out_dir_is_figures_beside_lessons(tmp_path):
    script = tmp_path / "lessons" / "01_x.py"
    assert kit.default_out_dir(str(script)) == (tmp_path / "figures").resolve()
    repo = Path(kit.__file__).resolve().parent.parent
    if (repo / "lessons").is_dir():  # a source checkout
        assert kit.default_out_dir(str(tmp_path / "elsewhere.py")) == repo / "figures"


def test_record_accepts_tensors(tmp_path):
    if not hasattr(minipeft, "tensor"):
        pytest.skip("the autograd engine is not in this checkout")
    lesson = make(tmp_path)
    x = minipeft.tensor([1.0, 2.0], requires_grad=True)
    lesson.record(x=x, total=x.sum())
    assert lesson.results == {"x": [1.0, 2.0], "total": 3.0}
