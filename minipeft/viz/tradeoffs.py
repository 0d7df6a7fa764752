"""Figures that compare fine-tuning methods: where gradients flow, score against cost, and
what each part of an adapter is worth.

    gradient_flow({"full": norms_full, "adapters": norms_adapter}, rows, title)
    tradeoff_chart({"adapters": (params, scores, ["m=1", ...]), ...}, title, marks={text: (x, y)}, ...)
    cost_panels(groups, time_ms, memory, title)          step time beside memory, full vs adapters
    span_heatmap(matrix, layer_labels, title, ...)       score with adapters removed from layers i..j

Each returns a ``matplotlib.figure.Figure`` (save it with ``Lesson.save_figure``).
"""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

from .heatmaps import draw_heatmap
from .style import PALETTE, TEXT_SIZE, TICK_SIZE, finish, new_figure, style_axes

FROZEN = "#BBBBBB"


def short_name(name: str) -> str:
    """A parameter name shortened for an axis: "bert.layers.0.attention.query.weight" -> "L0 attention.query.weight"."""
    parts = name.split(".")
    if parts and parts[0] in ("bert", "encoder"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in ("layers", "decoder_layers") and parts[1].isdigit():
        prefix = ("D" if parts[0] == "decoder_layers" else "L") + parts[1]
        parts = [prefix] + parts[2:]
        return parts[0] + " " + ".".join(parts[1:])
    return ".".join(parts)


def gradient_flow(panels: dict, rows, title: str, groups=None, xlabel: str = "gradient norm |dL/dW| (log scale)",
                  notes: dict | None = None, figsize=None):
    """Side-by-side horizontal bars: the gradient norm of every parameter tensor, one panel per run.

    ``panels``: {panel title: {parameter name: norm, or None when frozen}}; ``rows``: the
    parameter names in drawing order (top to bottom); a name missing from a panel's dict is
    "not in this model" and left blank. ``groups``: one group label per row (e.g. "layer 0"),
    which colours the trained bars and is written at the left. Frozen tensors get no bar:
    a grey mark and the word "frozen". A norm of exactly 0 (a trainable tensor whose gradient is
    zero) cannot be drawn on a log axis: it is written out, with ``notes[name]`` (a short text)
    saying why when given.
    """
    notes = notes or {}
    rows = list(rows)
    if not panels or not rows:
        raise ValueError("gradient_flow: need at least one panel and one row")
    groups = list(groups) if groups is not None else [""] * len(rows)
    if len(groups) != len(rows):
        raise ValueError(f"gradient_flow: {len(groups)} groups for {len(rows)} rows")
    order = list(dict.fromkeys(groups))
    colour = {g: PALETTE[k % len(PALETTE)] for k, g in enumerate(order)}
    values = [v for norms in panels.values() for v in norms.values() if v is not None and v > 0]
    low = min(values) / 3 if values else 1e-6
    high = max(values) * 3 if values else 1.0
    fig, axes = new_figure(*(figsize or (5.2 * len(panels) + 1.5, 0.19 * len(rows) + 1.6)), ncols=len(panels))
    axes = np.atleast_1d(axes)
    y = np.arange(len(rows))
    for k, (ax, (panel, norms)) in enumerate(zip(axes, panels.items())):
        for i, name in enumerate(rows):
            if name not in norms:
                continue
            value = norms[name]
            if value is None:
                ax.barh(i, low * 1.8 - low, left=low, height=0.6, color=FROZEN, edgecolor="none")
                ax.text(low * 2.0, i, "frozen", va="center", ha="left", fontsize=TEXT_SIZE - 1, color="#777777")
            elif value == 0:
                ax.text(low * 1.1, i, "gradient exactly 0" + (f": {notes[name]}" if name in notes else ""),
                        va="center", ha="left", fontsize=TEXT_SIZE - 1, color="#555555", style="italic")
            else:
                ax.barh(i, max(value, low) - low, left=low, height=0.7, color=colour[groups[i]],
                        edgecolor="#333333", linewidth=0.4)
        trained = sum(1 for v in norms.values() if v)
        ax.set_xscale("log")
        ax.set_xlim(low, high)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_yticks(y)
        ax.set_yticklabels([short_name(r) for r in rows] if k == 0 else [], fontsize=TEXT_SIZE - 1)
        style_axes(ax, f"{panel}\n{trained} of {len(norms)} tensors get a gradient", xlabel, None, grid="x")
        ax.title.set_fontsize(TICK_SIZE + 1)
        for i in range(1, len(rows)):
            if groups[i] != groups[i - 1]:
                ax.axhline(i - 0.5, color="#999999", linewidth=0.6)
    drawn = {groups[i] for i, name in enumerate(rows) if any(norms.get(name) for norms in panels.values())}
    handles = [Patch(facecolor=colour[g], edgecolor="#333333", label=g) for g in order if g and g in drawn]
    handles.append(Patch(facecolor=FROZEN, label="frozen: no gradient, no weight-gradient matmul"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=TEXT_SIZE + 1,
               frameon=False)
    fig.suptitle(title, fontsize=12)
    height = fig.get_size_inches()[1]
    fig.tight_layout(rect=(0, (0.35 if len(handles) <= 4 else 0.55) / height, 1, 1))
    return fig


def score_axes(ax, hlines: dict | None, ylim=None) -> None:
    """A score-against-parameters chart's axes: dotted reference levels ({label: y}, labelled at the
    left), a log x-axis, and the y-limits if given."""
    for text, level in (hlines or {}).items():
        ax.axhline(level, color="#666666", linewidth=1.0, linestyle=":", zorder=1)
        ax.annotate(text, (0.0, level), xycoords=("axes fraction", "data"), xytext=(3, 2),
                    textcoords="offset points", fontsize=TEXT_SIZE, color="#444444")
    ax.set_xscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)


def tradeoff_chart(series: dict, title: str, xlabel: str = "trainable parameters (log scale)",
                   ylabel: str = "test score", hlines: dict | None = None, ylim=None, legend_loc: str = "best",
                   marks: dict | None = None, figsize=None):
    """Score against trainable parameters on a log x-axis, one line per method, each point labelled.

    ``series``: {method: (parameter counts, scores, point labels or None)}. ``hlines``:
    {label: y} reference levels (e.g. full fine-tuning, chance). ``marks``: {text: (x, y)}
    rings a point and writes ``text`` below and to the right of it, with an arrow (e.g. the setting a paper used).
    Point labels sit on a white patch, so a reference line running behind one never strikes it out.
    """
    if not series:
        raise ValueError("tradeoff_chart: series is empty")
    fig, ax = new_figure(*(figsize or (7.6, 4.8)))
    markers = ["o", "s", "^", "D", "v", "P"]
    for k, (name, entry) in enumerate(series.items()):
        xs, ys = np.asarray(entry[0], dtype=np.float64), np.asarray(entry[1], dtype=np.float64)
        labels = entry[2] if len(entry) > 2 else None
        if xs.shape != ys.shape or xs.ndim != 1:
            raise ValueError(f"tradeoff_chart: series {name!r} needs one score per parameter count")
        color = PALETTE[k % len(PALETTE)]
        ax.plot(xs, ys, "-", color=color, marker=markers[k % len(markers)], markersize=6, linewidth=1.6,
                label=name)
        for j, (x, y, text) in enumerate(zip(xs, ys, labels or [])):  # alternate above / below the line
            ax.annotate(str(text), (x, y), xytext=(5, -12) if (j + k) % 2 else (-4, 6), textcoords="offset points",
                        fontsize=TEXT_SIZE, color=color, ha="left" if (j + k) % 2 else "right", zorder=4,
                        bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none"))
    for text, (x, y) in (marks or {}).items():
        ax.plot([x], [y], "o", markersize=15, markerfacecolor="none", markeredgecolor="#222222", linewidth=1.2)
        ax.annotate(text, (x, y), xytext=(16, -64), textcoords="offset points", ha="left", va="top",
                    fontsize=TEXT_SIZE, color="#222222", arrowprops=dict(arrowstyle="->", color="#222222",
                                                                         shrinkB=9, linewidth=0.8))
    score_axes(ax, hlines, ylim)
    ax.legend(fontsize=TEXT_SIZE + 1, frameon=True, framealpha=0.9, edgecolor="none", loc=legend_loc)
    style_axes(ax, title, xlabel, ylabel, grid="both")
    return finish(fig)


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.3g} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:.3g} KB"


def cost_panels(groups, time_ms: dict, memory: dict, title: str, figsize=None):
    """Step time and step memory of several methods on several models, each relative to the
    first method on the same model (so a tiny model and a big one share one axis).

    ``groups``: the models' labels; ``time_ms``: {method: one median time per group};
    ``memory``: {method: {part: one byte count per group}} (parts stacked bottom to top).
    Bars are annotated with the ratio and the absolute number.
    """
    methods = list(time_ms)
    if not methods or list(memory) != methods:
        raise ValueError(f"cost_panels: time_ms and memory need the same methods, got {list(time_ms)} and "
                         f"{list(memory)}")
    n = len(groups)
    times = {m: np.asarray(v, dtype=np.float64) for m, v in time_ms.items()}
    parts = list(next(iter(memory.values())))
    totals = {m: sum(np.asarray(memory[m][p], dtype=np.float64) for p in parts) for m in methods}
    for m in methods:
        if len(times[m]) != n or any(len(memory[m][p]) != n for p in parts):
            raise ValueError(f"cost_panels: method {m!r} needs one value per group ({n})")
    fig, (left, right) = new_figure(*(figsize or (11.5, 4.6)), ncols=2)
    x = np.arange(n)
    width = 0.8 / len(methods)
    reference = times[methods[0]]
    for k, m in enumerate(methods):
        ratio = times[m] / reference
        bars = left.bar(x - 0.4 + width * (k + 0.5), ratio, width, label=m, color=PALETTE[k % len(PALETTE)],
                        edgecolor="#333333", linewidth=0.6)
        for bar, r, ms in zip(bars, ratio, times[m]):
            left.annotate(f"{r:.2f}x\n{ms:.3g} ms", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=TEXT_SIZE)
    left.set_xticks(x)
    left.set_xticklabels([str(g) for g in groups], fontsize=TICK_SIZE)
    left.set_ylim(0, 1.5)
    left.legend(fontsize=TEXT_SIZE + 1, frameon=False, loc="upper center", ncol=2)
    style_axes(left, "time per training step (median)", None, f"relative to {methods[0]}")
    positions, labels = [], []
    for g in range(n):
        for k, m in enumerate(methods):
            positions.append(g * (len(methods) + 0.6) + k)
            labels.append(f"{str(groups[g]).splitlines()[0].split(':')[0]}\n{m.split()[0]}")
    positions = np.asarray(positions)
    bottom = np.zeros(len(positions))
    for j, part in enumerate(parts):
        values = np.array([memory[m][part][g] / totals[methods[0]][g] for g in range(n) for m in methods])
        right.bar(positions, values, 0.75, bottom=bottom, label=part, color=PALETTE[(j + 2) % len(PALETTE)],
                  edgecolor="#333333", linewidth=0.6)
        bottom = bottom + values
    absolute = [totals[m][g] for g in range(n) for m in methods]
    for xi, top, nbytes in zip(positions, bottom, absolute):
        right.annotate(f"{top:.2f}x\n{_mb(nbytes)}", (xi, top), xytext=(0, 2), textcoords="offset points",
                       ha="center", va="bottom", fontsize=TEXT_SIZE)
    right.set_xticks(positions)
    right.set_xticklabels(labels, fontsize=TICK_SIZE - 1)
    right.set_ylim(0, 1.5)
    right.legend(fontsize=TEXT_SIZE, frameon=False, loc="upper center", ncol=2)
    style_axes(right, "memory of one training step", None, f"relative to {methods[0]}'s total")
    fig.suptitle(title, fontsize=12)
    return finish(fig)


def span_heatmap(matrix, layer_labels, title: str, colorbar_label: str = "test score", fmt: str = "{:.3f}",
                 vmin: float | None = None, vmax: float | None = None, note: str | None = None, figsize=None):
    """Cell (i, j), i <= j: the score with adapters removed from layers i..j (NaN cells are left
    blank, so a square matrix shows as an upper triangle). Each cell is written out."""
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(layer_labels)
    if matrix.shape != (n, n):
        raise ValueError(f"span_heatmap: expected a {n}x{n} matrix (one row and column per layer), "
                         f"got {matrix.shape}")
    fig, ax = new_figure(*(figsize or (2.2 + 1.3 * n, 1.9 + 1.1 * n)))
    image = draw_heatmap(ax, matrix, row_labels=[f"from {l}" for l in layer_labels],
                         col_labels=[f"to {l}" for l in layer_labels], title=title, vmin=vmin, vmax=vmax,
                         cmap="magma", xlabel="last layer without adapters",
                         ylabel="first layer without adapters")
    ax.tick_params(axis="x", labelrotation=0)
    finite = matrix[np.isfinite(matrix)]
    low = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    high = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    middle = (low + high) / 2  # dark cells (the low half of the colour scale) get white text
    for i in range(n):
        for j in range(n):
            if np.isfinite(matrix[i, j]):
                ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center", fontsize=TICK_SIZE + 1,
                        color="white" if matrix[i, j] < middle else "black")
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.04)
    bar.set_label(colorbar_label, fontsize=TICK_SIZE)
    bar.ax.tick_params(labelsize=TICK_SIZE)
    if note:
        fig.text(0.01, 0.01, note, fontsize=TEXT_SIZE, color="#444444", ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.08 if note else 0, 1, 1))
    return fig


__all__ = ["short_name", "gradient_flow", "tradeoff_chart", "cost_panels", "span_heatmap"]
