"""Heat maps: a matrix drawn as coloured cells, above all attention weights.

An attention map of one head is a (T, T) matrix: row t is the query position t, column
s the key position s, and the cell holds how much of position s the query at t reads
(each row sums to 1). ``attention_heatmaps`` draws several of them side by side (one per
layer and head) on one colour scale, with the tokens on the axes:

    _, weights = bert(ids, return_weights=True)               # one (B, H, T, T) per layer
    maps = {f"layer {l + 1}, head {h + 1}": w.numpy()[0, h]   # example 0
            for l, w in enumerate(weights) for h in range(w.shape[1])}
    fig = attention_heatmaps(maps, tokens, title="...", highlight=[1])

``highlight`` marks positions worth looking at (the informative token): their tick labels
are coloured and a small triangle points at their column. ``draw_heatmap`` draws one
matrix on given axes, for figures that mix a heat map with other panels.
"""
from __future__ import annotations

import math

import numpy as np

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .style import PALETTE, TEXT_SIZE, TICK_SIZE, finish, new_figure, style_axes

HIGHLIGHT_COLOUR = PALETTE[3]  # vermilion: stands out against viridis' blues and greens


def tick_positions(length: int, max_ticks: int = 40, keep=()) -> list[int]:
    """Which of ``length`` positions get a tick label: all when they fit (<= max_ticks), else
    every k-th one (k as small as fits), always including the positions in ``keep``."""
    if length < 0 or max_ticks < 1:
        raise ValueError(f"tick_positions: need length >= 0 and max_ticks >= 1, got {length} and {max_ticks}")
    step = max(1, math.ceil(length / max_ticks))
    kept = {int(k) for k in keep if 0 <= int(k) < length}
    chosen = set(range(0, length, step))
    for k in kept:  # a kept position replaces its neighbours, so labels do not collide
        chosen -= {p for p in range(k - step + 1, k + step) if p not in kept}
        chosen.add(k)
    return sorted(chosen)


def draw_heatmap(ax, matrix, row_labels=None, col_labels=None, title: str | None = None,
                 xlabel: str | None = None, ylabel: str | None = None, vmin: float | None = None,
                 vmax: float | None = None, cmap: str = "viridis", highlight=(), keep_rows=(), keep_cols=(),
                 max_ticks: int = 40,
                 label_size: float | None = None, aspect: str = "equal"):
    """Draw ``matrix`` (rows x cols) on ``ax`` as cells, row 0 at the top; return the image.

    ``row_labels`` / ``col_labels``: one string per row / column (every k-th is shown when
    there are more than ``max_ticks``; rows in ``keep_rows``, columns in ``keep_cols`` and
    ``highlight`` always are).
    ``highlight``: column indices whose labels are coloured, with a small arrow above the
    column (row labels at the same indices are coloured too when rows and columns are
    the same positions, as in an attention map).
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"draw_heatmap: expected a 2-D matrix (rows, cols), got shape {matrix.shape}")
    rows, cols = matrix.shape
    for labels, n, what in ((row_labels, rows, "row_labels"), (col_labels, cols, "col_labels")):
        if labels is not None and len(labels) != n:
            raise ValueError(f"draw_heatmap: {what} has {len(labels)} entries for {n} {what[:3]}s "
                             f"(matrix shape {matrix.shape})")
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, aspect=aspect, interpolation="nearest")
    highlight = [int(h) for h in highlight]
    size = label_size or (TICK_SIZE if max(rows, cols) <= 16 else TEXT_SIZE - 1)
    for axis, labels, n, keep, set_ticks, set_labels, ticks_of in (
            ("x", col_labels, cols, keep_cols, ax.set_xticks, ax.set_xticklabels, ax.get_xticklabels),
            ("y", row_labels, rows, keep_rows, ax.set_yticks, ax.set_yticklabels, ax.get_yticklabels)):
        if labels is None:
            ax.set_xticks([]) if axis == "x" else ax.set_yticks([])
            continue
        marked = highlight if (axis == "x" or rows == cols) else []
        positions = tick_positions(n, max_ticks, list(keep) + marked)
        set_ticks(positions)
        set_labels([str(labels[p]) for p in positions], fontsize=size, rotation=90 if axis == "x" else 0)
        for text, p in zip(ticks_of(), positions):
            if p in marked:
                text.set_color(HIGHLIGHT_COLOUR)
                text.set_fontweight("bold")
    for h in highlight:
        if 0 <= h < cols:  # a small arrow just above the column, pointing down at it
            ax.annotate("", xy=(h, -0.5), xytext=(0, 12), textcoords="offset points",
                        arrowprops=dict(arrowstyle="-|>", color=HIGHLIGHT_COLOUR, lw=1.5),
                        annotation_clip=False)
    style_axes(ax, title, xlabel, ylabel, grid=None)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return image


def attention_heatmaps(maps, tokens, title: str, highlight=(), focus: int | None = None, ncols: int | None = None,
                       vmax: float | None = None, cmap: str = "viridis", max_ticks: int = 40,
                       xlabel: str = "position read from (attention key)", ylabel: str = "position reading (query)",
                       colorbar_label: str = "attention weight", note: str | None = None,
                       panel_size: float | None = None):
    """Attention maps side by side on one colour scale; returns a Figure.

    ``maps``: {panel title: (T, T) weights}, in drawing order (rows of panels are filled
    left to right). ``tokens``: the T tokens, shown on both axes. ``highlight``: positions
    to mark (see ``draw_heatmap``). ``focus``: a query position (e.g. 0, a [CLS] token)
    whose row of every map is also drawn at the bottom, one line per map, wide enough to
    label every token: what that one position reads, head by head. ``vmax``: top of the
    colour scale (default: the largest weight shown). ``note``: a line of text at the bottom.
    ``panel_size``: inches per map (default: from the number of tokens, 3 to 4.4).
    """
    if not maps:
        raise ValueError("attention_heatmaps: maps is empty; pass {panel title: (T, T) weights}")
    panels = {name: np.asarray(m, dtype=np.float64) for name, m in maps.items()}
    length = len(tokens)
    for name, m in panels.items():
        if m.shape != (length, length):
            raise ValueError(f"attention_heatmaps: panel {name!r} has shape {m.shape}, expected "
                             f"({length}, {length}) for {length} tokens")
    if focus is not None and not 0 <= focus < length:
        raise ValueError(f"attention_heatmaps: focus must be a position in 0..{length - 1}, got {focus}")
    n = len(panels)
    ncols = ncols or min(n, 4)
    nrows = math.ceil(n / ncols)
    # A fixed layout, in inches (no tight_layout: measuring hundreds of tick labels is slow).
    side = panel_size or min(4.4, max(3.0, 0.105 * length))  # inches: one square map
    label_size = min(TEXT_SIZE - 1, 0.8 * 72 * side / length)  # a label no taller than its cell is wide
    label_in = max(len(str(t)) for t in tokens) * 0.62 * label_size / 72 + 0.12  # longest tick label
    gap_x = label_in + 0.25
    gap_y = label_in + 0.75  # rotated x labels, the next title and the arrow above it
    strip = 0.22 * n + 0.1 if focus is not None else 0.0  # the focus panel: one line per map
    left, right, top = label_in + 0.45, 1.1, 0.75
    bottom = label_in + 0.5 + (0.3 if note else 0.0)
    grid_w = ncols * side + (ncols - 1) * gap_x
    width = left + grid_w + right
    height = top + nrows * side + (nrows - 1) * gap_y + (gap_y + 0.25 + strip if focus is not None else 0) + bottom
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)

    def box(x, y_top, w, h):  # inches from the left and from the top -> figure fractions
        return [x / width, 1 - (y_top + h) / height, w / width, h / height]

    axes = [fig.add_axes(box(left + (k % ncols) * (side + gap_x), top + (k // ncols) * (side + gap_y), side, side))
            for k in range(n)]
    top_value = vmax if vmax is not None else max(float(m.max()) for m in panels.values())
    keep = [] if focus is None else [focus]
    image = None
    for k, (ax, (name, m)) in enumerate(zip(axes, panels.items())):
        first_col, last_row = k % ncols == 0, k + ncols >= n
        image = draw_heatmap(ax, m, tokens, tokens, title=name, vmin=0.0, vmax=top_value, cmap=cmap,
                             highlight=highlight, keep_rows=keep, max_ticks=max_ticks, label_size=label_size,
                             xlabel=xlabel if last_row else None, ylabel=ylabel if first_col else None)
        ax.title.set_fontsize(TICK_SIZE + 1)
    panels_bottom = top + nrows * side + (nrows - 1) * gap_y
    if focus is not None:
        names_in = max(len(name) for name in panels) * 0.55 * TICK_SIZE / 72 + 0.1
        ax = fig.add_axes(box(max(left, names_in + 0.1), panels_bottom + gap_y + 0.25,
                              left + grid_w - max(left, names_in + 0.1), strip))
        rows = np.stack([m[focus] for m in panels.values()])  # (maps, T): row `focus` of every map
        draw_heatmap(ax, rows, list(panels), tokens, vmin=0.0, vmax=top_value, cmap=cmap, highlight=highlight,
                     max_ticks=max(max_ticks, 2 * length), aspect="auto", label_size=TEXT_SIZE,
                     title=f"what position {focus} ({tokens[focus]}) reads: its row of every map above",
                     xlabel=xlabel.replace("(attention key)", "").strip())
        ax.title.set_fontsize(TICK_SIZE + 1)
    fig.suptitle(title, fontsize=12, y=1 - 0.12 / height, va="top")
    if note:
        fig.text(0.5, 0.1 / height, note, ha="center", va="bottom", fontsize=TEXT_SIZE + 1)
    colorbar_h = min(panels_bottom - top, 4.0)
    bar = fig.colorbar(image, cax=fig.add_axes(box(left + grid_w + 0.3, top + (panels_bottom - top - colorbar_h) / 2,
                                                   0.18, colorbar_h)))
    bar.set_label(colorbar_label, fontsize=TICK_SIZE + 1)
    bar.ax.tick_params(labelsize=TICK_SIZE)
    return fig


def line_panels(panels, title: str, ncols: int | None = None, figsize=None):
    """Several line charts side by side in one Figure, each panel as ``curves.line_chart`` draws one.

    ``panels``: a list of dicts with line_chart's arguments: ``x``, ``series`` ({name: ys}),
    ``ylabel``, ``title``, and optionally ``xlabel``, ``log`` (True/False/"auto", for y),
    ``logx``, ``styles`` ({name: "solid" | "dashed" | "dotted" | "dashdot"}), ``colors``
    ({name: colour}), ``hlines`` / ``vlines`` ({label: value}), ``xticklabels`` and ``ylim``
    ((low, high); either may be None to keep matplotlib's choice).
    Use it when one picture must compare two views of the same measurement (time per
    batch, and how busy the machine was while taking it).
    """
    from .curves import LINESTYLES, MARKERS, _reference_lines, _series_xy
    from .bars import _use_log

    if not panels:
        raise ValueError("line_panels: panels is empty; pass a list of {x, series, ylabel, title, ...}")
    known = {"x", "series", "ylabel", "title", "xlabel", "log", "logx", "styles", "colors", "hlines", "vlines",
             "xticklabels", "ylim"}
    n = len(panels)
    ncols = ncols or min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(*(figsize or (5.0 * ncols, 4.0 * nrows + 0.4)), ncols=ncols, nrows=nrows)
    axes = np.atleast_1d(axes).ravel()
    for k, (ax, panel) in enumerate(zip(axes, panels)):
        unknown = set(panel) - known
        missing = {"series", "ylabel", "title"} - set(panel)
        if unknown or missing:
            raise ValueError(f"line_panels: panel {k} has unknown keys {sorted(unknown)} and lacks "
                             f"{sorted(missing)}; expected keys among {sorted(known)}")
        if not panel["series"]:
            raise ValueError(f"line_panels: panel {k} ({panel['title']!r}) has no series")
        lines = {name: _series_xy(name, ys, panel.get("x")) for name, ys in panel["series"].items()}
        styles, colors = panel.get("styles") or {}, panel.get("colors") or {}
        for name, style in styles.items():
            if style not in LINESTYLES:
                raise ValueError(f"line_panels: style of {name!r} must be one of {sorted(LINESTYLES)}, got {style!r}")
        log = _use_log(panel.get("log", "auto"), np.concatenate([ys for _, ys in lines.values()]))
        for j, (name, (xs, ys)) in enumerate(lines.items()):
            shown = np.where(ys > 0, ys, np.nan) if log else ys
            ax.plot(xs, shown, LINESTYLES[styles.get(name, "solid")], color=colors.get(name, PALETTE[j % len(PALETTE)]),
                    label=name, linewidth=1.8, marker=MARKERS[j % len(MARKERS)] if len(xs) <= 30 else None,
                    markersize=5)
        if log:
            ax.set_yscale("log")
        if panel.get("logx"):
            ax.set_xscale("log")
        if panel.get("xticklabels") is not None:
            ax.set_xticks(np.asarray(panel["x"], dtype=np.float64))
            ax.set_xticklabels([str(t) for t in panel["xticklabels"]])
            ax.minorticks_off()
        _reference_lines(ax, panel.get("hlines"), panel.get("vlines"))
        levels = [y for y in (panel.get("hlines") or {}).values() if np.isfinite(y) and (y > 0 or not log)]
        if panel.get("ylim") is not None:
            ax.set_ylim(*panel["ylim"])
        if levels:  # keep every reference line (and its label) inside the panel, below the title
            low, high = ax.get_ylim()
            ax.set_ylim(low, max(high, max(levels) * 2.5 if log else max(levels) + 0.12 * (max(levels) - low)))
        ax.legend(fontsize=TEXT_SIZE, frameon=False)
        ylabel = panel["ylabel"] + (" (log scale)" if log and "log" not in panel["ylabel"] else "")
        style_axes(ax, panel["title"], panel.get("xlabel"), ylabel, grid="both" if log else "y")
        ax.title.set_fontsize(TICK_SIZE + 2)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=12)
    return finish(fig)
