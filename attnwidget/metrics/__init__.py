"""Exact metric definitions on `Attention`, numpy only.

`rows` holds the metrics reduced over query rows (entropy, sparsity, locality, ...); `flow` the
metrics that follow attention through the layers (rollout, attention flow); `compare` the
distances between maps (total variation, head similarity).
"""

from attnwidget.metrics.compare import *  # noqa: F403
from attnwidget.metrics.compare import __all__ as _compare_all
from attnwidget.metrics.flow import *  # noqa: F403
from attnwidget.metrics.flow import __all__ as _flow_all
from attnwidget.metrics.rows import *  # noqa: F403
from attnwidget.metrics.rows import __all__ as _rows_all

__all__ = [*_rows_all, *_flow_all, *_compare_all]
