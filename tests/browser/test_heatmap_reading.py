"""Reading the heatmap off its canvas: a uniform map is not drawn in the colours of strong attention
(every scale, both colour maps), and the pointer's crosshair marks the key column under the pointer,
not the column of the hovered query token."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.images.colormaps import lut

# Every pixel of the map canvas.
PIXELS = """c => [...c.getContext("2d").getImageData(0, 0, c.width, c.height).data]"""


def open_heatmap(page, path):
    pg = page.page
    pg.set_viewport_size({"width": 848, "height": 600})
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    pg.locator(".aw-heatmap canvas.aw-map").first.wait_for(state="visible")
    return pg


@pytest.mark.parametrize("colormap", ["viridis", "magma"])
@pytest.mark.parametrize("scale", ["log", "linear", "power"])
def test_uniform_map_stays_out_of_the_top_fifth_of_the_colour_map(page, tmp_path, scale, colormap):
    # Nine tokens, every token reading all nine equally (an encoder's uniform head): weight 1/9.
    n = 9
    w = np.full((1, 1, n, n), 1 / n, dtype=np.float32)
    att = aw.Attention(w, [f" t{i}" for i in range(n)])  # a full map: inferred bidirectional
    view = aw.AttentionHeatmap(att, scale=scale, colormap=colormap)
    pg = open_heatmap(page, aw.save_html(view, tmp_path / "uniform.html"))
    canvas = pg.locator(".aw-heatmap canvas.aw-map").first
    rgba = np.array(canvas.evaluate(PIXELS), dtype=np.int32).reshape(-1, 4)[:, :3]
    assert len(rgba) >= n * n  # a cell may take several canvas pixels
    table = lut(colormap).astype(np.int32)
    # Each cell's colour is a level of the colour map; which level, read back from the pixel.
    levels = np.abs(rgba[:, None, :] - table[None, :, :]).sum(-1).argmin(-1)
    assert np.abs(table[levels] - rgba).max() <= 2, "a cell's colour is not a level of the colour map"
    assert levels.max() < 0.8 * 255, f"{scale}/{colormap}: a uniform map reaches level {levels.max()} of 255"
    assert page.errors == []


def orange_at(overlay, n, *, key, row):
    """Whether the pointer's orange stroke covers the right edge of `key`'s column at `row`."""
    rgb = overlay.evaluate(
        """(c, [key, row, n]) => {
            const dpr = c.width / c.getBoundingClientRect().width, k = c.getBoundingClientRect().width / n;
            const x = Math.min(c.width - 1, Math.round((key + 1) * k * dpr)), y = Math.round((row + 0.5) * k * dpr);
            return [...c.getContext("2d").getImageData(x, y, 1, 1).data];
        }""",
        [key, row, n],
    )
    # The overlay is transparent except its strokes: orange is (255, 140, 0) at 95 % opacity.
    r, g, b, a = rgb
    return a > 100 and r > 200 and 90 < g < 190 and b < 80


def test_crosshair_marks_the_key_column_under_the_pointer(page, tmp_path, artifacts):
    n = 20
    rng = np.random.default_rng(11)
    w = np.tril(rng.random((1, 1, n, n)) + 0.05)
    att = aw.Attention((w / w.sum(-1, keepdims=True)).astype(np.float32), [f" w{i}" for i in range(n)])
    pg = open_heatmap(page, aw.save_html(aw.AttentionHeatmap(att), tmp_path / "crosshair.html"))
    overlay = pg.locator(".aw-heatmap canvas.aw-overlay").first
    box = overlay.bounding_box()
    cell = box["width"] / n
    query, key = 15, 3
    pg.mouse.move(box["x"] + (key + 0.5) * cell, box["y"] + (query + 0.5) * cell)
    pg.wait_for_function(
        "() => document.querySelector('.aw-heatmap .aw-key-labels .aw-hovered') !== null", timeout=5000
    )
    pg.wait_for_timeout(100)
    overlay.screenshot(path=str(artifacts / "heatmap-crosshair.png"))
    # Far from the query row, the key column under the pointer is outlined; the hovered query
    # token's own column (15) is not.
    assert orange_at(overlay, n, key=key, row=8)
    assert not orange_at(overlay, n, key=query, row=8)
    assert page.errors == []
