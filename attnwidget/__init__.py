"""attnwidget: look inside a transformer's attention from a notebook."""

from .attention import Attention, AttentionError
from .extract import ModelError, extract, extract_hooks, readable_tokens
from .models import load_model
from .widgets.export import save_html
from .widgets import AttentionGraph, AttentionHeatmap, Dashboard, HeadGrid, RolloutBar, Selection, link, show

__all__ = ["Attention", "AttentionError", "ModelError", "extract", "extract_hooks", "load_model", "readable_tokens",
           "AttentionHeatmap", "HeadGrid", "RolloutBar", "AttentionGraph", "Selection", "Dashboard", "show", "link",
           "save_html"]
__version__ = "0.1.0"
