"""Views displayed one by one in a real JupyterLab, with a kernel behind them: each draws, and a
map the widget does not hold is fetched from the kernel when selected in the browser."""

from __future__ import annotations

import nbformat
import pytest
from helpers.jupyter import open_and_run_all

pytestmark = pytest.mark.slow

SETUP = """import numpy as np
import attnwidget as aw

rng = np.random.default_rng(0)
w = rng.random((4, 3, 10, 10)).astype(np.float32) ** 3
w = np.tril(w)
w /= w.sum(-1, keepdims=True)
att = aw.Attention(w, [f"t{i}" for i in range(10)])
# Room for one map: every other layer/head must come from the kernel.
heat = aw.AttentionHeatmap(att, layer=0, head=0, max_bytes=200)
grid, bars, graph = aw.HeadGrid(att), aw.RolloutBar(att), aw.AttentionGraph(att)
aw.link(heat, grid, bars, graph)
heat"""


def test_each_view_draws_alone_and_missing_maps_come_from_the_kernel(page, jupyterlab, artifacts):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(v) for v in ("grid", "bars", "graph")]
    nbformat.write(nb, str(jupyterlab.root / "views.ipynb"))
    pg = page.page
    open_and_run_all(pg, jupyterlab, "views.ipynb")
    for kind in ("heatmap", "headgrid", "rollout", "graph"):
        pg.locator(f".attnwidget.aw-{kind}").first.wait_for(timeout=120_000)
    status = pg.locator(".aw-heatmap .aw-status").first
    assert status.inner_text() == ""
    # Layer 3 is not in the widget's state; choosing it asks the kernel, which sends it.
    pg.locator(".aw-heatmap select").first.select_option("3")
    pg.locator(".aw-heatmap[data-layer='3']").first.wait_for()
    pg.locator(".aw-graph[data-layer='3']").first.wait_for()
    pg.wait_for_function("() => document.querySelector('.aw-heatmap .aw-status').textContent === ''")
    pg.wait_for_function("() => document.querySelector('.aw-graph .aw-status').textContent === ''")
    pg.screenshot(path=str(artifacts / "jupyterlab-views-alone.png"), full_page=True)
    assert page.errors == []
