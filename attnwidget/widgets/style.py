"""The views' stylesheet, read once at import and given to anywidget as ``_css``.

anywidget puts ``_css`` where the view is drawn: the notebook page, an exported page, or a shadow
root (marimo draws each widget in one, where a stylesheet added to ``document.head`` never
reaches). The rules and the colour variables that follow the host's theme live in ``style.css``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STYLE"]

STYLE: str = (Path(__file__).resolve().parent / "style.css").read_text(encoding="utf-8")
