"""`jupyter nbconvert --execute --to html` keeps anywidget views and their linking, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def nbconvert_html(notebook: Path, timeout: int = 600) -> Path:
    """Execute `notebook` and export it with the plain HTML exporter; return the page."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", notebook.name],
        cwd=notebook.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(f"nbconvert failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return notebook.with_suffix(".html")


# nbconvert's own page template asks CDNs for these whatever the notebook holds; refused here.
NBCONVERT_CDN = ("/require.js/", "/mathjax/", "@jupyter-widgets/html-manager", "jupyter-js-widgets")


def only_nbconvert_cdn(blocked: list[str]) -> bool:
    return all(any(part in u.lower() for part in NBCONVERT_CDN) for u in blocked)


def open_exported(page, tmp_path, name: str, cells: tuple[str, ...]):
    """Write a notebook of `cells`, export it with nbconvert --execute, open the page and wait
    until the export host has drawn; the Playwright page."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    pg = page.page
    pg.goto(nbconvert_html(path).as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    return pg


def test_nbconvert_page_draws_tiny_widgets_with_final_state(page, tmp_path, artifacts):
    pg = open_exported(
        page,
        tmp_path,
        "tiny",
        (
            f"import sys\nsys.path.insert(0, {str(HERE.parent)!r})\nfrom helpers.tiny_widgets import linked_pair\n"
            "a, b, sel = linked_pair()\na",
            "b",
            # Changed after display: the page must show the state the kernel ended with.
            "sel.hovered = 1",
        ),
    )
    rows = pg.locator(".tiny-tokens")
    assert rows.count() == 2
    for i in range(2):
        assert rows.nth(i).locator(".aw-hovered").get_attribute("data-token-index") == "1"
    rows.nth(0).locator("[data-token-index='3']").hover()
    rows.nth(1).locator("[data-token-index='3'].aw-hovered").wait_for()
    pg.screenshot(path=str(artifacts / "nbconvert-tiny.png"), full_page=True)
    assert only_nbconvert_cdn(page.blocked), page.blocked
    assert page.errors == []


@pytest.mark.slow
def test_nbconvert_quickstart_keeps_linked_views(page, tmp_path, artifacts):
    from helpers.views import click_head_selects_it, hover_links_every_view, screenshots, wait_drawn

    nb = tmp_path / "quickstart.ipynb"
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", nb)
    html = nbconvert_html(nb)
    pg = page.page
    pg.goto(html.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    wait_drawn(pg)
    # The notebook set heatmap.layer = 3 after displaying the views; the page starts there.
    pg.locator(".aw-heatmap[data-layer='3']").first.wait_for(state="attached")
    screenshots(pg, artifacts, "nbconvert")
    hover_links_every_view(pg, 6)
    click_head_selects_it(pg, 7, 4)
    pg.screenshot(path=str(artifacts / "nbconvert-quickstart.png"), full_page=True)
    assert only_nbconvert_cdn(page.blocked), page.blocked
    assert page.errors == []


def test_nbconvert_page_says_what_it_cannot_draw(page, tmp_path, artifacts):
    """A bqplot chart in an offline page is drawn by nobody: the page says so in its cell."""
    pg = open_exported(
        page,
        tmp_path,
        "other",
        (
            f"import sys\nsys.path.insert(0, {str(HERE.parent)!r})\nfrom helpers.tiny_widgets import linked_pair\n"
            "a, b, sel = linked_pair()\na",
            "import bqplot\nbqplot.Figure(marks=[bqplot.Lines(x=[0, 1], y=[0, 1], scales={'x': bqplot.LinearScale(), "
            "'y': bqplot.LinearScale()})])",
        ),
    )
    assert pg.locator(".tiny-tokens").count() == 1
    notes = pg.locator(".attnwidget-offline-note")
    assert notes.count() == 1
    text = notes.first.inner_text()
    assert text.startswith("bqplot Figure: not drawn in this page") and "html-manager" in text
    # In the chart's own output cell, not somewhere else on the page.
    cells = pg.locator(".jp-Cell")
    assert cells.nth(1).locator(".attnwidget-offline-note").count() == 1
    cells.nth(1).screenshot(path=str(artifacts / "nbconvert-offline-note.png"))
    assert only_nbconvert_cdn(page.blocked), page.blocked


def test_nbconvert_chart_alone_says_why_it_is_empty(page, tmp_path, artifacts):
    """An aw.widgets.charts figure in a notebook with no attnwidget view still brings the host: its cell says
    why it is empty offline."""
    pg = open_exported(
        page,
        tmp_path,
        "chart",
        (
            "import attnwidget as aw\n"
            "table = aw.analysis.Table.from_columns({'layer': [0, 1, 2], 'entropy': [1.0, 1.5, 1.2]})",
            "aw.widgets.charts.metric_lines(table)",
        ),
    )
    cells = pg.locator(".jp-Cell")
    notes = cells.nth(1).locator(".attnwidget-offline-note")
    assert notes.count() == 1 and pg.locator(".attnwidget-offline-note").count() == 1
    assert notes.first.inner_text().startswith("bqplot Figure: not drawn in this page")
    assert notes.first.is_visible()
    cells.nth(1).screenshot(path=str(artifacts / "nbconvert-chart-note.png"))
    assert only_nbconvert_cdn(page.blocked), page.blocked
