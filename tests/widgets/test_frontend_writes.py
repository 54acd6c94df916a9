"""What the browser may write: ``update`` messages reach the views the way ipywidgets delivers them
(``Widget._handle_msg`` with method "update"), and only the traits the views' controls set are kept,
each checked like the same value set from Python. Everything else keeps the kernel's value and is
logged, so a message cannot put script into a saved page or widen a range."""

from __future__ import annotations

import logging

import pytest
from helpers.widget_data import synthetic_attention

import attnwidget as aw


def update(widget, **state) -> None:
    """Deliver `state` as the frontend does: a comm message with method "update"."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})


def test_frontend_cannot_replace_the_bundle(tmp_path, caplog):
    heat = aw.AttentionHeatmap(synthetic_attention())
    esm = heat._esm
    with caplog.at_level(logging.WARNING, logger="attnwidget.widgets"):
        update(heat, _esm="alert('injected-by-frontend')")
    assert heat._esm == esm
    assert any("_esm" in r.getMessage() for r in caplog.records)
    page = aw.save_html(heat, tmp_path / "page.html").read_text(encoding="utf-8")
    assert "injected-by-frontend" not in page


@pytest.mark.parametrize(
    "name", ["_esm", "_prompt_length", "_n_key", "_layer_ids", "_model_name", "layout", "_dom_classes"]
)
def test_selection_keeps_kernel_traits(name):
    sel = aw.AttentionHeatmap(synthetic_attention(n=12)).selection
    before = sel.get_state()[name]
    update(sel, **{name: "x" if isinstance(before, str) else 1000})
    assert sel.get_state()[name] == before


def test_frontend_cannot_widen_the_token_range():
    heat = aw.AttentionHeatmap(synthetic_attention(n=12))
    sel = heat.selection
    update(sel, _n_key=10_000)
    assert sel._n_key == 12
    update(sel, pinned_token=5000)
    assert sel.pinned_token is None
    update(sel, pinned_token=11)
    assert sel.pinned_token == 11


@pytest.mark.parametrize(
    "state",
    [
        {"layer": 99},
        {"head": -4},
        {"hovered_token": "3"},
        {"pinned_token": 12},
        {"fusion": "median"},
        {"step": 0},  # not attention from aw.generate
        {"hovered_query": 1},  # queries are key tokens here
    ],
)
def test_selection_checks_what_the_frontend_writes(state, caplog):
    sel = aw.AttentionHeatmap(synthetic_attention(n=12, layers=3)).selection
    before = sel.get_state()
    with caplog.at_level(logging.WARNING, logger="attnwidget.widgets"):
        update(sel, **state)
    assert sel.get_state() == before
    assert caplog.records, "a refused write is logged"


def test_good_values_of_one_message_are_kept_beside_a_bad_one():
    sel = aw.AttentionHeatmap(synthetic_attention(n=12, layers=3)).selection
    update(sel, layer=2, head=1, pinned_token=400, _n_key=1000)
    assert (sel.layer, sel.head, sel.pinned_token, sel._n_key) == (2, 1, None, 12)


def test_views_check_their_controls_and_refuse_the_rest():
    att = synthetic_attention(n=12)
    heat, graph = aw.AttentionHeatmap(att), aw.AttentionGraph(att)
    update(heat, scale="linear", row_normalize=True, hide=[0])
    assert (heat.scale, heat.row_normalize, heat.hide) == ("linear", True, [0])
    update(heat, scale="cubic", gamma=-1.0, hide=[99], precision="exact", _tokens=["x"] * 12, _tiles=[{"id": "x"}])
    assert (heat.scale, heat.gamma, heat.hide, heat.precision) == (
        "linear",
        aw.widgets.base.DEFAULT_GAMMA,
        [0],
        "coded",
    )
    assert heat._tokens == list(att.tokens) and heat._tiles == []
    sel, data = graph.selection, graph.data
    update(graph, threshold=2.0, overlay=[99], selection="IPY_MODEL_x", data="IPY_MODEL_x")
    assert (graph.threshold, graph.overlay) == (0.1, [])
    assert graph.selection is sel and graph.data is data
    update(graph, threshold=0.3, arrangement="force")
    assert (graph.threshold, graph.arrangement) == (0.3, "force")


def test_dashboard_and_data_models_take_no_frontend_writes():
    dash = aw.show(synthetic_attention(n=12))
    notes = list(dash.notes)
    update(dash, notes=["<script>"], _view_kind="x", _esm="alert(2)")
    assert dash.notes == notes and dash._view_kind == "dashboard" and "alert(2)" not in dash._esm
    data = dash.heatmap.data
    maps = data._maps
    update(data, _maps={})
    assert data._maps is maps
    dash.close()


def test_closed_dashboard_leaves_no_widget_registered():
    # ipywidgets makes a Layout widget for every DOM widget; closing the widget leaves it
    # registered (and held) unless the widget closes it too.
    from ipywidgets.widgets.widget import _instances

    att = synthetic_attention(n=12)
    aw.show(att).close()  # first use imports and registers whatever is made once
    before = set(_instances)
    for _ in range(2):
        aw.show(att).close()
    assert set(_instances) == before
