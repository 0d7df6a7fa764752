"""Bar charts: one bar per thing (``bar_chart``), several per thing side by side
(``grouped_bars``), or parts that add up to a total (``stacked_bars``).

Each returns a ``matplotlib.figure.Figure`` with a title and labelled axes; pass the
unit in the axis label ("time per step (ms)", "|dL/dnode| (L2 norm)").

    fig = bar_chart(["W1", "b1"], [0.02, 0.01], ylabel="|dL/dp| (L2 norm)", title="Gradients")
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Patch

from .style import PALETTE, TEXT_SIZE, finish, new_figure, style_axes


def _check(labels, values, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(labels):
        raise ValueError(f"{what}: expected one value per label ({len(labels)} labels), "
                         f"got values of shape {values.shape}")
    return values


def _use_log(log, values: np.ndarray) -> bool:
    """``log`` is True, False, or "auto": log scale when positive values span more than 100x."""
    if log != "auto":
        return bool(log)
    positive = values[np.isfinite(values) & (values > 0)]
    return len(positive) > 1 and positive.max() / positive.min() > 100


def _width(n_bars: int) -> float:
    return min(12.0, max(4.5, 0.55 * n_bars + 2.0))


def _label_ticks(ax, labels) -> None:
    ax.set_xticks(np.arange(len(labels)))
    long = max((len(str(s)) for s in labels), default=0) * len(labels) > 60
    ax.set_xticklabels([str(s) for s in labels], rotation=30 if long else 0, ha="right" if long else "center")


def _annotate(ax, bars, values, fmt: str, above=None) -> None:
    """Write each value above its bar (or above ``above``, one height per bar, where given)."""
    for k, (bar, value) in enumerate(zip(bars, values)):
        if not math.isfinite(value):
            continue
        top = bar.get_y() + bar.get_height() if value > 0 else bar.get_y()
        if above is not None:
            top = max(top, above[k])
        ax.annotate(fmt.format(value), (bar.get_x() + bar.get_width() / 2, top), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=TEXT_SIZE)


def bar_chart(labels, values, ylabel: str, title: str, log="auto", xlabel: str | None = None,
              colors=None, legend: dict | None = None, annotate: bool = True, fmt: str = "{:.3g}",
              figsize=None):
    """One bar per label; ``log`` True/False/"auto" (log scale when values span over 100x).

    ``colors``: one colour, or one per bar; ``legend`` ({text: colour}) explains them.
    ``annotate`` writes each value above its bar. On a log scale a value of 0 has no bar
    (its label still shows "0").
    """
    values = _check(labels, values, "bar_chart")
    fig, ax = new_figure(*(figsize or (_width(len(labels)), 4.0)))
    log = _use_log(log, values)
    shown = np.where(values > 0, values, np.nan) if log else values
    bars = ax.bar(np.arange(len(labels)), shown, color=colors if colors is not None else PALETTE[0],
                  edgecolor="#333333", linewidth=0.6)
    if log:
        ax.set_yscale("log")
    _label_ticks(ax, labels)
    if annotate:
        _annotate(ax, bars, values, fmt)
        ax.margins(y=0.15)
    if legend:
        ax.legend(handles=[Patch(facecolor=c, edgecolor="#333333", label=text) for text, c in legend.items()],
                  fontsize=TEXT_SIZE + 1, frameon=False)
    style_axes(ax, title, xlabel, ylabel + (" (log scale)" if log and "log" not in ylabel else ""))
    return finish(fig)


def grouped_bars(labels, series: dict, ylabel: str, title: str, log=False, xlabel: str | None = None,
                 annotate: bool = False, fmt: str = "{:.3g}", figsize=None, spread: dict | None = None):
    """For each label, one bar per series side by side. ``series`` maps a name to one value per label;
    ``spread`` (optional) maps a series' name to (lows, highs), drawn as a bar from low to high on
    each of its bars (for example the worst and best of several seeds)."""
    if not series:
        raise ValueError("grouped_bars: series is empty; pass {name: values}")
    columns = {name: _check(labels, v, f"grouped_bars series {name!r}") for name, v in series.items()}
    spread = spread or {}
    if set(spread) - set(columns):
        raise ValueError(f"grouped_bars: spread names {sorted(set(spread) - set(columns))}, "
                         f"which are not series ({list(columns)})")
    fig, ax = new_figure(*(figsize or (_width(len(labels) * len(columns)), 4.0)))
    everything = np.concatenate(list(columns.values()))
    log = _use_log(log, everything)
    width = 0.8 / len(columns)
    x = np.arange(len(labels))
    for k, (name, values) in enumerate(columns.items()):
        shown = np.where(values > 0, values, np.nan) if log else values
        bars = ax.bar(x - 0.4 + width * (k + 0.5), shown, width, label=name,
                      color=PALETTE[k % len(PALETTE)], edgecolor="#333333", linewidth=0.6)
        high = None
        if name in spread:
            low, high = (_check(labels, v, f"grouped_bars spread {name!r}") for v in spread[name])
            ax.errorbar(x - 0.4 + width * (k + 0.5), values, yerr=[values - low, high - values], fmt="none",
                        ecolor="#222222", elinewidth=1.0, capsize=3)
        if annotate:
            _annotate(ax, bars, values, fmt, above=high)
    if log:
        ax.set_yscale("log")
    _label_ticks(ax, labels)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False)
    style_axes(ax, title, xlabel, ylabel)
    return finish(fig)


def stacked_bars(labels, parts: dict, ylabel: str, title: str, xlabel: str | None = None,
                 totals: bool = True, fmt: str = "{:.3g}", figsize=None):
    """For each label, one bar made of ``parts`` stacked bottom to top (``{part name: values}``).

    The parts must not be negative (a stack of them is their total); ``totals`` writes each
    total above its bar. Use it for "where does the time/memory go" pictures.
    """
    if not parts:
        raise ValueError("stacked_bars: parts is empty; pass {name: values}")
    columns = {name: _check(labels, v, f"stacked_bars part {name!r}") for name, v in parts.items()}
    for name, values in columns.items():
        if (values < 0).any():
            raise ValueError(f"stacked_bars: part {name!r} has a negative value ({values.min():g}); "
                             f"stacked parts must be >= 0")
    fig, ax = new_figure(*(figsize or (_width(len(labels)), 4.0)))
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    bars = None
    for k, (name, values) in enumerate(columns.items()):
        bars = ax.bar(x, values, 0.7, bottom=bottom, label=name, color=PALETTE[k % len(PALETTE)],
                      edgecolor="#333333", linewidth=0.6)
        bottom = bottom + values
    if totals and bars is not None:
        for xi, total in zip(x, bottom):
            ax.annotate(fmt.format(total), (xi, total), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=TEXT_SIZE)
        ax.margins(y=0.12)
    _label_ticks(ax, labels)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False)
    style_axes(ax, title, xlabel, ylabel)
    return finish(fig)
