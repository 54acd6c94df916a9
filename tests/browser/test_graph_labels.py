"""The graph's arc labels (rotated 60 degrees) never sit closer than one label needs, whatever the
width of the slot: a 45-token generation in a notebook column printed every label over the next."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw


@pytest.mark.parametrize("width", [600, 1280])
def test_arc_labels_keep_their_distance(browser, tmp_path, artifacts, width):
    n = 45
    rng = np.random.default_rng(1)
    w = np.tril(rng.random((1, 2, n, n)) + 0.01)
    att = aw.Attention(w / w.sum(-1, keepdims=True), [f"word{i}" for i in range(n)])
    out = aw.save_html(aw.AttentionGraph(att), tmp_path / "graph.html")
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort())
    try:
        pg = ctx.new_page()
        pg.goto(out.as_uri())
        pg.locator(".aw-graph .aw-node").first.wait_for(state="attached")
        xs = pg.locator(".aw-graph").first.evaluate(
            "r => [...r.querySelectorAll('.aw-node')].filter(g => g.querySelector('text'))"
            ".map(g => g.getBoundingClientRect().left)"
        )
        pg.locator(".aw-graph").first.screenshot(path=str(artifacts / f"graph-labels-{width}.png"))
    finally:
        ctx.close()
    assert len(xs) >= 8, xs
    gaps = np.diff(xs)
    assert gaps.min() >= 13.5, f"labels {gaps.min():.1f} px apart at {width} px"
