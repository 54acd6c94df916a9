"""A 4096-token SmolLM2 heatmap in a saved page: it draws, and hovering a token label links."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import attnwidget as aw

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _common import prompt_text  # noqa: E402

pytestmark = pytest.mark.slow

N = 4096


@pytest.fixture(scope="module")
def long_page(smollm2, tmp_path_factory):
    model, tok = smollm2
    att = aw.extract(model, tok, prompt_text(tok, N), layers=[3], heads=[0, 1])
    assert att.n_key == N
    heatmap = aw.AttentionHeatmap(att, head=0)
    graph = aw.AttentionGraph(att, threshold=0.3, selection=heatmap.selection)
    return aw.save_html([heatmap, graph], tmp_path_factory.mktemp("long") / "long.html"), att


def open_heatmap(page, path):
    """Open the saved page; return (page, heatmap root) once the map canvas is visible."""
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    heat = pg.locator(".aw-heatmap").first
    heat.locator("canvas.aw-map").wait_for(state="visible")
    return pg, heat


def test_long_heatmap_draws_and_hover_links(page, long_page, artifacts):
    path, att = long_page
    pg, heat = open_heatmap(page, path)
    assert heat.get_attribute("data-layer") == "3" and heat.get_attribute("data-head") == "0"
    # Some pixel of the map is not background: it drew.
    painted = heat.locator("canvas.aw-map").evaluate("""c => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && !(d[i] === 246 && d[i + 1] === 248)) n++;
      return n; }""")
    assert painted > 0
    labels = heat.locator("[data-token-index]")
    target = labels.nth(labels.count() // 4)  # a key label mid-way along the top axis
    index = target.get_attribute("data-token-index")
    target.hover()
    pg.locator(f".aw-graph .aw-hovered[data-token-index='{index}']").first.wait_for(state="attached")
    heat.screenshot(path=str(artifacts / "long-heatmap-4096.png"))
    assert page.errors == []


# Index of the key label drawn nearest the map's left edge.
FIRST_KEY_LABEL = """root => {
  const stage = root.querySelector("canvas").getBoundingClientRect();
  let best = null, dist = Infinity;
  for (const el of root.querySelectorAll("[data-token-index]")) {
    const r = el.getBoundingClientRect();
    if (r.bottom > stage.top || r.right < stage.left) continue;  // the key axis sits above the map
    if (r.left - stage.left >= 0 && r.left - stage.left < dist) { dist = r.left - stage.left; best = el.dataset.tokenIndex; }
  }
  return best;
}"""


# A digest of the map canvas's pixels: changes when a different region is drawn.
CANVAS_DIGEST = """c => {
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let h = 0; for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] * 7 + d[i + 1] * 3 + d[i + 2]) % 1000000007;
  return h; }"""


def test_long_heatmap_pans(page, long_page, artifacts):
    path, _ = long_page
    pg, heat = open_heatmap(page, path)
    # Zoom in twice (4x) around the centre, then drag the map to the left.
    heat.locator(".aw-zoom-in").click()
    heat.locator(".aw-zoom-in").click()
    pg.wait_for_function("el => el.dataset.view.endsWith(',1024.00')", arg=heat.element_handle())
    before = heat.evaluate(FIRST_KEY_LABEL)
    view_before = heat.get_attribute("data-view")
    pixels_before = heat.locator("canvas.aw-map").evaluate(CANVAS_DIGEST)
    box = heat.locator("canvas.aw-overlay").bounding_box()
    pg.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5)
    pg.mouse.down()
    pg.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5, steps=10)
    pg.mouse.up()
    pg.wait_for_function("([el, v]) => el.dataset.view !== v", arg=[heat.element_handle(), view_before])
    c0, r0, span = (float(x) for x in heat.get_attribute("data-view").split(","))
    assert c0 > float(view_before.split(",")[0]) and span == 1024, "dragging left shows keys further right"
    assert heat.evaluate(FIRST_KEY_LABEL) != before, "dragging the map did not move the key axis"
    assert heat.locator("canvas.aw-map").evaluate(CANVAS_DIGEST) != pixels_before, "the drawn region did not change"
    # Labels are thinned so that none overlaps the next.
    gaps = heat.locator(".aw-key-labels [data-token-index]").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect()).map((r, k, all) => k ? r.left - all[k - 1].right : 1)"
    )
    assert len(gaps) > 5 and min(gaps) >= 0
    # Hover a key label of the moved axis: the linked graph marks the same token.
    label = heat.locator(".aw-key-labels [data-token-index]").nth(3)
    index = label.get_attribute("data-token-index")
    assert int(index) >= c0
    label.hover()
    pg.locator(f".aw-graph .aw-hovered[data-token-index='{index}']").first.wait_for(state="attached")
    assert heat.locator(f".aw-hovered[data-token-index='{index}']").count() >= 1
    # Hovering the map itself reports the token under the pointer.
    pg.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.25)
    pg.wait_for_function(
        "el => el.querySelector('.aw-query-labels .aw-hovered, .aw-key-labels .aw-hovered') || "
        "document.querySelector('.aw-graph .aw-hovered')",
        arg=heat.element_handle(),
    )
    # Past the saved 8x8 overview, the page says it has no kernel for full resolution.
    for _ in range(2):
        heat.locator(".aw-zoom-in").click()
    pg.wait_for_function("el => el.dataset.view.endsWith(',256.00')", arg=heat.element_handle())
    heat.locator(".aw-status", has_text="Full resolution needs a running kernel").wait_for(state="visible")
    heat.screenshot(path=str(artifacts / "long-heatmap-4096-zoomed.png"))
    assert page.errors == []


def test_saved_page_keeps_tiles_served_before_export(page, long_page, tmp_path):
    _, att = long_page
    heat = aw.AttentionHeatmap(att, head=0)
    # What the browser asks for after three zoom-ins at the centre (512 keys from 1792): the
    # kernel serves these four tiles, and the page saved afterwards keeps them.
    for r0 in (1792, 2048):
        for c0 in (1792, 2048):
            heat._on_msg(
                heat,
                {
                    "type": "tile",
                    "id": f"3/0||0|{r0},{c0}",
                    "key": "3/0",
                    "r0": r0,
                    "r1": r0 + 256,
                    "c0": c0,
                    "c1": c0 + 256,
                },
                [],
            )
    assert len(heat._tiles) == 4
    path = aw.save_html(heat, tmp_path / "tiles.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".aw-heatmap").first
    pg.wait_for_function("el => el.dataset.resolution === 'overview'", arg=root.element_handle())
    for _ in range(3):
        root.locator(".aw-zoom-in").click()
    pg.wait_for_function("el => el.dataset.view === '1792.00,1792.00,512.00'", arg=root.element_handle())
    assert root.get_attribute("data-resolution") == "full"
    assert "Zoomed past" not in root.locator(".aw-status").inner_text()
    # One step further left is not held: the page says so.
    box = root.locator("canvas.aw-overlay").bounding_box()
    pg.mouse.move(box["x"] + 50, box["y"] + 50)
    pg.mouse.down()
    pg.mouse.move(box["x"] + 450, box["y"] + 50, steps=5)
    pg.mouse.up()
    root.locator(".aw-status", has_text="Full resolution needs a running kernel").wait_for(state="visible")
    assert root.get_attribute("data-resolution") == "partial"
    assert page.errors == []
