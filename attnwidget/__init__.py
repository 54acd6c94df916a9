"""attnwidget: look inside a transformer's attention from a notebook.

The names here are the ones a first session needs: extract attention, show it, analyse it.
Everything else lives under a namespace that follows the data flow:

- ``aw.extraction``: model -> `Attention` (hooks, TransformerLens caches, token labels)
- ``aw.metrics``: exact metric definitions (entropy, rollout, ...), numpy only
- ``aw.analysis``: what the attention means (sinks, report, prompt parts, census);
  ``aw.experiments``: analyses that run the model (templates, languages, induction, head roles)
- ``aw.widgets``: every view, the dashboards and the shared `Selection`; ``aw.images``: PNGs and
  patch overlays without a browser
- ``aw.errors``: every error the library raises, all catchable as `AttentionError`
"""

from attnwidget import analysis, errors, extraction, images, metrics, widgets
from attnwidget.analysis import analyze, experiments, report
from attnwidget.attention import Attention, Seq2SeqAttention
from attnwidget.errors import AttentionError, ModelError
from attnwidget.extraction import extract, generate, load_model
from attnwidget.widgets import AttentionGraph, AttentionHeatmap, HeadGrid, RolloutBar, TokenText, link, show
from attnwidget.widgets.export import save_html

__all__ = [
    "Attention",
    "Seq2SeqAttention",
    "extract",
    "generate",
    "load_model",
    "show",
    "link",
    "save_html",
    "AttentionHeatmap",
    "HeadGrid",
    "RolloutBar",
    "AttentionGraph",
    "TokenText",
    "analyze",
    "report",
    "AttentionError",
    "ModelError",
    "errors",
    "extraction",
    "metrics",
    "analysis",
    "experiments",
    "widgets",
    "images",
]
__version__ = "0.1.0"
