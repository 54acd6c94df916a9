"""In a real JupyterLab: zooming a pooled heatmap fetches full-resolution tiles from the kernel, and
the tooltip then reads the exact weight of the cell under the pointer."""

from __future__ import annotations

import re

import nbformat
import pytest
from helpers.jupyter import open_and_run_all

pytestmark = pytest.mark.slow

N = 600
MAKE = f"""import numpy as np
rng = np.random.default_rng(3)
w = np.tril(rng.random((2, 2, {N}, {N})).astype(np.float32) ** 4)
w /= w.sum(-1, keepdims=True)"""
SETUP = (
    MAKE
    + f"""
import attnwidget as aw
import attnwidget.widgets.data as data
# Maps count as long past 1448 x 1448 cells; lowered here so 600 tokens cross as a 2x2-pooled overview.
data.FULL_MAP_CELLS = 200_000
att = aw.Attention(w, [f"t{{i}}" for i in range({N})])
heat = aw.AttentionHeatmap(att, layer=1, head=1)
assert heat.pool_factor == 2
heat"""
)


def test_zooming_in_fetches_exact_tiles_from_the_kernel(page, jupyterlab, artifacts):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    nbformat.write(nb, str(jupyterlab.root / "tiles.ipynb"))
    pg = page.page
    open_and_run_all(pg, jupyterlab, "tiles.ipynb")
    heat = pg.locator(".attnwidget.aw-heatmap").first
    heat.wait_for(timeout=120_000)
    pg.wait_for_function("el => el.dataset.resolution === 'overview'", arg=heat.element_handle())
    for _ in range(3):  # 8x: 75 keys across 520 px, past the 2x2 overview
        heat.locator(".aw-zoom-in").click()
    pg.wait_for_function("el => el.dataset.resolution === 'full'", arg=heat.element_handle(), timeout=60_000)
    assert "Zoomed past" not in heat.locator(".aw-status").inner_text()
    box = heat.locator("canvas.aw-overlay").bounding_box()
    pg.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
    tip = heat.locator(".aw-tip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    m = re.search(r"query (\d+) .*\nkey (\d+) .*\nweight (\S+)", text)
    assert m, text
    i, j, shown = int(m.group(1)), int(m.group(2)), m.group(3)
    scope: dict = {}
    exec(MAKE, scope)  # the kernel's weights, rebuilt here from the same seed
    want = scope["w"][1, 1, i, j]
    assert j <= i, "the pointer is below the diagonal, on a visible cell"
    assert abs(float(shown) - want) <= 2e-3 * want + 1e-6, (text, want)
    heat.screenshot(path=str(artifacts / "jupyterlab-heatmap-tiles.png"))
    assert page.errors == []
