"""Figures for the lessons, one function per kind of picture; each returns a matplotlib Figure.

    draw_graph(trace)              the computational graph of a traced forward/backward pass
    bar_chart(labels, values, ...) one bar per thing (log scale when the values span > 100x)
    grouped_bars / stacked_bars    several bars per thing, side by side or stacked

Figures share one style (``minipeft.viz.style``) and are drawn on their own Agg canvas,
never through pyplot's screen backend; save them with ``Lesson.save_figure``.
"""
from .bars import bar_chart, grouped_bars, stacked_bars
from .graph import GraphNode, draw_graph, format_array, graph_edges, graph_layout, graph_nodes
from .style import finish, new_figure, style_axes

__all__ = [
    "GraphNode", "bar_chart", "draw_graph", "finish", "format_array", "graph_edges", "graph_layout",
    "graph_nodes", "grouped_bars", "new_figure", "stacked_bars", "style_axes",
]
from .curves import line_chart, moving_average, training_curves  # noqa: E402  (line plots)
__all__ += ["line_chart", "moving_average", "training_curves"]
from .heatmaps import attention_heatmaps, draw_heatmap, line_panels, tick_positions  # noqa: E402  (heat maps)
__all__ += ["attention_heatmaps", "draw_heatmap", "line_panels", "tick_positions"]
