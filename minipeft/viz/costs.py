"""Pictures of sequential vs parallel: what grows with the length, what threads buy, and a cost model.

    complexity_panels(lengths, counts, ...)     work, sequential steps, path length against T (log-log)
    speedup_chart(speedup)                      time(1 thread) / time(all cores) against T, with Amdahl's bound
    cost_model_chart(lengths, panels, title)    model curves (and measured points), each term's share

Each returns a Figure. A slope on a log-log plot is the exponent of a power law: y ~ T^slope.
"""
from __future__ import annotations

import numpy as np

from .style import TEXT_SIZE, finish, new_figure, style_axes

LAYER_COLOURS = {"rnn": "#D55E00", "lstm": "#CC79A7", "transformer": "#0072B2"}
LAYER_NAMES = {"rnn": "RNN layer", "lstm": "LSTM layer", "transformer": "Transformer layer"}
TERM_COLOURS = {"dispatch_ms": "#E69F00", "products_ms": "#0072B2", "elementwise_ms": "#009E73"}
TERM_NAMES = {"dispatch_ms": "S x tau (dispatches)", "products_ms": "W / R (products)",
              "elementwise_ms": "E / B (elementwise)"}


def log_slope(xs, ys) -> float:
    """The exponent between the last two points: d log y / d log x (0 for a constant)."""
    (x0, x1), (y0, y1) = xs[-2:], ys[-2:]
    return float(np.log(y1 / y0) / np.log(x1 / x0))


def complexity_panels(lengths, counts: dict, table1: dict, title: str):
    """Three log-log panels (work, sequential steps, path length) against T, one line per layer.

    ``counts``: {kind: {"work": [...], "steps": [...], "path": [...]}}; ``table1``:
    {quantity: {kind: "O(...)"}}, the paper's entry written beside the measured slope.
    """
    quantities = (("work", "FLOPs of forward + backward (counted)", "work per layer"),
                  ("steps", "ops in the longest chain (graph depth)", "sequential steps"),
                  ("path", "position-mixing ops from position 1 to T", "maximum path length"))
    fig, axes = new_figure(15.0, 4.6, ncols=3)
    for ax, (quantity, ylabel, panel_title) in zip(axes, quantities):
        for kind, values in counts.items():
            ys = np.asarray(values[quantity], dtype=float)
            label = (f"{LAYER_NAMES[kind]}: slope {log_slope(lengths, ys):.2f} "
                     f"(Table 1: {table1[quantity][kind]})")
            ax.plot(lengths, ys, "--" if kind == "lstm" else "-", marker="o", color=LAYER_COLOURS[kind],
                    label=label, markersize=4)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.legend(frameon=False, fontsize=TEXT_SIZE, loc="upper left")
        style_axes(ax, panel_title, "sequence length T (positions)", ylabel, grid="both")
    fig.suptitle(title)
    return finish(fig)


def speedup_chart(speedup: dict, title: str):
    """Left: speedup from 1 thread to every core, with Amdahl's bound from the product share.
    Right: the share of the 1-thread time spent inside matrix products."""
    lengths, cores = speedup["lengths"], speedup["cores"]
    kinds = [k for k in LAYER_NAMES if f"{k}_speedup" in speedup]
    fig, (left, right) = new_figure(12.0, 4.4, ncols=2)
    for kind in kinds:
        colour = LAYER_COLOURS[kind]
        left.plot(lengths, speedup[f"{kind}_speedup"], "-o", color=colour, label=f"{LAYER_NAMES[kind]}, measured")
        left.plot(lengths, speedup[f"{kind}_amdahl"], ":", color=colour,
                  label=f"{LAYER_NAMES[kind]}, Amdahl bound 1 / ((1 - p) + p / {cores})")
        right.plot(lengths, 100 * np.asarray(speedup[f"{kind}_product_share"]), "-o", color=colour,
                   label=LAYER_NAMES[kind])
    left.axhline(1.0, color="#666666", linewidth=0.8)
    left.axhline(cores, color="#666666", linewidth=0.8, linestyle="--")
    left.annotate(f"{cores} cores: at most {cores}x", (lengths[0], cores), xytext=(2, -12),
                  textcoords="offset points", fontsize=TEXT_SIZE, color="#444444")
    right.set_ylim(0, 100)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(lengths, [str(t) for t in lengths])
        ax.legend(frameon=False, fontsize=TEXT_SIZE)
    style_axes(left, f"speedup from 1 thread to {cores}", "sequence length T (positions)",
               "time with 1 thread / time with all (x)")
    style_axes(right, "share p of the 1-thread time in matrix products", "sequence length T (positions)",
               "% of forward + backward time")
    fig.suptitle(title)
    return finish(fig)


def _model_panel(ax, lengths, panel: dict) -> None:
    """Model totals (lines) and measured times (markers) of each layer on one device."""
    for kind, terms in panel["model"].items():
        colour = LAYER_COLOURS[kind]
        ax.plot(lengths, [t["total_ms"] for t in terms], "-", color=colour, label=f"{LAYER_NAMES[kind]}, model")
        measured = panel.get("measured", {}).get(kind)
        if measured is not None:
            ax.plot(lengths, measured, "o", color=colour, label=f"{LAYER_NAMES[kind]}, measured")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(lengths, [str(t) for t in lengths])
    ax.legend(frameon=False, fontsize=TEXT_SIZE, loc="upper left")
    ax.text(0.0, -0.17, "\n".join(panel["constants"]), transform=ax.transAxes, ha="left", va="top",
            fontsize=TEXT_SIZE, color="#333333")  # below the axis label
    style_axes(ax, panel["title"], "sequence length T (positions)", "ms per forward + backward (log)", grid="both")


def _shares_panel(ax, lengths, model: dict, device: str) -> None:
    """How the model splits each layer's time between its three terms, stacked to 100%:
    per length, one bar per layer (the Transformer layer's hatched)."""
    positions = np.arange(len(lengths))
    width = 0.8 / len(model)
    for j, (kind, terms) in enumerate(model.items()):
        bottom = np.zeros(len(lengths))
        x = positions + (j - (len(model) - 1) / 2) * width
        for term, colour in TERM_COLOURS.items():
            share = np.array([100 * t[term] / t["total_ms"] for t in terms])
            ax.bar(x, share, bottom=bottom, color=colour, width=width * 0.95, edgecolor="white",
                   hatch="//" if kind == "transformer" else None, label=TERM_NAMES[term] if j == 0 else None)
            bottom += share
    ax.set_xticks(positions, [str(t) for t in lengths])
    ax.set_ylim(0, 100)
    ax.legend(frameon=True, framealpha=0.9, fontsize=TEXT_SIZE, loc="lower right",
              title=" | ".join(f"{LAYER_NAMES[k]}{' (hatched)' if k == 'transformer' else ''}" for k in model),
              title_fontsize=TEXT_SIZE)
    style_axes(ax, f"{device}: which term sets each layer's time", "sequence length T (positions)",
               "% of the model's time")


def cost_model_chart(lengths, panels: list, title: str):
    """One column per device (``panels``: dicts with "title", "device", "model" {kind: [terms per T]},
    optional "measured" {kind: [ms per T]}, "constants" [lines]): on top the model's curves
    (and measured points), below the share of each term."""
    fig, axes = new_figure(6.6 * len(panels), 9.4, ncols=len(panels), nrows=2)
    axes = np.asarray(axes).reshape(2, len(panels))
    for column, panel in enumerate(panels):
        _model_panel(axes[0, column], lengths, panel)
        _shares_panel(axes[1, column], lengths, panel["model"], panel["device"])
    fig.suptitle(title)
    return finish(fig)


__all__ = ["complexity_panels", "cost_model_chart", "log_slope", "speedup_chart"]
