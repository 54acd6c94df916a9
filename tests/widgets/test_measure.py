"""The heatmap's `measure` trait: weights and value-weighted norms of one text, both held in the
state through two data models; switching changes what the view reads; mismatched attentions refused."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import assert_coded, decode, over_the_wire

import attnwidget as aw
from attnwidget.extraction.norms import norm_attention
from attnwidget.widgets.data import MapStore
from attnwidget.widgets.payload import coded_bytes

L, H, N = 2, 3, 10


def random_attention(seed: int = 0, tokens=None) -> aw.Attention:
    rng = np.random.default_rng(seed)
    w = np.tril(rng.random((L, H, N, N)).astype(np.float32) + 0.01)
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(w, tokens or [f"t{i}" for i in range(N)], np.tril(np.ones((N, N), bool)))


@pytest.fixture
def pair():
    att = random_attention()
    # Value norms with a small first token: the norm map moves weight away from position 0.
    norms = np.random.default_rng(1).uniform(0.5, 3.0, (L, H, N)).astype(np.float32)
    norms[:, :, 0] = 0.05
    return att, norm_attention(att, norms)


def held_map(data, key: str) -> np.ndarray:
    state = over_the_wire(data)["_maps"]
    return decode(state["maps"][state["keys"].index(key)])


def test_both_measures_are_held_and_switching_changes_the_read_map(pair):
    att, norm = pair
    heat = aw.AttentionHeatmap(att, layer=1, head=2, norms=norm)
    assert heat.measure == "weights" and heat.measured is att
    assert heat.norms_data is not None and heat.norms_data is not heat.data
    # The state holds the selected map of each measure, each the right one.
    assert_coded(held_map(heat.data, "1/2"), att.head(1, 2))
    assert_coded(held_map(heat.norms_data, "1/2"), norm.head(1, 2))
    assert not np.allclose(att.head(1, 2), norm.head(1, 2), rtol=0.1)
    # The kernel answers tooltips and tiles from the measure drawn (or the one asked for).
    sent = []
    heat.send = lambda content, buffers=None: sent.append(content)
    heat._on_msg(heat, {"type": "value", "id": "a", "key": "1/2", "i": 5, "j": 0}, [])
    assert sent[-1]["value"] == pytest.approx(att.head(1, 2)[5, 0], rel=1e-6)
    heat.measure = "norms"
    assert heat.measured is norm
    heat._on_msg(heat, {"type": "value", "id": "b", "key": "1/2", "i": 5, "j": 0}, [])
    assert sent[-1]["value"] == pytest.approx(norm.head(1, 2)[5, 0], rel=1e-6)
    heat._on_msg(heat, {"type": "value", "id": "c", "key": "1/2", "i": 5, "j": 0, "measure": "weights"}, [])
    assert sent[-1]["value"] == pytest.approx(att.head(1, 2)[5, 0], rel=1e-6)
    np.testing.assert_allclose(heat.tile("0/mean", 0, N, 0, N), norm.fuse("mean", layer=0) * norm.mask, rtol=1e-6)
    heat._on_msg(heat, {"type": "value", "id": "d", "key": "1/2", "i": 5, "j": 0, "measure": "both"}, [])
    assert sent[-1]["type"] == "value-error" and "measure must be one of" in sent[-1]["message"]


def test_a_new_selection_fills_both_data_models(pair):
    att, norm = pair
    heat = aw.AttentionHeatmap(att, layer=0, head=0, norms=norm, measure="norms", max_bytes=3000)
    heat.selection.layer, heat.selection.head = 1, 1
    assert "1/1" in heat.held_maps and "1/1" in heat.held_norm_maps
    assert_coded(held_map(heat.norms_data, "1/1"), norm.head(1, 1))


def test_show_and_saved_pages_carry_both(pair, tmp_path):
    att, norm = pair
    dash = aw.show(att, norms=norm)
    assert dash.heatmap.norms is norm and dash.heatmap.measure == "weights"
    page = aw.save_html(dash, tmp_path / "both.html").read_text()
    assert dash.heatmap.norms_data.model_id in page and dash.heatmap.data.model_id in page


def test_show_names_weights_on_the_views_without_the_switch(pair):
    att, norm = pair
    dash = aw.show(att, norms=norm)
    others = [dash.headgrid, dash.rollout, dash.graph, dash.tokentext]
    assert [v._measure_name for v in others] == ["weights"] * 4
    assert dash.heatmap._measure_name == ""  # its title follows its own measure control
    plain = aw.show(att)
    assert {v._measure_name for v in plain.views} == {""}


def test_closing_releases_the_norm_maps(pair):
    att, norm = pair
    heat = aw.AttentionHeatmap(att, norms=norm)
    data = heat.norms_data
    heat.close()
    assert data.comm is None and heat.norms is None


def test_without_norms_the_view_refuses_the_norms_measure(pair):
    att, _ = pair
    heat = aw.AttentionHeatmap(att)
    assert heat.norms_data is None and heat.held_norm_maps == []
    with pytest.raises(t.TraitError, match=r"measure='norms' needs the value-weighted attention"):
        heat.measure = "norms"
    with pytest.raises(ValueError, match=r"measure='norms' needs the value-weighted attention"):
        aw.AttentionHeatmap(att, measure="norms")
    with pytest.raises(ValueError, match=r"measure must be one of \('weights', 'norms'\); got 'norm'"):
        aw.AttentionHeatmap(att, measure="norm")
    with pytest.raises(t.TraitError, match=r"'measure' trait .* expected any of \['weights', 'norms'\]"):
        heat.measure = "norm"


def test_mismatched_attentions_are_named(pair):
    att, norm = pair
    with pytest.raises(TypeError, match=r"norms= takes the attnwidget.Attention .* got ndarray"):
        aw.AttentionHeatmap(att, norms=norm.weights)
    with pytest.raises(ValueError, match=r"norms= holds attention weights, not value-weighted norms"):
        aw.AttentionHeatmap(att, norms=random_attention(2))
    with pytest.raises(ValueError, match=r"first argument holds value-weighted norms already"):
        aw.AttentionHeatmap(norm, norms=norm)
    with pytest.raises(ValueError, match=r"norms have shape \(1, 3, 10, 10\) .* but the weights \(2, 3, 10, 10\)"):
        aw.AttentionHeatmap(att, norms=norm.select(layers=[1]))
    other = norm_attention(random_attention(0, tokens=[f"t{i}" for i in range(N - 1)] + ["end"]), np.ones((L, H, N)))
    with pytest.raises(
        ValueError, match=r"other tokens than the weights \(first difference at position 9: 't9' vs 'end'\)"
    ):
        aw.AttentionHeatmap(att, norms=other)
    with pytest.raises(ValueError, match=r"norms hold heads \[0, 2, 1\] but the weights \[0, 1, 2\]"):
        aw.AttentionHeatmap(att.select(heads=[0, 1, 2]), norms=norm.select(heads=[0, 2, 1]))
    with pytest.raises(ValueError, match=r"norms"):
        aw.show(att, norms=random_attention(2))


@pytest.mark.parametrize("view", [aw.AttentionGraph, aw.TokenText])
def test_graph_and_token_text_hold_both_measures(pair, view):
    att, norm = pair
    v = view(att, layer=1, head=0, norms=norm, measure="norms")
    assert v.measure == "norms" and v.measured is norm
    assert_coded(held_map(v.norms_data, "1/0"), norm.head(1, 0))
    assert_coded(held_map(v.data, "1/0"), att.head(1, 0))
    v.measure = "weights"
    assert v.measured is att
    with pytest.raises(ValueError, match=rf"{view.__name__}: norms= holds attention weights"):
        view(att, norms=random_attention(3))
    with pytest.raises(t.TraitError, match=r"measure='norms' needs the value-weighted attention"):
        view(att).measure = "norms"


def test_overlaid_graph_heads_join_both_data_models(pair):
    att, norm = pair
    # A budget of two maps: the overlaid heads are held because the overlay asks for them.
    sizes = [coded_bytes(MapStore(a, 10**6).compute(f"0/{h}")) for a in (att, norm) for h in (0, 1, 2, "mean")]
    g = aw.AttentionGraph(att, layer=0, head=0, norms=norm, max_bytes=2 * max(sizes))
    assert "0/1" not in g.held_norm_maps
    g.overlay = [1, 2]
    for h in (1, 2):
        assert f"0/{h}" in g.held_maps and f"0/{h}" in g.held_norm_maps
