"""AttentionDiff: the per-head summary against a direct loop, the maps it holds, and bad pairs refused."""

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.metrics import total_variation


def random_attention(seed, L=2, H=3, n=7, causal=True, tokens=None):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(L, H, n, n)) * 2
    mask = np.tril(np.ones((n, n), bool)) if causal else np.ones((n, n), bool)
    s = np.where(mask, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return aw.Attention(p.astype(np.float32), tokens or [f"t{i}" for i in range(n)], mask)


def test_summary_is_total_variation_per_head():
    a, b = random_attention(0), random_attention(1)
    view = aw.widgets.AttentionDiff(a, b)
    expected = np.zeros((2, 3))
    for layer in range(2):
        for h in range(3):
            rows = [
                0.5 * sum(abs(float(a.weights[layer, h, i, j]) - float(b.weights[layer, h, i, j])) for j in range(7))
                for i in range(7)
            ]
            expected[layer, h] = sum(rows) / 7
    np.testing.assert_allclose(view.summary(), expected, atol=1e-6)
    assert np.all(aw.widgets.AttentionDiff(a, a).summary() == 0)
    assert total_variation(np.eye(3)[None], np.eye(3)[::-1][None], np.ones((3, 3), bool))[0] == pytest.approx(2 / 3)


def test_pairs_by_position_across_layers_and_state_round_trips():
    att = random_attention(2, L=4)
    view = aw.widgets.AttentionDiff(att.select(layers=[1]), att.select(layers=[3]), names=("layer 1", "layer 3"))
    assert view.held_maps[0] == "1/mean"  # the selection (heads fused) comes first
    pair = view.pair(1, 2)
    np.testing.assert_array_equal(pair[0], att.head(1, 2))
    np.testing.assert_array_equal(pair[1], att.head(3, 2))
    state = view.get_state()
    assert state["_view_kind"] == "diff" and state["_names"] == ["layer 1", "layer 3"]
    assert state["_b_layer_ids"] == [3]
    maps = np.frombuffer(state["_maps"]["data"], np.float16).reshape(state["_maps"]["shape"])
    i = state["_maps"]["keys"].index("1/2")
    np.testing.assert_allclose(maps[i].astype(np.float32), pair, atol=1e-3)
    summary = np.frombuffer(state["_summary"]["data"], np.float32).reshape(state["_summary"]["shape"])
    np.testing.assert_allclose(summary, view.summary())


def test_selection_brings_missing_pairs_within_the_budget():
    a, b = random_attention(3, L=3, n=16), random_attention(4, L=3, n=16)
    pair_bytes = 2 * 16 * 16 * 2
    view = aw.widgets.AttentionDiff(a, b, max_bytes=2 * pair_bytes, layer=0, head=0)
    assert len(view.held_maps) == 2 and "0/0" in view.held_maps
    view.selection.layer, view.selection.head = 2, 1
    assert "2/1" in view.held_maps and len(view.held_maps) == 2
    view.selection.head = None
    assert "2/mean" in view.held_maps


def test_linked_to_other_views_of_a():
    a, b = random_attention(5), random_attention(6)
    heat = aw.AttentionHeatmap(a)
    view = aw.widgets.AttentionDiff(a, b, selection=heat.selection)
    view.hovered_token = 3
    assert heat.hovered_token == 3


def test_bad_pairs_are_named():
    a = random_attention(7)
    with pytest.raises(ValueError, match="same tokens"):
        aw.widgets.AttentionDiff(a, random_attention(8, tokens=[f"u{i}" for i in range(7)]))
    with pytest.raises(ValueError, match="same tokens; a is 7 x 7"):
        aw.widgets.AttentionDiff(a, random_attention(8, n=5))
    with pytest.raises(ValueError, match="pairs layers and heads by position"):
        aw.widgets.AttentionDiff(a, random_attention(8, L=3))
    with pytest.raises(ValueError, match="visible-key mask"):
        aw.widgets.AttentionDiff(a, random_attention(8, causal=False))
    with pytest.raises(ValueError, match="no log scale"):
        aw.widgets.AttentionDiff(a, a, scale="log")
    with pytest.raises(TypeError, match="needs an attnwidget.Attention"):
        aw.widgets.AttentionDiff(a, a.weights)
