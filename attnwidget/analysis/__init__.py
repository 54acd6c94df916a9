"""What an `Attention` means: tables, sinks, the report, prompt parts, head roles, census.

`experiments` holds the analyses that run the model (templates judged by their outcome,
languages, induction); it is also reachable as ``aw.experiments``.
"""

from attnwidget.analysis import experiments
from attnwidget.analysis.census import Census, census
from attnwidget.analysis.core import (
    Report,
    SegmentAttention,
    Table,
    TokenSpan,
    analyze,
    find_sinks,
    report,
    role_counts,
    segment_attention,
    shape_score,
    tokens_span,
)

__all__ = [
    "Table",
    "analyze",
    "report",
    "Report",
    "find_sinks",
    "segment_attention",
    "SegmentAttention",
    "tokens_span",
    "TokenSpan",
    "role_counts",
    "shape_score",
    "census",
    "Census",
    "experiments",
]
