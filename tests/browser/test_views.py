"""The five linked views (token text, heatmap, head grid, rollout, graph) in a saved page, opened
from disk with the network blocked."""

from __future__ import annotations

import pytest
from helpers.views import click_head_selects_it, hover_links_every_view, screenshots, wait_drawn
from PIL import Image

import attnwidget as aw

pytestmark = pytest.mark.slow

PROMPT = "The cat sat on the mat because it was tired. Where did the cat sit?"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def att(smollm2):
    model, tok = smollm2
    return aw.extract(model, tok, PROMPT)


def open_page(page, path):
    page.page.goto(path.as_uri())
    page.page.wait_for_selector("html[data-attnwidget-ready]")
    return page.page


def test_saved_dashboard_draws_and_links(page, att, tmp_path, artifacts):
    path = aw.save_html(aw.show(att), tmp_path / "dash.html", title="SmolLM2")
    pg = open_page(page, path)
    wait_drawn(pg)
    screenshots(pg, artifacts, "export")
    hover_links_every_view(pg, 5)
    hover_links_every_view(pg, 2)
    pg.screenshot(path=str(artifacts / "export-hovered.png"), full_page=True)
    click_head_selects_it(pg, 4, 7)
    click_head_selects_it(pg, 0, 1)
    assert page.blocked == [], f"the saved page asked the network for {page.blocked}"
    assert page.errors == []


def test_hostile_token_text_is_shown_literally(page, att, tmp_path, artifacts):
    tokens = list(att.tokens)
    tokens[3] = HOSTILE
    evil = aw.Attention(att.weights, tokens, att.mask, num_kv_heads=att.num_kv_heads, meta=att.meta)
    path = aw.save_html(aw.show(evil), tmp_path / "evil.html", title=HOSTILE)
    pg = open_page(page, path)
    wait_drawn(pg)
    shown = pg.locator("[data-token-index='3']")
    assert shown.count() > 0
    texts = set(shown.evaluate_all("els => els.map(e => e.textContent)"))
    assert any("<img" in t and "onerror" in t for t in texts), texts
    hover_links_every_view(pg, 3)
    pg.screenshot(path=str(artifacts / "export-hostile-token.png"), full_page=True)
    assert pg.locator("img").count() == 0
    assert page.dialogs == []
    assert pg.evaluate("() => document.title") == HOSTILE


def test_png_buttons_save_images_from_the_saved_page(page, att, tmp_path, artifacts):
    path = aw.save_html(aw.show(att), tmp_path / "dash.html")
    pg = open_page(page, path)
    wait_drawn(pg)
    # The dashboard's toolbar offers every picture's PNG in its ⋯ menu.
    labels = {"heatmap": "heatmap", "headgrid": "heads", "rollout": "rollout", "graph": "graph"}
    for kind in ("heatmap", "headgrid", "rollout", "graph"):
        pg.locator(".aw-toolbar .aw-more").click()
        with pg.expect_download() as info:
            pg.locator(".aw-toolbar .aw-menu .aw-png", has_text=labels[kind]).first.click()
        out = artifacts / f"export-png-button-{kind}.png"
        info.value.save_as(out)
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{kind}: the download is not a PNG"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width >= 200 and height >= 100, f"{kind}: PNG is only {width}x{height}"
        # A drawn view, not a blank card: a map or bars bring many colours.
        with Image.open(out) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 20, f"{kind}: the PNG has only {len(colours)} colours (blank?)"
    assert page.blocked == []
