"""AttentionHeatmap on long inputs: the pooled overview and full-resolution tiles sent on request."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.widget_data import decode, held, over_the_wire, synthetic_attention, words

import attnwidget as aw


@pytest.fixture(scope="module")
def lazy_att(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(70), lazy=True)
    assert att.is_lazy and att.n_key == 70
    return att


def independent_pool(m: np.ndarray, visible: np.ndarray, f: int) -> np.ndarray:
    q, k = m.shape
    out = np.full((-(-q // f), -(-k // f)), np.nan, dtype=np.float32)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            block, seen = m[i * f : (i + 1) * f, j * f : (j + 1) * f], visible[i * f : (i + 1) * f, j * f : (j + 1) * f]
            if seen.any():
                out[i, j] = block[seen].max()
    return out


def sent(widget, content):
    """Call the widget's message handler as the kernel would; return what it sends back."""
    out = []
    widget.send = lambda msg, buffers=None: out.append((msg, buffers))
    widget._on_msg(widget, content, [])
    assert len(out) == 1
    return out[0]


def short_overviews(monkeypatch):
    """Make this short input count as long: past 1000 cells a map crosses as an overview of at
    most 16 cells a side (instead of 1448 x 1448 and 512)."""
    from attnwidget.widgets import data

    monkeypatch.setattr(data, "FULL_MAP_CELLS", 1000)
    monkeypatch.setattr(data, "OVERVIEW_SIDE", 16)


def test_long_map_crosses_as_pooled_overview(lazy_att, monkeypatch):
    short_overviews(monkeypatch)
    heat = aw.AttentionHeatmap(lazy_att, layer=1, head=2, max_bytes=8000)
    assert heat.pool_factor == 5  # ceil(70 / 16)
    payload = over_the_wire(heat.data)["_maps"]
    assert payload["keys"] == ["1/2"], "only the selected overview is computed up front"
    assert payload["factor"] == 5 and payload["maps"][0]["shape"] == [14, 14]
    got = decode(payload["maps"][0])
    want = independent_pool(lazy_att.head(1, 2), lazy_att.mask, 5)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=0.03, atol=1e-6)
    # Hiding is applied in the kernel before pooling, and the payload says with what.
    heat.hide = [0]
    payload = heat.data._maps
    assert payload["hide"] == [0]
    keep = lazy_att.mask.copy()
    keep[:, 0] = False
    m = lazy_att.head(1, 2) * keep
    m = m / np.where(m.sum(1, keepdims=True) > 0, m.sum(1, keepdims=True), 1)
    np.testing.assert_allclose(
        np.nan_to_num(decode(payload["maps"][0])),
        np.nan_to_num(independent_pool(m, lazy_att.mask, 5)),
        rtol=0.03,
        atol=1e-6,
    )
    heat.close()


def test_overview_made_with_the_options_asked_for(lazy_att, monkeypatch):
    short_overviews(monkeypatch)
    heat = aw.AttentionHeatmap(lazy_att, layer=0, head=1, hide=[0], row_normalize=True, max_bytes=8000)
    p = heat.data._maps
    assert p["hide"] == [0] and p["row_normalize"] is True and p["keys"] == ["0/1"]
    got = held(heat)["0/1"]
    # Every pooled row block holds a row scaled to its own maximum: each block row peaks at 1.
    np.testing.assert_allclose(np.nanmax(got, axis=1), 1.0, rtol=0.03)
    heat.close()


def test_short_map_stays_full_resolution(lazy_att):
    heat = aw.AttentionHeatmap(lazy_att, layer=0, head=0)
    assert heat.pool_factor == 1
    assert held(heat)["0/0"].shape == (70, 70)


@pytest.mark.parametrize("key,layer,head", [("2/3", 2, 3), ("0/mean", 0, None), ("1/max", 1, "max")])
def test_tile_message_returns_the_block_of_att_rows(lazy_att, key, layer, head):
    heat = aw.AttentionHeatmap(lazy_att, max_bytes=8000)
    msg, buffers = sent(
        heat,
        {
            "type": "tile",
            "id": "t1",
            "key": key,
            "r0": 20,
            "r1": 52,
            "c0": 8,
            "c1": 40,
            "hide": [],
            "row_normalize": False,
        },
    )
    assert msg["type"] == "tile" and msg["id"] == "t1" and msg["shape"] == [32, 32]
    got = np.frombuffer(buffers[0], dtype="<f2").reshape(32, 32).astype(np.float32)
    rows = lazy_att.rows(layer, 20, 52)  # (heads, 32, n_key)
    if head is None:
        want = rows.mean(axis=0)
    elif head == "max":
        want = rows.max(axis=0)
        want = want / want.sum(axis=1, keepdims=True)
    else:
        want = rows[lazy_att.head_ids.index(head)]
    np.testing.assert_allclose(got, want[:, 8:40], rtol=2e-3, atol=1e-5)


def test_tile_applies_hiding_and_row_scaling(lazy_att):
    heat = aw.AttentionHeatmap(lazy_att, max_bytes=8000)
    got = heat.tile("2/1", 40, 70, 0, 70, hide=[0, 5], row_normalize=True)
    w = lazy_att.rows(2, 40, 70, heads=[1])[0].copy()
    w[:, [0, 5]] = 0
    w /= w.sum(axis=1, keepdims=True)
    w /= w.max(axis=1, keepdims=True)
    np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-6)
    assert got[:, [0, 5]].max() == 0


@pytest.mark.parametrize(
    "content,message",
    [
        ({"key": "9/0", "r0": 0, "r1": 4, "c0": 0, "c1": 4}, "layer 9 is not held"),
        ({"key": "0/77", "r0": 0, "r1": 4, "c0": 0, "c1": 4}, "head 77 is not held"),
        ({"key": "zero", "r0": 0, "r1": 4, "c0": 0, "c1": 4}, "'layer/head'"),
        ({"key": "0/0", "r0": 5, "r1": 5, "c0": 0, "c1": 4}, "rows 5:5 are out of range"),
        ({"key": "0/0", "r0": 0, "r1": 4, "c0": 0, "c1": 71}, "keys 0:71 are out of range"),
        ({"key": "0/0", "r0": "0", "r1": 4, "c0": 0, "c1": 4}, "must be integers"),
        ({"key": "0/0", "r0": 0, "r1": 4, "c0": 0, "c1": 4, "hide": [99]}, "out of range for 70 tokens"),
    ],
)
def test_bad_tile_requests_get_an_error_naming_the_problem(lazy_att, content, message):
    heat = aw.AttentionHeatmap(lazy_att)
    msg, buffers = sent(heat, {"type": "tile", "id": 7, **content})
    assert msg["type"] == "tile-error" and msg["id"] == 7
    assert message in msg["message"]
    assert not buffers


def test_served_tiles_stay_in_the_state_within_a_quarter_of_the_budget(lazy_att):
    heat = aw.AttentionHeatmap(lazy_att, max_bytes=8000)  # tiles kept: 2000 bytes
    sent(heat, {"type": "tile", "id": "a", "key": "0/0", "r0": 0, "r1": 20, "c0": 0, "c1": 20})
    kept = over_the_wire(heat)["_tiles"]
    assert [p["id"] for p in kept] == ["a"] and kept[0]["shape"] == [20, 20]
    np.testing.assert_allclose(decode(kept[0]), lazy_att.head(0, 0)[:20, :20], rtol=2e-3, atol=1e-6)
    sent(heat, {"type": "tile", "id": "b", "key": "1/mean", "r0": 30, "r1": 50, "c0": 10, "c1": 30})
    sent(heat, {"type": "tile", "id": "c", "key": "2/1", "r0": 50, "r1": 70, "c0": 40, "c1": 60})
    # 800 bytes each: the oldest goes once three would pass 2000.
    assert [p["id"] for p in heat._tiles] == ["b", "c"]
    assert heat._tiles[1]["r0"] == 50 and heat._tiles[1]["c0"] == 40


def test_many_tile_requests_keep_the_state_bounded():
    # Tiles served are kept in a synced trait (so a saved page keeps the zoomed region); 10 000
    # requests, tiny ones included, must not grow it without bound by count or by bytes.
    from attnwidget.widgets.heatmap import MAX_TILES, TILE_BYTES

    heat = aw.AttentionHeatmap(synthetic_attention(n=70), layer=1, head=2)
    heat.send = lambda msg, buffers=None: None
    heat.send_state = lambda key=None: None  # the wire is not what this measures; the trait is
    for k in range(10_000):
        r, c = k % 70, (k // 70) % 70
        size = 1 if k % 100 else 8
        content = {"type": "tile", "id": f"req-{k}-" + "x" * (k % 300), "key": "1/2"}
        heat._on_msg(heat, {**content, "r0": r, "r1": min(70, r + size), "c0": c, "c1": min(70, c + size)}, [])
    tiles = heat._tiles
    assert 0 < len(tiles) <= MAX_TILES
    state_bytes = sum(len(t["data"]) + len(repr({k: v for k, v in t.items() if k != "data"})) for t in tiles)
    assert state_bytes <= TILE_BYTES
    assert len(heat._served) == len(tiles)
    assert tiles[-1]["id"].startswith("req-9999-")
