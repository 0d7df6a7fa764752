"""One look for every figure: sizes, fonts, grid, colours.

Every picture in ``minipeft.viz`` starts from ``new_figure`` and finishes with
``finish``, so the lessons' figures share font sizes, a light grid behind the data,
no top/right frame, and a tight layout. Figures are made with ``matplotlib.figure.Figure``
directly (not ``pyplot``), so drawing one never needs a screen and never piles up
open windows; ``Lesson.save_figure`` writes and closes them.
"""
from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TITLE_SIZE = 12
LABEL_SIZE = 10
TICK_SIZE = 9
TEXT_SIZE = 8  # text inside a plot: bar values, graph boxes

# A small qualitative palette (colour-blind friendly, from Okabe & Ito) used in order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]



def ordered_colours(n: int) -> list:
    """``n`` colours for the values of one ordered setting (a sweep over a scale), dark to light.

    A qualitative palette gives each line its own hue but says nothing about order, and
    beyond four or five lines neighbours look alike; one sequential map (viridis, readable
    in grey and by colour-blind readers) lets the eye read the order off the colour.
    """
    from matplotlib import colormaps

    ramp = colormaps["viridis"]
    return [ramp(0.9 * k / max(n - 1, 1)) for k in range(n)]  # stop before viridis' pale yellow end


# Fill colours of the kinds of node in a computational graph (and their bars).
NODE_COLOURS = {
    "parameter": "#FBE3C0",  # a leaf that wants a gradient: weights, biases, an input we differentiate
    "constant": "#E6E6E6",   # a leaf with no gradient: targets, masks
    "op": "#D6E8F7",         # the output of an op
    "root": "#D9F0DF",       # the tensor backward() started from (the loss)
}
EDGE_COLOURS = {"parameter": "#B86E00", "constant": "#777777", "op": "#0072B2", "root": "#138A36"}


def new_figure(width: float = 6.4, height: float = 4.0, ncols: int = 1, nrows: int = 1):
    """A Figure of ``width`` x ``height`` inches and its axes (one, or an array of them)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)  # a canvas that can measure text, so layouts can be computed before saving
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def style_axes(ax, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
               grid: str | None = "y") -> None:
    """Title, axis labels, tick sizes, a light grid on ``grid`` ("x", "y", "both" or None), no top/right frame."""
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=LABEL_SIZE)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
    ax.tick_params(labelsize=TICK_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(True, axis=grid, which="major", color="#DDDDDD", linewidth=0.8)
        ax.set_axisbelow(True)


def finish(fig) -> "Figure":
    """Tight layout, then hand the figure back (for ``Lesson.save_figure``)."""
    fig.tight_layout()
    return fig
