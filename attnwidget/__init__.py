"""attnwidget: look inside a transformer's attention from a notebook."""

from ._optional import MissingExtraError
from .attention import Attention
from .errors import ArgumentTypeError, AttentionError, AttentionIndexError, FileFormatError
from .extract import ModelError, extract, extract_hooks, generate, generation_step_row, readable_tokens
from .models import load_model
from .widgets.export import save_html
from .widgets import (AttentionDiff, AttentionGraph, AttentionHeatmap, Dashboard, HeadGrid, NeuronView, RolloutBar,
                      Selection, TokenText, link, show)
from . import charts, metrics
from .analysis import (analyze, compare_languages, compare_templates, evaluate_quality, head_roles, induction_scores,
                       report, segment_attention)
from .metrics import attention_flow, rollout

__all__ = ["Attention", "AttentionError", "ArgumentTypeError", "AttentionIndexError", "FileFormatError",
           "MissingExtraError", "ModelError", "extract", "extract_hooks", "generate", "generation_step_row",
           "load_model", "readable_tokens",
           "AttentionHeatmap", "HeadGrid", "RolloutBar", "AttentionGraph", "TokenText", "AttentionDiff", "NeuronView",
           "Selection",
           "Dashboard", "show", "link",
           "save_html",
           "metrics", "charts", "analyze", "report", "evaluate_quality", "segment_attention", "compare_templates",
           "compare_languages", "head_roles", "induction_scores", "rollout", "attention_flow"]
__version__ = "0.1.0"
