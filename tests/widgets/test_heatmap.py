"""AttentionHeatmap: state round-trips, the map budget, and errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import assert_coded, decode, held, over_the_wire, synthetic_attention

import attnwidget as aw
from attnwidget.widgets.data import MapStore
from attnwidget.widgets.payload import decode_maps


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_state_round_trip_carries_the_selected_map_coded(att):
    heat = aw.AttentionHeatmap(att, layer=1, head=6, scale="log", hide=[0], row_normalize=True, colormap="cividis")
    state = over_the_wire(heat)
    assert state["_view_kind"] == "heatmap"
    assert state["_tokens"] == att.tokens
    assert (state["scale"], state["hide"], state["row_normalize"], state["colormap"]) == ("log", [0], True, "cividis")
    # The view holds a reference; the maps are in the data model, coded and deflated.
    assert state["data"] == f"anywidget:{heat.data.model_id}" and "_maps" not in state
    raw = over_the_wire(heat.data)["_maps"]
    assert raw["keys"][0] == "1/6" and raw["maps"][0]["coding"] == "log8"
    assert raw["maps"][0]["cells"] == "causal" and isinstance(raw["maps"][0]["data"], (bytes, memoryview))
    maps = held(heat)
    # Against the weights themselves and against an independent fusion of the heads.
    assert_coded(maps["1/6"], att.weights[1, 6])
    assert_coded(maps["1/mean"], att.weights[1].mean(axis=0))
    assert state["_kv_of_head"] == [h // 4 for h in range(8)]
    assert state["_causal"] is True and state["_mask"] is None


def test_exact_precision_sends_float16(att):
    heat = aw.AttentionHeatmap(att, layer=1, head=6, precision="exact")
    p = heat.data._maps["maps"][0]
    assert p["coding"] == "float16"
    np.testing.assert_allclose(decode_maps(p), att.weights[1, 6], atol=1e-3, rtol=1e-3)


def test_views_of_one_attention_share_one_data_model(att):
    heat, graph = aw.AttentionHeatmap(att), aw.AttentionGraph(att)
    # Views built alone each hold their own maps; linking hands them the heatmap's (no registry
    # keyed by the attention finds one for them).
    assert heat.data is not graph.data
    old = graph.data
    aw.link(heat, graph)
    assert heat.data is graph.data and old.comm is None  # the graph's own maps are freed
    shown = aw.show(att)
    assert shown.heatmap.data is shown.graph.data is shown.tokentext.data
    graph.selection.layer = 2
    assert "2/mean" in heat.held_maps and heat.held_maps == graph.held_maps
    heat.close()
    assert graph.data.comm is not None  # still used by the graph
    graph.close()


def test_budget_keeps_the_selection_and_drops_the_least_recent(att):
    att = att.select(layers=[0, 1, 2])  # a fresh attention: its own data model, this budget
    probe = MapStore(att, 1)
    budget = sum(len(probe.compute(k)["data"]) for k in ("0/0", "0/mean", "0/1"))
    heat = aw.AttentionHeatmap(att, layer=0, head=0, max_bytes=budget)
    assert heat.held_maps == ["0/0", "0/mean", "0/1"]
    heat.layer, heat.head = 2, 7
    # Setting layer then head visits 2/0 on the way; each step evicts the least recently used.
    assert heat.held_maps[-2:] == ["2/0", "2/7"] and "0/0" not in heat.held_maps
    assert heat.data.store.held_bytes <= budget
    heat.head = None
    heat.fusion = "max"
    assert heat.held_maps[-1] == "2/max"
    assert_coded(held(heat)["2/max"], att.fuse("max", layer=2))


def test_everything_fits_for_short_inputs(att):
    heat = aw.AttentionHeatmap(att)
    assert len(heat.held_maps) == heat.data._maps["total"] == 3 * (8 + 3)


def test_tooltip_reads_the_exact_weight_from_the_kernel(att):
    heat = aw.AttentionHeatmap(att, hide=[0])
    sent = []
    heat.send = lambda content, buffers=None: sent.append(content)
    heat._on_msg(heat, {"type": "value", "id": "a", "key": "1/3", "i": 5, "j": 2, "hide": [0]}, [])
    row = att.weights[1, 3, 5].copy()
    row[0] = 0
    assert sent[-1]["type"] == "value" and sent[-1]["id"] == "a"
    assert sent[-1]["value"] == pytest.approx(row[2] / row.sum(), rel=1e-6)
    heat._on_msg(heat, {"type": "value", "id": "b", "key": "1/3", "i": 5, "j": 40}, [])
    assert sent[-1]["type"] == "value-error" and "out of range" in sent[-1]["message"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(layer=3), t.TraitError, r"layer 3 is out of range; this attention holds layers 0..2"),
        (dict(head=9), t.TraitError, r"head 9 is out of range"),
        (
            dict(scale="sqrt"),
            t.TraitError,
            r"'scale' trait .* expected any of \['linear', 'log', 'power'\], not the str 'sqrt'",
        ),
        (dict(gamma=0.0), t.TraitError, r"gamma \(power scale exponent\) must be in \(0, 10\]"),
        (
            dict(colormap="jet"),
            t.TraitError,
            r"'colormap' trait .* expected any of \['viridis', 'cividis', 'magma', 'greys'\]",
        ),
        (dict(hide=[12]), ValueError, r"hide: token position 12 is out of range for 12 tokens"),
        (dict(hide=["0"]), TypeError, r"hide must hold integer token positions"),
        (dict(max_bytes=0), ValueError, r"max_bytes must be a positive integer"),
        (dict(layers=1), TypeError, r"unexpected keyword argument\(s\) \['layers'\]"),
    ],
)
def test_bad_options_at_construction(att, kwargs, error, match):
    with pytest.raises(error, match=match):
        aw.AttentionHeatmap(att, **kwargs)


def test_bad_values_at_assignment(att):
    heat = aw.AttentionHeatmap(att)
    with pytest.raises(t.TraitError, match=r"layer -1 is out of range"):
        heat.layer = -1
    with pytest.raises(t.TraitError, match=r"'scale' trait .* expected any of"):
        heat.scale = "Log"
    with pytest.raises(t.TraitError, match=r"token position 40 is out of range"):
        heat.hide = [0, 40]
    assert heat.layer == 0 and heat.scale == "log" and heat.hide == []


def test_not_an_attention_is_named(att):
    with pytest.raises(
        TypeError, match=r"needs an attnwidget.Attention, got ndarray \(got an array of shape \(3, 8, 12, 12\)"
    ):
        aw.AttentionHeatmap(att.weights)
    with pytest.raises(TypeError, match=r"got tuple"):
        aw.AttentionHeatmap((att.weights, att.tokens))


def test_a_padding_mask_is_sent(att):
    mask = att.mask.copy()
    mask[:, 1] = False
    w = np.where(mask, att.weights, 0)
    w /= w.sum(-1, keepdims=True)
    padded = aw.Attention(w, att.tokens, mask)
    state = aw.AttentionHeatmap(padded).get_state()
    np.testing.assert_array_equal(decode(state["_mask"]).astype(bool), mask)


def test_options_of_another_view_are_refused(att):
    # layout is a trait of every ipywidget; here it would be a graph option given to the wrong view.
    with pytest.raises(TypeError, match=r"AttentionHeatmap\(\) got unexpected keyword argument\(s\) \['layout'\]"):
        aw.AttentionHeatmap(att, layout="arc")


def test_view_options_after_the_attention_are_keywords(att):
    # A layer, a threshold or a query given by position is a TypeError: each view takes the Attention alone.
    for view, extra in (
        (aw.AttentionHeatmap, (att.layer_ids[-1],)),
        (aw.AttentionGraph, (0.3,)),
        (aw.RolloutBar, (1,)),
    ):
        with pytest.raises(TypeError, match="positional argument"):
            view(att, *extra)
    assert aw.AttentionGraph(att, threshold=0.3).threshold == 0.3
    assert aw.RolloutBar(att, query=1).query == 1
