"""Views of attention held at float16 draw what it holds: the float32 weights rounded once, then
coded for the wire as any map is."""

from __future__ import annotations

import numpy as np
from helpers.widget_data import assert_coded, drawn_thumbnails, held, synthetic_attention

import attnwidget as aw


def as_float16(att: aw.Attention) -> aw.Attention:
    return aw.Attention(
        att.weights,
        att.tokens,
        att.mask,
        num_kv_heads=att.num_kv_heads,
        token_ids=att.token_ids,
        text=att.text,
        dtype="float16",
    )


def test_dashboard_of_float16_attention_codes_its_rounded_weights(tmp_path):
    full = synthetic_attention(n=20)
    half = as_float16(full)
    assert half.weights.dtype == np.float16
    rounded = full.weights.astype(np.float16).astype(np.float32)
    dash = aw.show(half, layer=1, head=3)
    maps = held(dash.heatmap)
    assert "1/3" in maps
    for key, got in maps.items():
        layer, name = key.split("/")
        if name.isdigit():
            want = rounded[int(layer), int(name)]
        else:  # heads fused from the float32 weights rounded once to float16, written out here
            heads = rounded[int(layer)].astype(np.float64)
            want = {"mean": heads.mean(0), "max": heads.max(0), "min": heads.min(0)}[name]
            if name != "mean":  # max and min are renormalised over the visible keys
                want = np.where(half.mask, want, 0.0)
                total = want.sum(-1, keepdims=True)
                want = np.divide(want, total, out=np.zeros_like(want), where=total > 0)
        assert_coded(got, np.where(half.mask, want, 0.0))
    # Thumbnails and the rollout read the same float32 values.
    thumbs = drawn_thumbnails(dash.headgrid)
    assert thumbs.shape[:2] == (half.num_layers, half.num_heads) and np.isfinite(thumbs).all()
    np.testing.assert_allclose(dash.rollout.values, aw.metrics.rollout(half)[dash.rollout.query], rtol=1e-5)
    np.testing.assert_allclose(dash.rollout.values, aw.metrics.rollout(full)[dash.rollout.query], rtol=2e-3, atol=1e-6)
    page = aw.save_html(dash, tmp_path / "half.html")
    html = page.read_text(encoding="utf-8")
    # The page carries every view's state (model ids) and stays small: 20 tokens, a few maps.
    assert all(v.model_id in html for v in dash.views)
    assert 0 < page.stat().st_size < 2 * 2**20
