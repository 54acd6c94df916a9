"""attnwidget: look inside a transformer's attention from a notebook."""

from . import charts, experiments, metrics
from ._optional import MissingExtraError
from .analysis import analyze, evaluate_quality, find_sinks, report, segment_attention, shape_score, tokens_span
from .attention import Attention
from .census import census
from .errors import (
    ArgumentTypeError,
    AttentionError,
    AttentionIndexError,
    FileFormatError,
    NoQualifyingRowError,
    ViewIndexError,
)
from .experiments import compare_languages, compare_templates, head_roles, induction_scores
from .extract import ModelError, extract, extract_hooks, generate, generation_step_row, readable_tokens
from .image import save_image
from .metrics import attention_flow, rollout
from .models import load_model
from .patches import patch_map, patch_overlay
from .seq2seq import Seq2SeqAttention
from .widgets import (
    AttentionDiff,
    AttentionGraph,
    AttentionHeatmap,
    Dashboard,
    HeadGrid,
    NeuronView,
    PartsDashboard,
    RolloutBar,
    Selection,
    TokenText,
    link,
    show,
)
from .widgets.export import save_html

__all__ = [
    "Attention",
    "AttentionError",
    "ArgumentTypeError",
    "AttentionIndexError",
    "FileFormatError",
    "NoQualifyingRowError",
    "ViewIndexError",
    "MissingExtraError",
    "ModelError",
    "Seq2SeqAttention",
    "patch_map",
    "patch_overlay",
    "extract",
    "extract_hooks",
    "generate",
    "generation_step_row",
    "load_model",
    "readable_tokens",
    "AttentionHeatmap",
    "HeadGrid",
    "RolloutBar",
    "AttentionGraph",
    "AttentionDiff",
    "NeuronView",
    "TokenText",
    "Selection",
    "Dashboard",
    "PartsDashboard",
    "show",
    "link",
    "save_html",
    "metrics",
    "charts",
    "experiments",
    "analyze",
    "report",
    "shape_score",
    "evaluate_quality",
    "find_sinks",
    "segment_attention",
    "tokens_span",
    "compare_templates",
    "compare_languages",
    "head_roles",
    "induction_scores",
    "save_image",
    "rollout",
    "attention_flow",
    "census",
]
__version__ = "0.1.0"
