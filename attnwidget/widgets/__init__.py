"""The widgets: linked views of an `Attention` for notebooks and exported HTML; `charts` draws
analysis results (``aw.widgets.charts.metric_lines(table)``)."""

from attnwidget.widgets import charts
from attnwidget.widgets.dashboard import Dashboard, link, show
from attnwidget.widgets.diff import AttentionDiff
from attnwidget.widgets.graph import AttentionGraph
from attnwidget.widgets.headgrid import HeadGrid
from attnwidget.widgets.heatmap import AttentionHeatmap
from attnwidget.widgets.neuron import NeuronView
from attnwidget.widgets.parts import PartsDashboard
from attnwidget.widgets.rollout import RolloutBar
from attnwidget.widgets.selection import Selection
from attnwidget.widgets.tokentext import TokenText

__all__ = [
    "AttentionDiff",
    "AttentionGraph",
    "AttentionHeatmap",
    "Dashboard",
    "HeadGrid",
    "NeuronView",
    "PartsDashboard",
    "RolloutBar",
    "Selection",
    "TokenText",
    "charts",
    "link",
    "show",
]
