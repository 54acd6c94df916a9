"""Selection: the shared model, its validation, and linking views through it."""

from __future__ import annotations

import pytest
import traitlets as t
from widget_data import synthetic_attention

import attnwidget as aw


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_ranges_come_from_the_attention(att):
    sel = aw.Selection(att, layer=2, head=5)
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
        aw.Selection(layers=2)


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
