"""Reading a saved PartsDashboard page: the heatmap's marked bands and the strips' marked tokens."""

import pytest

import attnwidget as aw

BANDS = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const W = canvas.width, H = canvas.height;
  const d = ctx.getImageData(0, 0, W, H).data;
  const at = (x, y) => d.subarray((y * W + x) * 4, (y * W + x) * 4 + 4);
  const lines = (n, len, px) => {
    const out = [];
    for (let a = 0; a < n; a++) {
      let on = 0, rgb = [0, 0, 0];
      for (let b = 0; b < len; b++) { const p = px(a, b); if (p[3] > 100) { on++; rgb = [p[0], p[1], p[2]]; } }
      if (on > 0.9 * len) out.push({ at: a, rgb });
    }
    return out;
  };
  return {
    rows: lines(H, W, (y, x) => at(x, y)), cols: lines(W, H, (x, y) => at(x, y)),
    width: W, height: H,
  };
}"""


HOVER_RGB = (255, 140, 0)


PIN_RGB = (9, 105, 218)


def bands(heat, n_query: int, n_key: int) -> dict[str, dict[int, tuple]]:
    """The rows and columns the overlay draws a band round: {"rows": {i: rgb}, "cols": {j: rgb}}."""
    got = heat.evaluate(BANDS)
    cell = got["width"] / n_key
    assert got["height"] / n_query == pytest.approx(cell, rel=0.05)
    out: dict[str, dict[int, tuple]] = {"rows": {}, "cols": {}}
    for side in ("rows", "cols"):
        edges: dict[int, tuple] = {}
        for line in got[side]:
            edges.setdefault(round(line["at"] / cell), tuple(line["rgb"]))
        # A band's two edges are boundaries b and b + 1: it surrounds cell b.
        out[side] = {b: rgb for b, rgb in edges.items() if b + 1 in edges}
    return out


def near(rgb: tuple, want: tuple) -> bool:
    return max(abs(a - b) for a, b in zip(rgb, want)) < 40


def open_page(page, widgets, tmp_path):
    path = aw.save_html(widgets, tmp_path / "parts.html", title="encoder-decoder")
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-parts").first
    root.wait_for(state="visible")
    return pg, root


def cross_drawn(root) -> tuple:
    heat = root.locator(".aw-part .aw-heatmap canvas.aw-overlay").first
    heat.wait_for(state="visible")
    graph = root.locator(".aw-part .aw-cross-graph").first
    graph.locator(".aw-query-node").first.wait_for(state="visible")
    return heat, graph


def marked(scope, cls: str = "aw-hovered", attr: str = "tokenIndex") -> list[str]:
    return scope.locator(f".{cls}").evaluate_all(f"els => [...new Set(els.map(e => e.dataset.{attr}))]")
