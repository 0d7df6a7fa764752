"""Line plots: a quantity against a step, a length or a setting, one line per series.

    line_chart(x, {name: ys}, ylabel, title)      several series over the same (or their own) x
    training_curves({name: losses}, ...)          loss against training step, raw and smoothed

Each returns a ``matplotlib.figure.Figure`` with a title, labelled axes and a legend.
``log="auto"`` puts the y-axis on a log scale when the positive values span more than
100x (a gradient that shrinks geometrically is a straight line there); ``hlines`` and
``vlines`` draw labelled reference lines (chance level, a dependency distance).

    fig = line_chart(range(40), {"RNN": norms}, ylabel="|dL/dh_t|", title="Gradient per step", log=True)
    fig = training_curves({"RNN": rnn_losses, "LSTM": lstm_losses}, title="Training loss",
                          hlines={"chance: log 4": 1.386})
"""
from __future__ import annotations

import numbers

import numpy as np

from .bars import _use_log
from .style import PALETTE, TEXT_SIZE, finish, new_figure, style_axes

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}
_REFERENCE = dict(color="#666666", linewidth=1.0, linestyle=":", zorder=1)


def _is_numeric(values) -> bool:
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)


def _series_xy(name, values, x):
    """(xs, ys) float arrays of one series: ``values`` is ys (over the shared ``x``) or a pair (xs, ys)."""
    if isinstance(values, tuple) and len(values) == 2:
        xs, ys = values
    else:
        if x is None:
            raise ValueError(f"line_chart: series {name!r} gives only y values, so x is needed "
                             f"(or pass the series as a pair (xs, ys))")
        xs, ys = x, values
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if xs.ndim != 1 or ys.shape != xs.shape:
        raise ValueError(f"line_chart: series {name!r} needs one y per x; got x of shape {xs.shape} "
                         f"and y of shape {ys.shape}")
    return xs, ys


def _reference_lines(ax, hlines: dict | None, vlines: dict | None) -> None:
    """Dotted grey lines at fixed y (``hlines``) or x (``vlines``), labelled at their end."""
    for text, y in (hlines or {}).items():
        ax.axhline(y, **_REFERENCE)
        ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=TEXT_SIZE, color="#444444")
    for text, x in (vlines or {}).items():
        ax.axvline(x, **_REFERENCE)
        ax.annotate(text, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=TEXT_SIZE, color="#444444")


def line_chart(x, series: dict, ylabel: str, title: str, xlabel: str | None = None, log="auto",
               logx: bool = False, markers: bool = True, styles: dict | None = None, colors: dict | None = None,
               hlines: dict | None = None, vlines: dict | None = None, xticklabels=None,
               annotate_last: bool = False, fmt: str = "{:.3g}", ylim=None, figsize=None):
    """One line per series over ``x``.

    ``series`` maps a name to its y values (one per entry of ``x``), or to a pair
    ``(xs, ys)`` when series have their own x. If ``x`` holds labels rather than numbers
    (``["2", "5", "full"]``) the points are evenly spaced and the labels become the ticks;
    ``xticklabels`` relabels numeric ticks at ``x`` instead.

    ``log`` True/False/"auto" puts y on a log scale (auto: when positive values span more
    than 100x; values <= 0 are then left out of the line); ``logx`` does the same for x.
    ``styles`` ({name: "dashed" | "dotted" | "solid" | "dashdot"}) and ``colors``
    ({name: colour}) override the defaults (palette colours in order, solid lines).
    ``hlines`` / ``vlines`` ({label: value}) draw dotted reference lines.
    ``annotate_last`` writes each series' last value beside its last point.
    """
    if not series:
        raise ValueError("line_chart: series is empty; pass {name: values}")
    ticks = None
    if x is not None and not _is_numeric(list(x)):
        ticks = [str(v) for v in x]
        x = np.arange(len(ticks), dtype=np.float64)
    lines = {name: _series_xy(name, values, x) for name, values in series.items()}
    styles, colors = styles or {}, colors or {}
    for name, style in styles.items():
        if style not in LINESTYLES:
            raise ValueError(f"line_chart: style of {name!r} must be one of {sorted(LINESTYLES)}, got {style!r}")

    fig, ax = new_figure(*(figsize or (6.4, 4.0)))
    log = _use_log(log, np.concatenate([ys for _, ys in lines.values()]))
    few_points = max(len(xs) for xs, _ in lines.values()) <= 30
    for k, (name, (xs, ys)) in enumerate(lines.items()):
        shown = np.where(ys > 0, ys, np.nan) if log else ys
        color = colors.get(name, PALETTE[k % len(PALETTE)])
        ax.plot(xs, shown, LINESTYLES[styles.get(name, "solid")], color=color, label=name, linewidth=1.8,
                marker=MARKERS[k % len(MARKERS)] if markers and few_points else None, markersize=5)
        if annotate_last and len(ys) and np.isfinite(shown[-1]):
            ax.annotate(fmt.format(ys[-1]), (xs[-1], shown[-1]), xytext=(4, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=TEXT_SIZE, color=color)
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    if ticks is not None:
        ax.set_xticks(x)
        ax.set_xticklabels(ticks)
    elif xticklabels is not None:
        if x is None or len(xticklabels) != len(x):
            raise ValueError(f"line_chart: xticklabels needs one label per x ({0 if x is None else len(x)}), "
                             f"got {len(xticklabels)}")
        ax.set_xticks(np.asarray(x, dtype=np.float64))
        ax.set_xticklabels([str(t) for t in xticklabels])
        ax.minorticks_off()
    if ylim is not None:
        ax.set_ylim(*ylim)
    _reference_lines(ax, hlines, vlines)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False)
    style_axes(ax, title, xlabel, ylabel + (" (log scale)" if log and "log" not in ylabel else ""),
               grid="both" if log else "y")
    return finish(fig)


def moving_average(values, window: int) -> np.ndarray:
    """The mean of each value and the ``window - 1`` before it (fewer at the start); same length."""
    values = np.asarray(values, dtype=np.float64)
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"moving_average: window must be a positive int, got {window!r}")
    sums = np.cumsum(np.concatenate([[0.0], values]))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def training_curves(histories: dict, title: str, ylabel: str = "training loss", xlabel: str = "training step",
                    smooth: int | None = "auto", log=False, hlines: dict | None = None, figsize=None):
    """Loss (or any per-step number) against training step, one line per run.

    ``histories`` maps a run's name to its values, one per step (or a pair (steps, values)).
    With ``smooth`` (a window in steps; "auto" picks about 1/25 of the longest run) the
    raw values are drawn faint and their moving average on top, so the trend reads
    through the batch-to-batch noise. ``hlines`` marks reference levels (chance loss).
    """
    if not histories:
        raise ValueError("training_curves: histories is empty; pass {name: values}")
    runs = {}
    for name, values in histories.items():
        xs, ys = values if isinstance(values, tuple) and len(values) == 2 else (None, values)
        ys = np.asarray(ys, dtype=np.float64)
        xs = np.arange(len(ys), dtype=np.float64) if xs is None else np.asarray(xs, dtype=np.float64)
        runs[name] = _series_xy(name, (xs, ys), None)
    if smooth == "auto":
        smooth = max(1, max(len(ys) for _, ys in runs.values()) // 25)
    fig, ax = new_figure(*(figsize or (6.4, 4.0)))
    log = _use_log(log, np.concatenate([ys for _, ys in runs.values()]))
    for k, (name, (xs, ys)) in enumerate(runs.items()):
        color = PALETTE[k % len(PALETTE)]
        if smooth and smooth > 1:
            ax.plot(xs, ys, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(xs, moving_average(ys, smooth), color=color, linewidth=1.8,
                    label=f"{name} (mean of {smooth} steps)")
        else:
            ax.plot(xs, ys, color=color, linewidth=1.5, label=name)
    if log:
        ax.set_yscale("log")
    _reference_lines(ax, hlines, None)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False)
    style_axes(ax, title, xlabel, ylabel + (" (log scale)" if log and "log" not in ylabel else ""),
               grid="both" if log else "y")
    return finish(fig)
