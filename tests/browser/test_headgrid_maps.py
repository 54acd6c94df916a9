"""A saved page draws the thumbnails of heads whose maps it holds from those maps: the same pixels
as a page whose head grid carried every thumbnail, with and without the first token hidden."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "widgets"))
from helpers.widget_data import synthetic_attention  # noqa: E402

import attnwidget as aw  # noqa: E402

GRID = """() => {
  const c = document.querySelector('.aw-headgrid .aw-grid canvas');
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}"""


def pixels(pg, path, hide_first: bool):
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    pg.locator(".aw-headgrid [data-layer='1'][data-head='2']").wait_for(state="attached")
    if hide_first:
        # A view shown alone keeps hiding in its "options ▾" menu.
        pg.locator(".aw-headgrid .aw-options").click()
        pg.locator(".aw-headgrid label:has-text('hide first token') input").check()
        pg.wait_for_function(
            "() => !document.querySelector('.aw-headgrid .aw-legend').textContent.includes('needs the kernel')"
            " && document.querySelector('.aw-headgrid .aw-legend').textContent.includes('renormalised')"
        )
    pg.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return pg.evaluate(GRID)


def test_thumbnails_from_held_maps_match_thumbnails_sent(page, tmp_path):
    # The page's own: the heatmap's data model holds some heads, the grid draws those from it.
    att = synthetic_attention(n=40, seed=3)
    heat = aw.AttentionHeatmap(att, layer=1, head=2, max_bytes=6000)
    grid = aw.HeadGrid(att, selection=heat.selection)
    assert "1/2" in grid._thumb_maps and len(grid._thumb_maps) < 24
    shared = aw.save_html([heat, grid], tmp_path / "shared.html")
    # The same weights with the grid made first: no data model yet, every thumbnail sent.
    att2 = synthetic_attention(n=40, seed=3)
    grid2 = aw.HeadGrid(att2)
    heat2 = aw.AttentionHeatmap(att2, layer=1, head=2, max_bytes=6000, selection=grid2.selection)
    assert grid2._thumb_maps == []
    alone = aw.save_html([heat2, grid2], tmp_path / "alone.html")
    pg = page.page
    for hide_first in (False, True):
        got, want = pixels(pg, shared, hide_first), pixels(pg, alone, hide_first)
        assert len(got) == len(want) and len(set(want)) > 20  # a drawn grid, not a blank one
        diff = [abs(a - b) for a, b in zip(got, want)]
        if not hide_first:
            assert max(diff) == 0  # pooling coded maps gives the codes the kernel sends
        else:
            # Renormalised after coding here, before coding there: a step of the colour map or two,
            # in few pixels.
            assert max(diff) <= 12 and sum(d > 0 for d in diff) < 0.05 * len(diff)
    assert page.errors == [] and page.blocked == []
