"""Exact metric definitions on `Attention`, numpy only.

`rows` holds the metrics reduced over query rows (entropy, sparsity, locality, ...); `flow` the
metrics that follow attention through the layers (rollout, attention flow).
"""

from attnwidget.metrics.rows import *  # noqa: F403
from attnwidget.metrics.rows import __all__ as __all__
