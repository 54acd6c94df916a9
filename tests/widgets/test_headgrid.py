"""HeadGrid: thumbnails (pooled, quantised, renormalised), tint and order, errors."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import assert_coded, decode, drawn_thumbnails, over_the_wire, synthetic_attention

import attnwidget as aw
from attnwidget.widgets import payload


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def test_thumbnails_decode_to_the_weights_within_the_coded_precision(att):
    grid = aw.HeadGrid(att)
    state = over_the_wire(grid)
    assert state["_pool"] == 1 and state["_thumbs"]["coding"] == "log8"
    thumbs = decode(state["_thumbs"])
    assert thumbs.shape == (3, 8, 12, 12)
    w = att.weights
    want = np.where(w > 0, np.maximum(w, payload.FLOOR), 0)
    np.testing.assert_allclose(thumbs, want, rtol=payload.RELATIVE_PRECISION * 1.0001, atol=0)
    assert np.all((thumbs == 0) == (w == 0))  # exact zeros (masked cells) stay zero


def test_log8_code_keeps_weights_a_linear_uint8_code_rounds_to_zero():
    # A sink row: 0.9 on one key, the rest between 1e-4 and 1e-2.
    row = np.concatenate([[0.9], np.geomspace(1e-4, 1e-2, 15)])[None, None, :]
    got = decode(payload.code_maps(row))
    linear = np.rint(row / 0.9 * 255) / 255 * 0.9
    assert np.sum(linear[..., 1:] == 0) >= 5
    np.testing.assert_allclose(got, row, rtol=payload.RELATIVE_PRECISION * 1.0001)


def test_exact_precision_keeps_float16(att):
    grid = aw.HeadGrid(att, precision="exact")
    assert grid._thumbs["coding"] == "float16"
    np.testing.assert_allclose(decode(grid._thumbs), att.weights, rtol=1e-3, atol=6e-8)


def test_long_inputs_are_max_pooled_to_the_budget(att):
    grid = aw.HeadGrid(att, max_bytes=2 * 3 * 8 * 6 * 6)  # two sets of 6 x 6 thumbnails
    assert grid._pool == 2
    thumbs = decode(grid._thumbs)
    assert thumbs.shape == (3, 8, 6, 6)
    # Independent max over each 2 x 2 block.
    want = att.weights.reshape(3, 8, 6, 2, 6, 2).max(axis=(3, 5))
    assert_coded(thumbs, want)  # within the coding's stated precision


def test_hidden_tokens_are_removed_and_rows_renormalised(att):
    grid = aw.HeadGrid(att, hide=[0])
    thumbs = decode(grid._thumbs)
    assert np.all(thumbs[..., 0] == 0)
    live = att.mask[:, 1:].any(axis=1)
    sums = thumbs.sum(-1)[..., live]
    np.testing.assert_allclose(sums, 1, atol=0.03)
    grid.hide = []
    assert grid._thumbs_hide == [] and decode(grid._thumbs)[..., 1:, 0].max() > 0


def test_state_also_holds_thumbnails_with_the_first_token_toggled(att):
    grid = aw.HeadGrid(att)
    assert grid._thumbs_hide == [] and grid._thumbs_alt_hide == [0]
    assert_coded(decode(grid._thumbs_alt), hidden_by_hand(att, [0], 1))
    grid.hide = [0, 2]
    assert grid._thumbs_alt_hide == [2]
    # Pooled: 1728 cells for 3 x 8 heads and two sets is 6 x 6 a thumbnail, so 2 x 2 blocks.
    pooled = aw.HeadGrid(att, max_bytes=1728)
    assert pooled._pool == 2
    assert_coded(decode(pooled._thumbs), hidden_by_hand(att, [], 2))
    assert_coded(decode(pooled._thumbs_alt), hidden_by_hand(att, [0], 2))


def hidden_by_hand(att, hide, factor):
    """Thumbnails from the definition: hidden keys zeroed, rows renormalised over the keys left,
    then the largest weight of each `factor` x `factor` block (12 tokens split evenly)."""
    keep = att.mask.copy()
    keep[:, hide] = False
    w = np.where(keep, att.weights.astype(np.float64), 0.0)
    s = w.sum(-1, keepdims=True)
    w = np.divide(w, s, out=np.zeros_like(w), where=s > 0)
    L, H, Q, K = w.shape
    return w.reshape(L, H, Q // factor, factor, K // factor, factor).max(axis=(3, 5))


def test_tint_labels_and_order(att):
    tint = np.arange(24, dtype=float).reshape(3, 8)
    roles = [[f"r{l}{h}" for h in range(8)] for l in range(3)]
    grid = aw.HeadGrid(att, tint=("entropy", tint), labels=roles, order="tint")
    assert grid.tint_label == "entropy"
    state = grid.get_state()
    np.testing.assert_array_equal(decode(state["_tint"]), tint)
    assert state["_labels"][2][7] == "r27" and state["order"] == "tint"
    with pytest.raises(ValueError, match=r"tint must have shape \(layers, heads\) = \(3, 8\); got \(8, 3\)"):
        aw.HeadGrid(att, tint=tint.T)
    with pytest.raises(ValueError, match=r"tint holds NaN"):
        aw.HeadGrid(att, tint=np.full((3, 8), np.nan))
    with pytest.raises(ValueError, match=r"labels must be 3 rows"):
        aw.HeadGrid(att, labels=roles[:2])
    with pytest.raises(t.TraitError, match=r"order='tint' needs tint"):
        aw.HeadGrid(att, order="tint")
    with pytest.raises(t.TraitError, match=r"'order' trait .* expected any of \['model', 'tint'\]"):
        grid.order = "size"


def test_thumbnails_of_heads_whose_maps_are_held_come_from_the_maps():
    att = synthetic_attention(n=40, seed=3)
    heat = aw.AttentionHeatmap(att, layer=1, head=2, max_bytes=6000)
    grid = aw.HeadGrid(att, selection=heat.selection, max_bytes=2 * 3 * 8 * 14 * 14)
    assert grid.data is heat.data
    heads = [k for k in heat.held_maps if k.split("/")[1].isdigit()]
    assert "1/2" in heads and len(heads) < 24  # some heads held, not all
    assert grid._thumb_maps == heads
    assert grid._pool == 3
    sent = decode(grid._thumbs)
    for key in heads:
        layer, head = (int(x) for x in key.split("/"))
        assert np.all(sent[layer, head] == 0)  # left out of the grid's own payload
    # What the page draws is what a grid of its own would have sent (same weights, no data model).
    alone = aw.HeadGrid(synthetic_attention(n=40, seed=3), max_bytes=2 * 3 * 8 * 14 * 14)
    assert alone.data is None and alone._thumb_maps == []
    want = decode(alone._thumbs)
    # The max of codes is the code of the max: pooling the held coded map gives the same cells.
    np.testing.assert_array_equal(drawn_thumbnails(grid), want)
    assert len(bytes(grid._thumbs["data"])) < len(bytes(alone._thumbs["data"]))


def test_thumbnails_from_maps_follow_hiding_and_the_maps_stay_held():
    att = synthetic_attention(n=40, seed=4)
    heat = aw.AttentionHeatmap(att, max_bytes=6000)
    grid = aw.HeadGrid(att, selection=heat.selection, hide=[0])
    alone = aw.HeadGrid(synthetic_attention(n=40, seed=4), hide=[0])
    for alt in (False, True):
        got, want = drawn_thumbnails(grid, alt=alt), decode(alone._thumbs_alt if alt else alone._thumbs)
        # Renormalised after coding here, before coding there: within two codings' precision.
        np.testing.assert_allclose(got, want, rtol=3 * payload.RELATIVE_PRECISION, atol=2 * payload.FLOOR)
    pinned = list(grid._thumb_maps)
    assert pinned
    # Selecting every other map evicts the least recently used ones, never the grid's.
    for layer in att.layer_ids:
        for head in att.head_ids:
            heat.layer, heat.head = layer, head
            assert set(pinned) <= set(heat.held_maps)


def test_a_grid_alone_makes_no_data_model_and_closing_releases_the_shared_one():
    att = synthetic_attention(n=16, seed=5)
    grid = aw.HeadGrid(att)
    assert grid.data is None and grid._thumb_maps == []
    heat = aw.AttentionHeatmap(att)
    grid2 = aw.HeadGrid(att, selection=heat.selection)
    data = heat.data
    assert grid2.data is data
    heat.close()
    assert data.comm is not None  # the grid still draws from it
    grid2.close()
    assert data.comm is None
    grid.close()
