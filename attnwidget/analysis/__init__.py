"""What an `Attention` means: per-head tables, reports with recommendations, prompt parts, head roles,
census.

One job per module: `table` (`Table`, the result type), `heads` (sinks, the per-head table
`analyze`, head roles from scores, the head grid's hints), `report` (`report`, `shape_score`),
`segments` (`segment_attention`, `tokens_span`), `census` (per-head averages over many prompts) and
`experiments` (the analyses that run the model: templates judged by their outcome, languages,
induction, `head_roles`; also reachable as ``aw.experiments``). Results never draw themselves:
`attnwidget.widgets.charts` takes them.

Every number comes from `attnwidget.metrics.rows` on maps chosen here, and each name means one thing in
every function of this package:

Sinks
    Keys that heads park attention on whatever the text says: the first token always, and any
    other key that some head gives, on average over the query rows that see it (its own row left
    out, at least `min_rows` of them), at least `threshold` of its attention (`find_sinks`). By
    default (``hide="sinks"``) sinks are reported apart as ``sink_share`` and every other measure
    is taken on the rest: each query row with the sink keys removed and renormalised over the
    keys it still sees. ``hide=None`` measures the raw maps; ``hide=[0, 5]`` removes given keys.
sink_share
    Mean over query rows of the attention on the sink keys (raw maps, never renormalised).
entropy
    Row entropy ``-sum_j a_ij ln a_ij`` in nats, mean over the query rows that see a key; computed
    per head, then averaged over heads (and over layers for one number per text).
normalized_entropy
    Each row's entropy divided by ``ln(keys it sees)``: 1 is uniform, whatever the length. Rows
    that see one key are left out.
sparsity
    Fraction of the visible entries strictly below `sparsity_threshold` (0.01).
locality
    Mean over rows of ``1 / (1 + sum_j |i - j| a_ij)``. Its baseline ``locality_uniform`` is the same
    measure on uniform rows over the same visible keys, so a long prompt is not called non-local for
    being long.
share (of a part)
    Mean over the chosen query rows and heads of the attention on that part's tokens
    (`segment_attention`); with sinks apart the shares of the parts, "other" and "sinks" sum to 1.
"""

from attnwidget.analysis import experiments
from attnwidget.analysis.heads import analyze, find_sinks, role_counts, roles_from_scores
from attnwidget.analysis.many_prompts import Census, census
from attnwidget.analysis.reporting import Report, ShapeScore, report, shape_score
from attnwidget.analysis.segments import SegmentAttention, TokenSpan, segment_attention, tokens_span
from attnwidget.analysis.table import Table

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
    "roles_from_scores",
    "shape_score",
    "ShapeScore",
    "census",
    "Census",
    "experiments",
]
