"""Labels that never lie: on a saved 64-token page the axis labels are thinned, yet the hovered
token, the pinned one and the key under the pointer keep their own labels on every axis (heatmap
rows and columns, graph nodes), and the neighbours' labels give way instead of standing in."""

from __future__ import annotations

import numpy as np

import attnwidget as aw


def labelled(pg, selector):
    return set(pg.locator(selector).evaluate_all("els => els.map(e => Number(e.dataset.tokenIndex))"))


def test_hovered_pinned_and_pointed_tokens_keep_their_labels(page, tmp_path, artifacts):
    n = 64
    rng = np.random.default_rng(3)
    w = np.tril(rng.random((1, 2, n, n)) + 0.01)
    att = aw.Attention((w / w.sum(-1, keepdims=True)).astype(np.float32), [f"w{i}" for i in range(n)])
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(aw.save_html(aw.show(att), tmp_path / "labels.html").as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    heat = ".aw-heatmap"
    keys, rows = f"{heat} .aw-key-labels [data-token-index]", f"{heat} .aw-query-labels [data-token-index]"
    pg.locator(keys).first.wait_for(state="visible")
    # The graph sits in the dashboard's Graph tab, beside the heatmap.
    pg.locator(".aw-tab[data-tab='graph']").click()
    shown = labelled(pg, keys)
    assert len(shown) < n, "64 tokens at this width are expected to be thinned"
    # Graph nodes whose label is drawn (the graph thins its labels by its own spacing).
    in_graph = set(
        pg.locator(".aw-graph .aw-node").evaluate_all(
            "els => els.filter(e => e.querySelector('text')?.getBoundingClientRect().width > 0)"
            ".map(e => Number(e.dataset.tokenIndex))"
        )
    )
    target = next(i for i in range(n // 2, n) if i not in shown | labelled(pg, rows) | in_graph)
    graph_text = f'.aw-graph .aw-node[data-token-index="{target}"] text'
    assert pg.locator(graph_text).count() == 0 or not pg.locator(graph_text).is_visible()

    # Hover the token in the text view: the heatmap labels it as a query row and as a key column,
    # the graph labels its node; the thinned neighbours' labels give way.
    pg.locator(f'.aw-tokentext [data-token-index="{target}"]').first.hover()
    pg.locator(f'{heat} .aw-key-labels [data-token-index="{target}"]').wait_for(state="attached")
    assert target in labelled(pg, rows)
    assert pg.locator(f"{heat} .aw-key-labels .aw-hovered").evaluate_all("els => els.map(e => e.textContent)") == [
        f"w{target}"
    ]
    assert {target - 1, target + 1}.isdisjoint(labelled(pg, keys))
    pg.locator(graph_text).wait_for(state="visible")
    assert pg.locator(graph_text).text_content() == f"{target} w{target}"

    # Pin it (click), then point at another cell of the map: the pinned token stays labelled, and the
    # cell's query row and key column under the pointer are labelled too.
    pg.locator(f'.aw-tokentext [data-token-index="{target}"]').first.click()
    overlay = pg.locator(f"{heat} canvas.aw-overlay")
    box = overlay.bounding_box()
    cell = box["width"] / n
    # A query row and a key column thinned away like the target, below the diagonal, apart from it.
    thinned = [i for i in range(1, target - 3) if i not in shown]
    qi, kj = thinned[-1], thinned[len(thinned) // 3]
    assert qi not in shown and kj not in shown
    pg.mouse.move(box["x"] + (kj + 0.5) * cell, box["y"] + (qi + 0.5) * cell)
    pg.locator(f'{heat} .aw-key-labels [data-token-index="{kj}"]').wait_for(state="attached")
    assert {qi, target} <= labelled(pg, rows)
    assert {kj, qi, target} <= labelled(pg, keys)
    pg.locator(heat).screenshot(path=str(artifacts / "labels-64-hover.png"))
    assert page.errors == []
