"""Two pictures for comparing runs: scores with error bars, and memory stacks of very different sizes.

    score_bars(labels, {"pre-trained": means, "from scratch": means}, errors={...}, ...)
        grouped bars, one group per task, with an error bar (e.g. the spread over seeds)
        where one is given and the value written above each bar
    stacked_panels(panels, parts, ...)
        one small stacked bar chart per panel, each in its own unit: a tiny model (KB) and
        BERT-Large (GB) in one figure, where a shared axis would hide the small one

Both return a matplotlib Figure, in the shared style; save it with ``Lesson.save_figure``.
"""
from __future__ import annotations

import math

import numpy as np

from .style import PALETTE, TEXT_SIZE, finish, new_figure, style_axes


def _values(labels, values, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) != len(labels):
        raise ValueError(f"{what}: expected one value per label ({len(labels)} labels), got shape {values.shape}")
    return values


def score_bars(labels, series: dict, ylabel: str, title: str, errors: dict | None = None, ylim=None,
               hlines: dict | None = None, fmt: str = "{:.2f}", xlabel: str | None = None, figsize=None):
    """For each label, one bar per series side by side, each with its value written above it.

    ``series``: {name: one value per label}; ``errors``: {name: one error per label} drawn as
    error bars (NaN or missing: no bar, e.g. a task run with one seed). ``hlines``
    ({text: y}) draws dotted reference lines (chance level), named in the legend.
    """
    if not series:
        raise ValueError("score_bars: series is empty; pass {name: values}")
    columns = {name: _values(labels, v, f"score_bars series {name!r}") for name, v in series.items()}
    spreads = {name: _values(labels, v, f"score_bars errors {name!r}") for name, v in (errors or {}).items()}
    unknown = sorted(set(spreads) - set(columns))
    if unknown:
        raise ValueError(f"score_bars: errors given for unknown series {unknown}; series are {list(columns)}")
    fig, ax = new_figure(*(figsize or (max(5.0, 0.75 * len(labels) * len(columns) + 2.0), 4.2)))
    x = np.arange(len(labels))
    width = 0.8 / len(columns)
    for k, (name, values) in enumerate(columns.items()):
        spread = spreads.get(name, np.full(len(labels), np.nan))
        has_error = np.isfinite(spread)
        positions = x - 0.4 + width * (k + 0.5)
        bars = ax.bar(positions, values, width, label=name, color=PALETTE[k % len(PALETTE)],
                      edgecolor="#333333", linewidth=0.6)
        if has_error.any():  # error bars only where there is a spread to show
            ax.errorbar(positions[has_error], values[has_error], yerr=spread[has_error], fmt="none",
                        ecolor="#222222", elinewidth=1.0, capsize=3)
        for i, (bar, value) in enumerate(zip(bars, values)):
            if not math.isfinite(value):
                continue
            top = value + (spread[i] if has_error[i] else 0.0)
            ax.annotate(fmt.format(value), (bar.get_x() + bar.get_width() / 2, top), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=TEXT_SIZE)
    for text, y in (hlines or {}).items():  # named in the legend: a label on the line could sit on a bar
        ax.axhline(y, color="#666666", linewidth=1.0, linestyle=":", zorder=1, label=text)
    ax.set_xticks(x)
    ax.set_xticklabels([str(s) for s in labels])
    if ylim is not None:
        ax.set_ylim(*ylim)
    else:
        ax.margins(y=0.12)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=len(columns) + len(hlines or {}))  # below the axis: inside it would cover a bar
    style_axes(ax, title, xlabel, ylabel)
    return finish(fig)


def stacked_panels(panels: dict, parts: list, title: str, fmt: str = "{:,.4g}", figsize=None):
    """One stacked bar chart per panel, side by side, each with its own y axis and unit.

    ``panels``: {panel title: {"unit": axis label, "bars": {bar label: {part: value}}}}, values
    already in the panel's unit; ``parts``: the part names, bottom to top (a part a bar
    lacks counts 0). Each bar's total is written above it; the legend is shared.
    """
    if not panels:
        raise ValueError("stacked_panels: panels is empty")
    fig, axes = new_figure(*(figsize or (3.4 * len(panels) + 0.6, 4.4)), ncols=len(panels))
    axes = np.atleast_1d(axes)
    handles = None
    for ax, (panel_title, panel) in zip(axes, panels.items()):
        bars = panel["bars"]
        unknown = sorted({p for bar in bars.values() for p in bar} - set(parts))
        if unknown:
            raise ValueError(f"stacked_panels: panel {panel_title!r} has parts {unknown} not in {parts}")
        x = np.arange(len(bars))
        bottom = np.zeros(len(bars))
        drawn = []
        for k, part in enumerate(parts):
            values = np.array([float(bar.get(part, 0.0)) for bar in bars.values()])
            if (values < 0).any():
                raise ValueError(f"stacked_panels: part {part!r} of panel {panel_title!r} is negative")
            drawn.append(ax.bar(x, values, 0.6, bottom=bottom, label=part, color=PALETTE[k % len(PALETTE)],
                                edgecolor="#333333", linewidth=0.6))
            bottom = bottom + values
        for xi, total in zip(x, bottom):
            ax.annotate(fmt.format(total), (xi, total), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=TEXT_SIZE)
        ax.margins(y=0.12)
        ax.set_xticks(x)
        ax.set_xticklabels(list(bars), fontsize=TEXT_SIZE + 1)
        style_axes(ax, panel_title, None, panel["unit"])
        ax.title.set_fontsize(TEXT_SIZE + 2)
        handles = drawn
    fig.legend(handles=[h[0] for h in handles] if handles else None, labels=list(parts), loc="lower center",
               ncol=len(parts), fontsize=TEXT_SIZE + 1, frameon=False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


__all__ = ["score_bars", "stacked_panels"]
