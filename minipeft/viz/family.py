"""Many methods on one score-against-cost picture, each point with the spread of its seeds.

    family_chart({"LoRA": {"x": [...], "mean": [...], "low": [...], "high": [...], "labels": ["r=1", ...]},
                  ...}, title="...")

Used by lesson 11 (the PEFT family): twelve colours and markers, then the line style changes;
a method with one size is a single marker.
"""
from __future__ import annotations

import numpy as np

from .style import PALETTE, TEXT_SIZE, finish, new_figure, style_axes
from .tradeoffs import score_axes

COLOURS = PALETTE + ["#999999", "#8C564B", "#17BECF", "#7F3C8D"]  # the palette, then four more
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "p", "<", ">", "d"]
LINESTYLES = ["-", "--", ":"]


def family_chart(series: dict, title: str, xlabel: str = "trainable parameters (log scale)",
                 ylabel: str = "test score", hlines: dict | None = None, ylim=None, figsize=None):
    """Score against trainable parameters on a log x-axis, one line per method, error bars from
    ``low`` to ``high`` (e.g. the worst and best seed), each point labelled with ``labels``.

    ``series``: {method: {"x", "mean", "low", "high", "labels"}}, lists of one value per size.
    ``hlines``: {label: y} reference levels (full fine-tuning, chance).
    """
    if not series:
        raise ValueError("family_chart: series is empty")
    fig, ax = new_figure(*(figsize or (10.0, 5.6)))
    for k, (name, entry) in enumerate(series.items()):
        x, mean = np.asarray(entry["x"], dtype=np.float64), np.asarray(entry["mean"], dtype=np.float64)
        low, high = np.asarray(entry["low"], dtype=np.float64), np.asarray(entry["high"], dtype=np.float64)
        if not (x.shape == mean.shape == low.shape == high.shape) or x.ndim != 1:
            raise ValueError(f"family_chart: series {name!r} needs x, mean, low and high of one length")
        color, style = COLOURS[k % len(COLOURS)], LINESTYLES[(k // len(COLOURS)) % len(LINESTYLES)]
        ax.errorbar(x, mean, yerr=[mean - low, high - mean], color=color, linestyle=style, linewidth=1.4,
                    marker=MARKERS[k % len(MARKERS)], markersize=5, capsize=2.5, elinewidth=0.9, label=name)
        for j, (xi, yi, text) in enumerate(zip(x, mean, entry.get("labels") or [])):
            ax.annotate(str(text), (xi, yi), xytext=(4, -10) if (j + k) % 2 else (4, 5), textcoords="offset points",
                        fontsize=TEXT_SIZE - 1, color=color)
    score_axes(ax, hlines, ylim)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style_axes(ax, title, xlabel, ylabel, grid="both")
    return finish(fig)
