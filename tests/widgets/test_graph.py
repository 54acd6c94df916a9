"""AttentionGraph: threshold and layout validation, maps it draws from."""

from __future__ import annotations

import math

import pytest
import traitlets as t
from helpers.widget_data import assert_coded, held, over_the_wire, synthetic_attention

import attnwidget as aw


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_state_round_trip(att):
    g = aw.AttentionGraph(att, threshold=0.25, arrangement="force", layer=2, head=1)
    state = over_the_wire(g)
    assert (state["_view_kind"], state["threshold"], state["arrangement"]) == ("graph", 0.25, "force")
    assert state["layout"].startswith("IPY_MODEL_")  # the CSS box every ipywidget has, untouched
    assert state["data"] == f"anywidget:{g.data.model_id}"
    assert g.held_maps[0] == "2/1"
    assert_coded(held(g)["2/1"], att.head(2, 1))


@pytest.mark.parametrize("bad", [-0.01, 1.5, math.nan, math.inf])
def test_threshold_outside_0_1_is_refused(att, bad):
    with pytest.raises(t.TraitError, match=r"threshold must be a weight in \[0, 1\]"):
        aw.AttentionGraph(att, threshold=bad)
    g = aw.AttentionGraph(att)
    with pytest.raises(t.TraitError, match=r"threshold must be a weight in \[0, 1\]"):
        g.threshold = bad
    assert g.threshold == 0.1


def test_arrangement_is_checked(att):
    with pytest.raises(
        t.TraitError, match=r"'arrangement' trait .* expected any of \['arc', 'force'\], not the str 'circle'"
    ):
        aw.AttentionGraph(att, arrangement="circle")


def test_overlay_holds_each_heads_map_and_is_checked(att):
    graph = aw.AttentionGraph(att, layer=1, overlay=[0, 2], max_bytes=2**20)
    assert {"1/0", "1/2"} <= set(graph.held_maps)
    assert_coded(held(graph)["1/2"], att.head(1, 2))
    graph.selection.layer = 0  # the overlaid heads follow the layer
    assert {"0/0", "0/2"} <= set(graph.held_maps)
    with pytest.raises(t.TraitError, match="overlay must list up to 6 distinct head numbers"):
        graph.overlay = [0, 0]
    with pytest.raises(t.TraitError, match="overlay must list up to 6 distinct head numbers"):
        aw.AttentionGraph(att, overlay=[99])
