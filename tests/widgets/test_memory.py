"""Closed widgets are freed: close() lets the views, their selection and the attention be collected."""

from __future__ import annotations

import gc
import weakref

import pytest
from helpers.widget_data import tiny_attention

import attnwidget as aw


@pytest.fixture()
def att(tiny_llama, word_tokenizer):
    # A fresh attention per test, held by nothing else (pytest keeps fixture values alive).
    box = [tiny_attention(tiny_llama, word_tokenizer, n=20)]
    return box


@pytest.fixture()
def att_only(att):
    return att.pop()


def _refs(*objs):
    return [weakref.ref(o) for o in objs]


def _alive(refs):
    gc.collect()
    return [type(r()).__name__ for r in refs if r() is not None]


def test_closed_dashboard_frees_views_selection_and_attention(att):
    att = att.pop()
    dash = aw.show(att)
    refs = _refs(dash, *dash.views, dash.selection, att)
    assert len(refs) == 8  # dashboard, five views, selection, attention
    dash.close()
    del dash, att
    assert _alive(refs) == []


def test_closed_view_frees_its_own_selection(att):
    att = att.pop()
    view = aw.AttentionHeatmap(att)
    refs = _refs(view, view.selection, att)
    view.close()
    del view, att
    assert _alive(refs) == []


def test_closing_one_linked_view_keeps_the_shared_selection(att_only):
    att = att_only
    a, b = aw.AttentionHeatmap(att), aw.HeadGrid(att)
    sel = aw.link(a, b)
    a.close()
    assert sel.comm is not None and b.selection is sel
    b.selection.layer = 1  # the closed view no longer listens; the open one still works
    assert b.layer == 1
    refs = _refs(a)
    del a
    assert _alive(refs) == []
    b.close()


def test_link_closes_the_selection_it_replaces(att_only):
    att = att_only
    a, b = aw.AttentionHeatmap(att), aw.HeadGrid(att)
    old = b.selection
    aw.link(a, b)
    assert old.comm is None  # b made it, nothing else uses it
    a.close(), b.close()
