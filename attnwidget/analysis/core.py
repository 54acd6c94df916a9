"""Transitional: `attnwidget/__init__.py` still imports ``analyze`` and ``report`` from here.

The module was split into `table`, `heads`, `report` and `segments`; delete this file once the
top-level package imports ``from attnwidget.analysis import analyze, report``.
"""

from attnwidget.analysis.heads import analyze
from attnwidget.analysis.report import report

__all__ = ["analyze", "report"]
