"""Attention of the last tokens only (fewer query rows than keys, as generation with a cached
prefix gives): a row label names its own token, so hovering it marks that token's column."""

from __future__ import annotations

import numpy as np

import attnwidget as aw


def test_row_labels_of_the_last_tokens_mark_their_own_token(page, tmp_path):
    rng = np.random.default_rng(0)
    w = rng.random((1, 2, 3, 6)).astype(np.float32)
    tokens = ["a", "b", "c", "d", "e", "f"]
    att = aw.Attention(w / w.sum(-1, keepdims=True), tokens)
    pg = page.page
    pg.goto(aw.save_html(aw.AttentionHeatmap(att), tmp_path / "rows.html").as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    rows = pg.locator(".aw-heatmap .aw-query-labels [data-token-index]")
    rows.first.wait_for(state="visible")
    got = rows.evaluate_all("els => els.map(e => [Number(e.dataset.tokenIndex), e.textContent])")
    assert got == [[3, "d"], [4, "e"], [5, "f"]]
    rows.first.hover()
    key = pg.locator(".aw-heatmap .aw-key-labels .aw-hovered")
    key.first.wait_for(state="attached")
    assert key.evaluate_all("els => els.map(e => e.textContent)") == ["d"]
    assert page.errors == []
