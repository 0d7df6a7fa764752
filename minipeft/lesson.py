"""The small kit every lesson script uses.

A lesson is a plain Python script in ``lessons/`` (``lessons/01_autograd.py`` ...),
written top to bottom as cells marked ``# %%``, so that editors that know the convention
(VS Code, PyCharm, Spyder, Jupytext) open it as a notebook and run it cell by cell, while
``python lessons/01_autograd.py`` runs it whole. Its first call makes a ``Lesson``, so
that every lesson takes the same flags, prints its measurements the same way, and leaves
the same files behind::

    from minipeft.lesson import Lesson

    lesson = Lesson("01_autograd", __doc__).begin()

    # %% 1. Train something.
    steps = 20 if lesson.quick else 500
    ...
    lesson.table("gradients", rows, headers=["name", "value"])
    lesson.record(final_loss=loss)              # goes to figures/01_results.json
    lesson.save_figure(fig, "01_graph.png")     # goes to figures/01_graph.png

    # %%
    lesson.end()                                # writes 01_results.json

Flags every lesson understands:

    --quick            tiny sizes that finish in seconds (the tests use this)
    --device cpu|cuda  where the arrays live (default: $MINIPEFT_DEVICE, else cpu)
    --out DIR          where figures and results go (default: figures/ beside lessons/)
    --seed N           random seed (default 0)

A lesson that needs its own flags passes ``add_arguments``, a function that receives
the ``argparse.ArgumentParser``; the parsed values are in ``lesson.args``.

The flags come from the command line; in a notebook kernel (where the command line is
the kernel's own) the defaults are used. ``end()`` writes ``NN_results.json`` (every
recorded number, plus ``run_time_s``, ``quick``, ``device`` and ``seed``) and prints how
long the lesson took; a lesson that fails before it writes nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw into files only; lessons never need a screen

import numpy as np  # noqa: E402

from .serialization import write_atomically  # noqa: E402

_NAME = re.compile(r"^(\d\d)_\w+$")  # "01_autograd" -> number "01"
_META_KEYS = ("lesson", "quick", "device", "seed", "run_time_s", "figures")


def default_out_dir(main_file: str | None = None) -> Path:
    """Where figures go when ``--out`` is not given: the ``figures/`` folder of the repository.

    The repository is found from the running lesson script (``.../lessons/NN_x.py``),
    else from this package's own checkout (an editable install), else the current folder.
    """
    if main_file is None:
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and Path(main_file).resolve().parent.name == "lessons":
        return Path(main_file).resolve().parent.parent / "figures"
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "lessons").is_dir():
        return checkout / "figures"
    return Path.cwd() / "figures"


def repository_path(path) -> str:
    """``path`` relative to the folder that holds ``minipeft/`` when it lies inside it (so results
    committed from one machine do not record its folders), else as given."""
    root = Path(__file__).resolve().parent.parent
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def to_jsonable(value, key: str = "value"):
    """Turn numbers, NumPy/CuPy arrays and scalars, tensors, paths and containers into JSON.

    Floats that are NaN or infinite become ``None`` (JSON has no such numbers).
    Anything else raises ``TypeError`` naming ``key``.
    """
    if hasattr(value, "requires_grad") and hasattr(value, "data"):  # a minipeft Tensor
        value = value.data
    if hasattr(value, "get") and hasattr(value, "device") and hasattr(value, "shape"):
        value = value.get()  # a CuPy array: copy to the host first
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{key}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"cannot record {key}={value!r}: expected a number, string, array "
                    f"or a list/dict of them, got {type(value).__name__}")


def _format_cell(value) -> str:
    """One table cell: integers with thousands separators, floats with 4 significant digits."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isfinite(value) and abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


class Lesson:
    """Flags, timing, device, seed, tables, figures and results for one lesson script.

    ``name`` is the script's name without ``.py`` (``"01_autograd"``); its first two
    digits are the lesson number that prefixes every file the lesson writes.
    """

    def __init__(self, name: str, doc: str | None = None, argv=None, *, add_arguments=None):
        match = _NAME.match(name)
        if not match:
            raise ValueError(f"lesson name must look like '01_topic', got {name!r}")
        self.name = name
        self.number = match.group(1)

        parser = argparse.ArgumentParser(
            prog=f"lessons/{name}.py", description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--quick", action="store_true",
                            help="tiny sizes that finish in seconds")
        parser.add_argument("--device", choices=["cpu", "cuda"],
                            default=os.environ.get("MINIPEFT_DEVICE", "cpu"),
                            help="where arrays live (default: $MINIPEFT_DEVICE or cpu)")
        parser.add_argument("--out", type=Path, default=None,
                            help="folder for figures and results (default: figures/)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        if add_arguments is not None:
            add_arguments(parser)
        if argv is None and "ipykernel" in sys.modules:  # a notebook: sys.argv is the kernel's
            argv = []
        self.args = parser.parse_args(argv)

        self.quick: bool = self.args.quick
        self.device: str = self.args.device
        self.seed: int = self.args.seed
        self.out: Path = (self.args.out or default_out_dir()).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.results: dict = {}
        self.figures: list[str] = []
        self._start = time.perf_counter()

    # --- first and last call ------------------------------------------------------

    def begin(self) -> "Lesson":
        """Choose the device, seed every random generator and start the clock; returns self."""
        import minipeft  # imported here so this module loads even while the engine is young

        set_device = getattr(minipeft, "set_device", None)
        if set_device is not None:
            set_device(self.device)
        elif self.device != "cpu":
            raise RuntimeError(f"--device {self.device} needs minipeft.set_device, "
                               "which this version of minipeft does not have")
        manual_seed = getattr(minipeft, "manual_seed", None)
        if manual_seed is not None:
            manual_seed(self.seed)
        np.random.seed(self.seed)  # for any code that still draws from NumPy's global generator

        mode = "quick" if self.quick else "full"
        print(f"=== lesson {self.name} ({mode}, {self.device}, seed {self.seed}) ===")
        self._start = time.perf_counter()
        return self

    def end(self) -> Path:
        """Write NN_results.json (atomically) and print how long the lesson took; returns its path."""
        elapsed = time.perf_counter() - self._start
        meta = {"lesson": self.name, "quick": self.quick, "device": self.device,
                "seed": self.seed, "run_time_s": round(elapsed, 3), "figures": self.figures}
        path = self.out / f"{self.number}_results.json"
        text = json.dumps({**meta, **self.results}, indent=2) + "\n"
        write_atomically(path, lambda file: file.write(text.encode("utf-8")))
        print(f"results: {path}")
        print(f"lesson {self.number} finished in {elapsed:.1f} s")
        return path

    # --- what a lesson calls --------------------------------------------------------

    def record(self, **values) -> None:
        """Keep numbers by name for NN_results.json (NumPy values become plain JSON)."""
        for key, value in values.items():
            if key in _META_KEYS:
                raise ValueError(f"{key!r} is filled in by Lesson itself; record it "
                                 f"under another name")
            self.results[key] = to_jsonable(value, key)

    def table(self, title: str, rows, headers) -> str:
        """Print rows as an aligned text table (numbers right-aligned) and return the text."""
        cells = [[str(h) for h in headers]] + [[_format_cell(v) for v in row] for row in rows]
        for row in cells[1:]:
            if len(row) != len(headers):
                raise ValueError(f"table {title!r}: a row has {len(row)} cells, "
                                 f"expected {len(headers)} (one per header)")
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        numeric = [all(isinstance(r[i], (int, float, np.generic)) and not isinstance(r[i], bool)
                       for r in rows) and len(rows) > 0 for i in range(len(headers))]

        def line(row):
            return "  ".join(c.rjust(w) if num else c.ljust(w)
                             for c, w, num in zip(row, widths, numeric)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        text = "\n".join([title, line(cells[0]), rule] + [line(r) for r in cells[1:]])
        print("\n" + text + "\n")
        return text

    def save_figure(self, fig, filename: str) -> Path:
        """Save a matplotlib figure to the output folder, close it, and print where it went.

        ``filename`` must start with this lesson's number (``"01_graph.png"``) so every
        file in figures/ says which lesson drew it.
        """
        if not filename.startswith(f"{self.number}_") or Path(filename).name != filename:
            raise ValueError(f"figure name must be a file name starting with "
                             f"'{self.number}_' (lesson {self.name}), got {filename!r}")
        import matplotlib.pyplot as plt

        path = self.out / filename
        fmt = path.suffix.lstrip(".") or "png"
        try:
            write_atomically(path, lambda file: fig.savefig(file, format=fmt, dpi=120, bbox_inches="tight"))
        finally:
            plt.close(fig)
        self.figures.append(filename)
        print(f"figure: {path}")
        return path
