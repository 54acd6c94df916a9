"""save_html refuses a title that is not text.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import pytest
from helpers.refusal_data import att

import attnwidget as aw


def test_save_html_title_must_be_text(tmp_path):
    view = aw.AttentionHeatmap(att())
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"title must be a str or None; got 123"):
        aw.save_html(view, tmp_path / "a.html", title=123)
    with pytest.raises(aw.AttentionError, match=r"title holds a character that is not valid text .*lone surrogate"):
        aw.save_html(view, tmp_path / "a.html", title="a\ud800")
    assert not (tmp_path / "a.html").exists()
