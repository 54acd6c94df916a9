"""show() and Dashboard: five views on one selection; the bundled SmolLM2 end to end."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.widget_data import assert_coded, decode, held, over_the_wire, synthetic_attention

import attnwidget as aw


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_show_links_five_views(att):
    dash = aw.show(att, layer=1, head=2, scale="log", hide=[0])
    views = dash.views
    assert [v._view_kind for v in views] == ["heatmap", "headgrid", "rollout", "graph", "tokentext"]
    assert len({id(v.selection) for v in views}) == 1
    assert all(v.scale == "log" and v.hide == [0] for v in views)
    state = dash.get_state()
    assert state["heatmap"] == f"anywidget:{views[0].model_id}"
    assert state["selection"] == f"anywidget:{views[0].selection.model_id}"
    views[1].selection.set_state({"layer": 2, "head": 0})  # a thumbnail click in the browser
    assert views[0].layer == 2 and "2/0" in views[3].held_maps


def test_show_without_rollout_for_non_consecutive_layers(att):
    dash = aw.show(att.select(layers=[0, 2]))
    assert dash.rollout is None and len(dash.views) == 4


def test_show_draws_attention_whose_rows_after_the_first_are_all_masked():
    # Sink mass and previous-token share count query rows after the first token; with each of those
    # masked out no row qualifies, so the head grid gets the entropy tint and no badge.
    w = np.zeros((1, 1, 2, 2), np.float32)
    w[..., 0, :] = 0.5
    att = aw.Attention(w, ["a", "b"], mask=np.array([[True, True], [False, False]]))
    dash = aw.show(att)
    assert list(dash.headgrid._tints) == ["entropy (nats)"]
    assert dash.headgrid._labels == [[""]]


def test_show_rejects_unknown_options(att):
    with pytest.raises(TypeError, match=r"show\(\) got unexpected keyword argument\(s\) \['colour'\]"):
        aw.show(att, colour="red")


@pytest.fixture(scope="module")
def smol_att(smollm2):
    model, tokenizer = smollm2
    text = "The quick brown fox jumps over the lazy dog. " * 12
    return aw.extract(model, tokenizer, text)


@pytest.mark.slow
def test_smollm2_dashboard_state_stays_within_budget(smol_att):
    att = smol_att
    assert att.shape[:2] == (30, 9) and att.num_kv_heads == 3
    dash = aw.show(att, layer=5, head=2)
    heat = dash.heatmap
    assert all(v.data is heat.data for v in (heat, dash.graph))  # the maps are held once
    total = 0
    for w in (*dash.views, heat.data):
        state = over_the_wire(w)
        for p in state.values():
            if isinstance(p, dict) and "data" in p:
                total += len(bytes(p["data"]))
            if isinstance(p, dict) and "maps" in p:  # a list of coded maps, or the graph's exact edges by key
                maps = p["maps"].values() if isinstance(p["maps"], dict) else p["maps"]
                total += sum(len(bytes(m["data"])) for m in maps)
    assert "5/2" in heat.held_maps
    # Default budgets: 384 KB of coded maps, 1 MB of thumbnail cells (deflated: less), two rollouts.
    n = att.n_key
    assert total <= 384 * 2**10 + 2**20 + 2 * n * n
    assert_coded(held(heat)["5/2"], att.head(5, 2))
    thumbs = decode(dash.headgrid._thumbs)
    assert thumbs.shape[:2] == (30, 9)
    # A sink on the first token: the head grid's thumbnails show it in most heads.
    assert np.median(thumbs[..., 1:, 0].mean(-1)) > 0.2


def test_lazy_attention_is_drawn_without_materialising(tiny_llama, word_tokenizer, monkeypatch):
    from helpers.widget_data import drawn_thumbnails, words

    lazy = aw.extract(tiny_llama, word_tokenizer, words(12), lazy=True)
    eager = aw.extract(tiny_llama, word_tokenizer, words(12))
    assert lazy.is_lazy

    def refuse(self):
        raise AssertionError("a widget asked for every weight at once")

    monkeypatch.setattr(aw.Attention, "weights", property(refuse))
    dash = aw.show(lazy, layer=1, head=3, hide=[0])
    dash.heatmap.layer = 2
    assert_coded(held(dash.heatmap)["1/3"], eager.head(1, 3))
    np.testing.assert_allclose(drawn_thumbnails(dash.headgrid)[2, 5, 3, 1:].sum(), 1, atol=0.03)


def test_views_keep_the_widget_protocol_traits(att):
    # A view trait that shadows one of ipywidgets' (_model_name, layout...) breaks notebook hosts
    # while exported pages still work; every view must still be an AnyModel/AnyView.
    dash = aw.show(att)
    for w in [dash, *dash.views, dash.heatmap.selection]:
        state = w.get_state()
        assert (state["_model_name"], state["_model_module"]) == ("AnyModel", "anywidget"), type(w).__name__
        assert (state["_view_name"], state["_view_module"]) == ("AnyView", "anywidget"), type(w).__name__
        assert state["layout"].startswith("IPY_MODEL_"), type(w).__name__


def test_toolbar_writes_reach_every_view_and_the_kernel_refuses_bad_ones(att, caplog):
    # The dashboard's toolbar writes scale, gamma, colours and hiding to every view's model; each
    # view's kernel side checks the value like one set from Python and keeps its last valid state.
    dash = aw.show(att, scale="log")
    for view in dash.views:
        view.set_state({"scale": "power", "gamma": 0.5, "colormap": "magma", "hide": [0]})
    assert {(v.scale, v.gamma, v.colormap, tuple(v.hide)) for v in dash.views} == {("power", 0.5, "magma", (0,))}
    bad = [{"scale": "cubic"}, {"gamma": -1.0}, {"gamma": 0.0}, {"colormap": "rainbow"}, {"hide": [att.n_key + 5]}]
    for view in dash.views:
        for update in bad:
            view.set_state(update)
    assert {(v.scale, v.gamma, v.colormap, tuple(v.hide)) for v in dash.views} == {("power", 0.5, "magma", (0,))}
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == len(bad) * len(dash.views)
    # Row normalisation is the heatmap's own: the other views take no such write.
    dash.heatmap.set_state({"row_normalize": True})
    assert dash.heatmap.row_normalize is True
    dash.headgrid.set_state({"row_normalize": True})
    assert not hasattr(dash.headgrid, "row_normalize") or dash.headgrid.row_normalize is not True
