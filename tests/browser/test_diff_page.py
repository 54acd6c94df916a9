"""AttentionDiff in a saved page: drawn offline, hover linked with a heatmap of the same attention,
the tooltip reads both weights, the head grid selects a head, token text stays text."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw

pytestmark = pytest.mark.slow

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def pair(smollm2):
    model, tok = smollm2
    text = "The cat sat on the mat because it was tired."
    return aw.extract(model, tok, text), aw.extract(model, tok, text, measure="norms")


def open_page(page, path):
    page.page.goto(path.as_uri())
    page.page.wait_for_selector("html[data-attnwidget-ready]")
    return page.page


def test_saved_diff_draws_links_and_selects(page, pair, tmp_path, artifacts):
    weights, norms = pair
    diff = aw.widgets.AttentionDiff(weights, norms, names=("weights", "norms"), layer=23, head=3)
    heat = aw.AttentionHeatmap(weights, selection=diff.selection)
    path = aw.save_html([diff, heat], tmp_path / "diff.html", title="weights vs norms")
    pg = open_page(page, path)
    root = pg.locator(".attnwidget.aw-diff").first
    root.wait_for(state="visible")
    pg.locator(".aw-diff canvas").first.wait_for(state="visible")
    assert root.get_attribute("data-layer") == "23" and root.get_attribute("data-head") == "3"
    vmax = float(root.get_attribute("data-vmax"))
    d = norms.head(23, 3) - weights.head(23, 3)
    assert vmax == pytest.approx(np.abs(d).max(), abs=2e-3)  # the colour range is the real largest difference
    root.screenshot(path=str(artifacts / "diff.png"))

    # Hover a token label in the diff: the heatmap marks the same token, and only it.
    pg.locator(".aw-diff .aw-strip [data-token-index='4']").first.hover()
    pg.locator(".aw-heatmap .aw-hovered[data-token-index='4']").first.wait_for(state="attached")
    marked = pg.locator(".aw-diff .aw-hovered").evaluate_all("els => [...new Set(els.map(e => e.dataset.tokenIndex))]")
    assert marked == ["4"]

    # The tooltip over cell (query 5, key 0) reads both weights and their difference.
    box = pg.locator(".aw-diff canvas").first.bounding_box()
    n = weights.n_key
    pg.mouse.move(box["x"] + (0.5 / n) * box["width"], box["y"] + (5.5 / n) * box["height"])
    tip = pg.locator(".aw-diff .aw-tip").first
    tip.wait_for(state="visible")
    text = tip.text_content()
    a, b = weights.head(23, 3)[5, 0], norms.head(23, 3)[5, 0]
    assert f"weights {a:.3g}" in text and f"norms {b:.3g}" in text, text
    pg.locator(".aw-heatmap .aw-hovered[data-token-index='5']").first.wait_for(state="attached")

    # Click a head in the grid: both views move to it.
    pg.locator(".aw-diff [data-layer='4'][data-head='7']").first.click()
    pg.locator(".aw-diff[data-layer='4'][data-head='7']").first.wait_for(state="attached")
    pg.locator(".aw-heatmap[data-layer='4'][data-head='7']").first.wait_for(state="attached")
    tv = float(pg.locator(".aw-diff [data-layer='4'][data-head='7']").first.get_attribute("data-tv"))
    assert tv == pytest.approx(diff.summary()[4, 7], abs=1e-3)
    assert page.blocked == [] and page.errors == []


def test_hostile_token_text_in_the_diff(page, pair, tmp_path):
    weights, norms = pair
    tokens = list(weights.tokens)
    tokens[2] = HOSTILE
    a = aw.Attention(weights.weights, tokens, weights.mask)
    b = aw.Attention(norms.weights, tokens, norms.mask)
    path = aw.save_html(aw.widgets.AttentionDiff(a, b), tmp_path / "evil.html", title="diff")
    pg = open_page(page, path)
    pg.locator(".attnwidget.aw-diff").first.wait_for(state="visible")
    texts = set(pg.locator(".aw-diff [data-token-index='2']").evaluate_all("els => els.map(e => e.textContent)"))
    assert any("<img" in t for t in texts), texts
    assert pg.locator("img").count() == 0 and page.dialogs == []
