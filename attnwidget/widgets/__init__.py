"""The widgets: linked views of an `Attention` for notebooks and exported HTML."""

from .dashboard import Dashboard, link, show
from .diff import AttentionDiff
from .graph import AttentionGraph
from .headgrid import HeadGrid
from .heatmap import AttentionHeatmap
from .neuron import NeuronView
from .parts import PartsDashboard
from .rollout import RolloutBar
from .selection import Selection
from .tokentext import TokenText

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
    "link",
    "show",
]
