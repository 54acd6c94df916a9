"""Selection: the shared model, its validation, and linking views through it."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import over_the_wire, synthetic_attention

import attnwidget as aw


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_ranges_come_from_the_attention(att):
    sel = aw.widgets.Selection(att, layer=2, head=5)
    assert (sel.layer, sel.head, sel.fusion) == (2, 5, "mean")
    with pytest.raises(t.TraitError, match=r"layer 3 is out of range; this attention holds layers 0..2"):
        sel.layer = 3
    with pytest.raises(t.TraitError, match=r"head 8 is out of range"):
        sel.head = 8
    with pytest.raises(t.TraitError, match=r"'fusion' trait .* expected any of \['mean', 'max', 'min'\]"):
        sel.fusion = "median"
    with pytest.raises(t.TraitError, match=r"hovered_token=12 is out of range for 12 tokens"):
        sel.hovered_token = 12
    with pytest.raises(t.TraitError, match=r"expected an int"):
        sel.layer = "2"
    sel.hovered_token = None
    sel.head = None
    assert sel.head is None


def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['layers'\]"):
        aw.widgets.Selection(layers=2)


def test_link_shares_one_selection_and_python_sets_every_view(att):
    heat = aw.AttentionHeatmap(att)
    grid = aw.HeadGrid(att)
    graph = aw.AttentionGraph(att)
    assert heat.selection is not grid.selection
    sel = aw.link(heat, grid, graph)
    assert heat.selection is sel and grid.selection is sel and graph.selection is sel
    heat.layer = 2
    heat.head = 3
    assert (graph.layer, graph.head, grid.selection.layer) == (2, 3, 2)
    # The graph now holds the map it must draw.
    assert "2/3" in graph.held_maps
    # Every view's state references the same model, as "anywidget:<id>".
    refs = {v.get_state()["selection"] for v in (heat, grid, graph)}
    assert refs == {f"anywidget:{sel.model_id}"}


def test_a_hover_from_the_browser_is_a_trait_in_the_kernel(att):
    heat = aw.AttentionHeatmap(att)
    seen = []
    heat.selection.observe(lambda c: seen.append(c["new"]), names="hovered_token")
    # What the comm does with a state update from the frontend.
    heat.selection.set_state({"hovered_token": 4})
    assert heat.hovered_token == 4 and seen == [4]
    heat.selection.set_state({"layer": 1, "head": 2})
    assert "1/2" in heat.held_maps


def test_link_refuses_different_layers_and_non_views(att):
    other = att.select(layers=[0, 1])
    with pytest.raises(ValueError, match=r"cannot link views of attentions with different layers or heads"):
        aw.link(aw.AttentionHeatmap(att), aw.AttentionHeatmap(other))
    with pytest.raises(TypeError, match=r"link\(\) takes attnwidget views"):
        aw.link(aw.AttentionHeatmap(att), "heatmap")
    with pytest.raises(TypeError, match=r"at least one view"):
        aw.link()


def cross_attention(n_query: int = 6, n_key: int = 4, layers: int = 2, heads: int = 2) -> aw.Attention:
    """Cross-attention built in numpy: target rows (tokens of their own) over source keys."""
    rng = np.random.default_rng(1)
    w = rng.random((layers, heads, n_query, n_key)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(w, [f"s{j}" for j in range(n_key)], query_tokens=[f"t{i}" for i in range(n_query)])


def test_query_rows_of_cross_attention_are_fields_of_their_own():
    cross = cross_attention()
    heat = aw.AttentionHeatmap(cross)
    sel = heat.selection
    assert (sel._n_query_tokens, sel._n_key) == (6, 4)
    # Target row 5 exists though the source has 4 tokens; the key field keeps its own range.
    heat.hovered_query = 5
    heat.pinned_query = 0
    assert (sel.hovered_query, sel.pinned_query, sel.hovered_token) == (5, 0, None)
    with pytest.raises(t.TraitError, match=r"hovered_token=5 is out of range for 4 tokens"):
        sel.hovered_token = 5
    with pytest.raises(
        t.TraitError, match=r"pinned_query=6 is out of range for 6 query \(target\) tokens \(expected 0..5 or None\)"
    ):
        sel.pinned_query = 6
    with pytest.raises(t.TraitError, match=r"hovered_query=-1 is out of range"):
        sel.hovered_query = -1
    with pytest.raises(t.TraitError, match=r"'hovered_query' trait .* expected an int, not the str '2'"):
        sel.hovered_query = "2"
    with pytest.raises(t.TraitError, match=r"pinned_query must be an int; got True"):
        sel.pinned_query = True
    # From the browser, as the comm delivers it; and over the wire.
    sel.set_state({"hovered_query": 3, "pinned_query": None})
    assert heat.hovered_query == 3 and sel.pinned_query is None
    state = over_the_wire(sel)
    assert state["_n_query_tokens"] == 6 and state["hovered_query"] == 3
    # The cross graph of the same attention shares it.
    graph = aw.AttentionGraph(cross, selection=sel)
    assert graph.selection is sel and graph.hovered_query == 3
    heat.close()
    graph.close()


def test_square_attention_names_its_rows_by_hovered_token(att):
    sel = aw.widgets.Selection(att)
    assert sel._n_query_tokens == 0
    with pytest.raises(
        t.TraitError, match=r"hovered_query names a query row of cross-attention .* so hovered_token names them"
    ):
        sel.hovered_query = 1
    with pytest.raises(t.TraitError, match=r"pinned_query names a query row .* so pinned_token names them"):
        sel.pinned_query = 1
    sel.hovered_query = None  # clearing is always fine
    assert aw.widgets.Selection(cross_attention(), pinned_query=2).pinned_query == 2
    with pytest.raises(t.TraitError, match=r"pinned_query=9 is out of range"):
        aw.widgets.Selection(cross_attention(), pinned_query=9)


def test_link_refuses_cross_attention_over_other_targets():
    a, b = cross_attention(n_query=6), cross_attention(n_query=5)
    with pytest.raises(aw.AttentionError, match=r"different numbers of query \(target\) tokens \(6 and 5\)"):
        aw.link(aw.AttentionHeatmap(a), aw.AttentionHeatmap(b))
