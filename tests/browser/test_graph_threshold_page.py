"""A saved graph page counts the edges the exact weights give at its threshold (the coded maps
alone counted cells just under it)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

import attnwidget as aw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "widgets"))
from test_graph_threshold import exact_edges, near_threshold_attention  # noqa: E402


def test_saved_graph_counts_exact_edges(browser, tmp_path):
    att = near_threshold_attention()
    out = aw.save_html(aw.AttentionGraph(att, layer=1, head=0, threshold=0.1), tmp_path / "graph.html")
    want = len(exact_edges(att.head(1, 0), 0.1))
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort())
    try:
        pg = ctx.new_page()
        pg.goto(out.as_uri())
        pg.locator(".aw-graph .aw-edge").first.wait_for(state="attached")
        text = pg.locator(".aw-graph").first.inner_text()
        drawn = pg.locator(".aw-graph .aw-edges .aw-edge").count()
    finally:
        ctx.close()
    m = re.search(r"(\d+) edges? ≥ 0\.1", text)
    assert m, text
    assert int(m.group(1)) == want == drawn
    assert np.sum(att.head(1, 0) >= 0.1) == want
