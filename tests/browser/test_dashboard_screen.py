"""The first screen of `aw.show(att)` on a laptop: a saved page at 848 x 600 (two columns) and
568 x 600 (one column, JupyterLab's output width with the file browser open). Counts the controls a
reader sees, measures how much of the pictures is on screen, and checks that the toolbar moves every
view and that the hidden tabs are drawn without a click."""

from __future__ import annotations

import pytest
from helpers.screen import FIRST_SCREEN_CONTROLS, first_screen, legend_pictures, pick_colours, whole_layers
from helpers.views import hover_links_every_view, wait_drawn

import attnwidget as aw

pytestmark = pytest.mark.slow

PROMPT = "The cat sat on the mat because it was tired. Where did the cat sit?"


@pytest.fixture(scope="module")
def saved(smollm2, tmp_path_factory):
    model, tok = smollm2
    att = aw.extract(model, tok, PROMPT)
    return aw.save_html(aw.show(att), tmp_path_factory.mktemp("screen") / "dash.html"), len(att.tokens)


def _open(page, path, width, height, dark=False):
    pg = page.page
    pg.set_viewport_size({"width": width, "height": height})
    pg.emulate_media(color_scheme="dark" if dark else "light")
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    wait_drawn(pg)
    pg.locator(".aw-dashboard[data-drawn]").first.wait_for(state="attached")
    pg.wait_for_timeout(300)
    return pg


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_two_columns_at_848_show_the_pictures_and_few_controls(page, saved, artifacts, dark):
    path, n = saved
    pg = _open(page, path, 848, 600, dark)
    pg.screenshot(path=str(artifacts / f"dashboard-848{'-dark' if dark else ''}.png"))
    screen = first_screen(pg)
    assert screen["controls"] <= FIRST_SCREEN_CONTROLS, screen
    # Token text, heatmap and head grid wholly on the first screen.
    assert screen["text"] == pytest.approx(1.0), screen
    assert screen["heatmap"] == pytest.approx(1.0), screen
    assert screen["headgrid"] == pytest.approx(1.0), screen
    assert screen["height"] <= 620, screen
    assert whole_layers(pg) >= 6
    # The Rollout and Graph tabs are drawn without a click: bars for every token, graph nodes.
    assert pg.locator(".aw-rollout .aw-col[data-token-index]").count() == n
    assert pg.locator(".aw-graph .aw-node").count() > 0
    assert page.errors == []


def test_one_column_at_568_starts_the_tabs_on_the_first_screen(page, saved, artifacts):
    pg = _open(page, saved[0], 568, 600)
    pg.screenshot(path=str(artifacts / "dashboard-568.png"))
    screen = first_screen(pg)
    assert screen["controls"] <= FIRST_SCREEN_CONTROLS, screen
    assert screen["text"] == pytest.approx(1.0), screen
    assert screen["heatmap_top"] < 600 and screen["headgrid_top"] < 600, screen
    assert pg.locator(".aw-dashboard.aw-wide").count() == 0
    assert page.errors == []


def test_the_toolbar_moves_every_view_and_hover_links_hidden_tabs(page, saved, artifacts):
    pg = _open(page, saved[0], 848, 600)
    before = legend_pictures(pg)
    assert set(before) == {"tokentext", "heatmap", "headgrid", "rollout", "graph"}
    pick_colours(pg, "magma")
    pg.wait_for_function(
        "old => Object.entries(old).every(([k, v]) => document.querySelector(`.aw-${k} .aw-legend canvas`).toDataURL() !== v)",
        arg=before,
    )
    assert pg.locator(".aw-toolbar[data-colormap='magma']").count() == 1
    # A hover in the heatmap marks the token in the head grid and in the hidden rollout and graph.
    hover_links_every_view(pg, 4)
    # The ⋯ menu offers a PNG of every picture.
    pg.locator(".aw-toolbar .aw-more").click()
    labels = pg.locator(".aw-toolbar .aw-menu .aw-png").all_inner_texts()
    assert labels == ["heatmap", "heads", "rollout", "graph"], labels
    pg.screenshot(path=str(artifacts / "dashboard-menu.png"))
    assert page.errors == []
