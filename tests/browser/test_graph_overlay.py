"""The graph overlays several heads in colours: the edges drawn are exactly each head's weights
above the threshold, in that head's colour, and the head buttons change the overlay in place."""

from __future__ import annotations

import numpy as np

import attnwidget as aw

# js/src/views/graph/index.js HEAD_COLOURS, as the browser reports them.
COLOURS = ["rgb(78, 121, 167)", "rgb(242, 142, 43)", "rgb(225, 87, 89)"]


def attention(n: int = 9) -> aw.Attention:
    rng = np.random.default_rng(5)
    w = rng.random((2, 4, n, n)) ** 4 * np.tril(np.ones((n, n)))
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(w, [f"w{i}" for i in range(n)])


def count_edges(att, layer, heads, threshold):
    return {h: int((att.head(layer, h) >= threshold).sum()) for h in heads}


def test_overlaid_heads_draw_their_own_edges_in_their_own_colours(page, tmp_path, artifacts):
    att = attention()
    graph = aw.AttentionGraph(att, threshold=0.2, layer=1, overlay=[0, 2])
    path = aw.save_html(graph, tmp_path / "overlay.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.locator(".aw-graph[data-head='overlay:0,2']").wait_for()
    root = pg.locator(".aw-graph")
    strokes = root.locator(".aw-edge").evaluate_all("ps => ps.map(p => getComputedStyle(p).stroke)")
    want = count_edges(att, 1, [0, 2], 0.2)
    assert strokes.count(COLOURS[0]) == want[0] and strokes.count(COLOURS[1]) == want[2], (strokes, want)
    assert len(strokes) == want[0] + want[2]
    assert "heads 0, 2 overlaid" in root.locator(".aw-title").inner_text()
    root.screenshot(path=str(artifacts / "graph-overlay.png"))
    # A third head from its button: its edges join in the third colour.
    root.locator(".aw-overlay-head[data-head='3']").click()
    pg.locator(".aw-graph[data-head='overlay:0,2,3']").wait_for()
    strokes = root.locator(".aw-edge").evaluate_all("ps => ps.map(p => getComputedStyle(p).stroke)")
    assert strokes.count(COLOURS[2]) == count_edges(att, 1, [3], 0.2)[3]
    # Every button off: back to the selected head or fusion, coloured by weight.
    for h in (0, 2, 3):
        root.locator(f".aw-overlay-head[data-head='{h}']").click()
    pg.locator(".aw-graph[data-head='mean']").wait_for()
    assert page.errors == []
