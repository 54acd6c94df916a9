"""`aw.show` in a live JupyterLab at a laptop's 1280 x 800 with the file browser open: the first
screen of the output holds few controls, the token text, the heatmap and the head grid; the toolbar
moves every view through the kernel, which refuses a value out of range and keeps its last one."""

from __future__ import annotations

import nbformat
import pytest
from helpers.jupyter import ERROR_OUTPUT, KERNEL_TIMEOUT_MS, open_and_run_all
from helpers.screen import FIRST_SCREEN_CONTROLS, first_screen, legend_pictures, pick_colours, whole_layers
from helpers.views import hover_links_every_view, wait_drawn

pytestmark = pytest.mark.slow

# No model: a fixed causal attention of 12 layers x 6 heads, so the kernel is ready at once.
SOURCE = """\
import numpy as np
import attnwidget as aw

words = "The cat sat on the mat because the mat was warm . The cat".split()
n = len(words)
rng = np.random.default_rng(5)
w = rng.random((12, 6, n, n)) * np.tril(np.ones((n, n)))
w[..., 0] += 2.0
w = np.tril(w)
w /= w.sum(-1, keepdims=True)
att = aw.Attention(w, [words[0]] + [" " + t for t in words[1:]])
dash = aw.show(att)
dash
"""
READ = "print('colormap:', sorted({v.colormap for v in dash.views}), 'scale:', sorted({v.scale for v in dash.views}), 'gammas:', len({v.gamma for v in dash.views}))"


def test_dashboard_first_screen_in_jupyterlab(page, jupyterlab, artifacts):
    name = "dashboard-screen.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE), nbformat.v4.new_code_cell(READ)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, jupyterlab.root / name)
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    open_and_run_all(pg, jupyterlab, name, route=f"lab/workspaces/screen/tree/{name}")
    pg.locator(f".aw-headgrid [data-layer][data-head], {ERROR_OUTPUT}").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    assert pg.locator(ERROR_OUTPUT).count() == 0, pg.locator(ERROR_OUTPUT).first.inner_text()
    wait_drawn(pg)
    if not pg.locator(".jp-FileBrowser").first.is_visible():
        pg.locator("li[data-id='filebrowser']").first.click()
    pg.locator(".jp-FileBrowser").first.wait_for(state="visible")
    dash = pg.locator(".aw-dashboard").first
    pg.wait_for_timeout(400)
    dash.evaluate("e => e.scrollIntoView({ block: 'start' })")
    pg.mouse.move(640, 795)  # the pointer off the views (hovering the heatmap shows its zoom buttons)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifacts / "jupyterlab-dashboard-1280x800.png"))
    screen = first_screen(pg, ".aw-dashboard")
    assert screen["controls"] <= FIRST_SCREEN_CONTROLS, screen
    assert screen["text"] == pytest.approx(1.0), screen
    assert screen["heatmap"] == pytest.approx(1.0), screen
    assert screen["headgrid"] == pytest.approx(1.0), screen
    assert whole_layers(pg) >= 6
    assert pg.locator(".aw-rollout .aw-col[data-token-index]").count() == 14
    assert pg.locator(".aw-graph .aw-node").count() > 0

    # At 1000 x 800 with the file browser open (about 568 px of output, one column) the heatmap
    # and the head grid still start on the first screen.
    pg.set_viewport_size({"width": 1000, "height": 800})
    pg.wait_for_function("() => !document.querySelector('.aw-dashboard').classList.contains('aw-wide')")
    pg.wait_for_timeout(600)
    dash.evaluate("e => e.scrollIntoView({ block: 'start' })")
    pg.mouse.move(20, 790)  # over the side bar, off the views (hovering the heatmap shows its zoom buttons)
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifacts / "jupyterlab-dashboard-1000x800.png"))
    output = pg.locator(".jp-OutputArea-output").first.bounding_box()
    assert output["width"] < 760, output
    narrow = first_screen(pg, ".aw-dashboard")
    assert narrow["heatmap_top"] < 800 and narrow["headgrid_top"] < 800, narrow
    assert narrow["heatmap"] == pytest.approx(1.0), narrow
    assert narrow["controls"] <= FIRST_SCREEN_CONTROLS, narrow["names"]

    # One toolbar change reaches every view's model in the kernel.
    before = legend_pictures(pg)
    pick_colours(pg, "magma")
    pg.wait_for_function(
        "old => Object.entries(old).every(([k, v]) => document.querySelector(`.aw-${k} .aw-legend canvas`).toDataURL() !== v)",
        arg=before,
    )
    hover_links_every_view(pg, 4)
    # γ out of range typed into the toolbar is not sent; a value the kernel refuses (the frontend
    # clamps only to (0, 10]) is covered by tests/widgets/test_dashboard.py.
    pg.locator(".aw-toolbar .aw-tb-scale select").select_option("power")
    gamma = pg.locator(".aw-toolbar .aw-tb-gamma input")
    gamma.fill("-3")
    gamma.press("Tab")
    assert gamma.input_value() != "-3"
    pg.wait_for_timeout(800)
    reader = pg.locator(".jp-Notebook .jp-CodeCell").nth(1)
    reader.locator(".jp-InputPrompt").click()
    pg.keyboard.press("Shift+Enter")
    pg.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
    text = reader.locator(".jp-OutputArea-output").last.inner_text()
    assert "colormap: ['magma'] scale: ['power'] gammas: 1" in text, text

    assert page.errors == []
