"""attnwidget: look inside a transformer's attention from a notebook."""

from ._optional import MissingExtraError
from .attention import Attention
from .errors import ArgumentTypeError, AttentionError, AttentionIndexError, FileFormatError
from .extract import ModelError, extract, extract_hooks, generate, generation_step_row, readable_tokens
from .seq2seq import Seq2SeqAttention
from .patches import patch_map, patch_overlay
from .models import load_model
from .widgets.export import save_html
from .widgets import (AttentionDiff, AttentionGraph, AttentionHeatmap, Dashboard, HeadGrid, NeuronView,
                      PartsDashboard, RolloutBar, Selection, TokenText, link, show)
from . import charts, experiments, metrics
from .analysis import analyze, evaluate_quality, find_sinks, report, segment_attention, shape_score, tokens_span
from .experiments import compare_languages, compare_templates, head_roles, induction_scores
from .image import save_image
from .metrics import attention_flow, rollout
from .census import census

__all__ = ["Attention", "AttentionError", "ArgumentTypeError", "AttentionIndexError", "FileFormatError",
           "MissingExtraError", "ModelError", "Seq2SeqAttention", "patch_map", "patch_overlay", "extract",
           "extract_hooks", "generate",
           "generation_step_row",
           "load_model", "readable_tokens",
           "AttentionHeatmap", "HeadGrid", "RolloutBar", "AttentionGraph", "AttentionDiff", "NeuronView", "TokenText",
           "Selection", "Dashboard", "PartsDashboard", "show", "link",
           "save_html",
           "metrics", "charts", "experiments", "analyze", "report", "shape_score", "evaluate_quality", "find_sinks",
           "segment_attention", "tokens_span", "compare_templates", "compare_languages", "head_roles",
           "induction_scores", "save_image", "rollout", "attention_flow", "census"]
__version__ = "0.1.0"
