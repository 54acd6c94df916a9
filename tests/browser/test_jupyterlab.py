"""A real JupyterLab on loopback: open notebooks/quickstart.ipynb, run every cell, use the views."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from helpers.jupyter import ERROR_OUTPUT, KERNEL_TIMEOUT_MS, open_and_run_all
from helpers.views import click_head_selects_it, hover_links_every_view, screenshots, wait_drawn

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"
# Loading SmolLM2 the first time on a machine dequantises it (about 20 s on two cores).


def test_quickstart_runs_and_links_in_jupyterlab(page, jupyterlab, artifacts):
    shutil.copy(NOTEBOOK, jupyterlab.root / NOTEBOOK.name)
    pg = page.page
    open_and_run_all(pg, jupyterlab, NOTEBOOK.name)
    # Stop at the first traceback rather than waiting out the timeout.
    pg.locator(f".aw-heatmap, {ERROR_OUTPUT}").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    errors = pg.locator(ERROR_OUTPUT)
    assert errors.count() == 0, errors.first.inner_text()
    wait_drawn(pg)
    # The notebook sets heatmap.layer = 3 from Python; every view follows.
    pg.locator(".aw-heatmap[data-layer='3']").first.wait_for()
    screenshots(pg, artifacts, "jupyterlab")
    hover_links_every_view(pg, 4)
    pg.screenshot(path=str(artifacts / "jupyterlab-hovered.png"), full_page=True)

    # The hover reaches the kernel: with the reading cell selected, a person hovers a token and
    # presses Shift+Enter without moving the mouse (hover writes are throttled, so maybe twice).
    code = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    reader = next(i for i, c in enumerate(code) if "hovered_token" in c.source)
    cell = pg.locator(".jp-Notebook .jp-CodeCell").nth(reader)
    for _ in range(5):
        cell.locator(".jp-InputPrompt").click()
        hover_links_every_view(pg, 4)
        pg.keyboard.press("Shift+Enter")
        pg.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
        text = cell.locator(".jp-OutputArea-output").last.inner_text()
        if "hovered: 4 " in text:
            break
    assert "hovered: 4 " in text, text

    click_head_selects_it(pg, 2, 5)
    assert page.errors == []
