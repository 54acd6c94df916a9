"""AttentionDiff in a saved page: drawn offline, hover linked with a heatmap of the same attention,
the tooltip reads both weights, the crosshair marks the cell under the pointer, the head grid
selects a head, token text stays text; two prompts labelled at aligned positions."""

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


def crosshair_orange(canvas, n, *, key, row):
    """Whether the pointer's orange stroke is drawn on the right edge of `key`'s column at `row`."""
    rgb = canvas.evaluate(
        """(c, [key, row, n]) => {
            const dpr = c.width / c.getBoundingClientRect().width, k = c.getBoundingClientRect().width / n;
            const x = Math.round((key + 1) * k * dpr), y = Math.round((row + 0.5) * k * dpr);
            return [...c.getContext("2d").getImageData(x, y, 1, 1).data].slice(0, 3);
        }""",
        [key, row, n],
    )
    # The 1.5 px stroke covers part of the pixel: orange (255, 140, 0) over the cell's colour; no
    # colour of the diverging map is this red with this little blue.
    return rgb[0] > 235 and 100 < rgb[1] < 190 and rgb[2] < 80


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
    # The crosshair marks query row 5 and key column 0, the cell under the pointer, and not the
    # column of token 5 (the hovered query token).
    canvas = pg.locator(".aw-diff canvas").first
    assert canvas.get_attribute("data-cross-query") == "5" and canvas.get_attribute("data-cross-key") == "0"
    assert crosshair_orange(canvas, n, key=0, row=9) and not crosshair_orange(canvas, n, key=5, row=9)

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


def test_two_prompts_in_a_saved_page(page, smollm2, tmp_path, artifacts):
    model, tok = smollm2
    same = aw.widgets.AttentionDiff(
        aw.extract(model, tok, "The cat sat on the mat."),
        aw.extract(model, tok, "The dog sat on the mat."),
        names=("cat", "dog"),
        layer=20,
        head=4,
    )
    a, b = aw.extract(model, tok, "The cat sat."), aw.extract(model, tok, "The big cat sat.")
    longer = aw.widgets.AttentionDiff(a, b, layer=20, head=4)
    path = aw.save_html([same, longer], tmp_path / "prompts.html", title="two prompts")
    pg = open_page(page, path)
    views = pg.locator(".attnwidget.aw-diff")
    views.nth(1).wait_for(state="visible")
    first, second = views.nth(0), views.nth(1)

    # Equal length: position 1 is labelled with both tokens, as text; the others once.
    changed = first.locator(".aw-strip .aw-tok-changed")
    assert changed.count() == 1 and changed.first.text_content() == "·cat→·dog"
    assert changed.first.get_attribute("data-token-index") == "1"
    assert first.locator(".aw-strip .aw-tok").count() == len(same.attention.tokens)
    assert "1 with different tokens" in first.locator(".aw-diff-align").text_content()
    first.locator(".aw-tok-changed").nth(1).wait_for(state="attached")  # the axes label it too

    # Unequal: " big" of b has no partner, said in the view; the maps are 4 x 4.
    note = second.locator(".aw-diff-align")
    assert note.get_attribute("data-only-b") == "1" and note.get_attribute("data-only-a") == ""
    assert 'only in b (no partner in a): 1 " big"' in note.text_content()
    assert "compared by words: 4 aligned positions" in note.text_content()
    strip = second.locator(".aw-strip .aw-tok").evaluate_all("els => els.map(e => e.textContent)")
    assert strip == ["The", "·cat", "·sat", "."]
    vmax = float(second.get_attribute("data-vmax"))
    assert vmax == pytest.approx(np.abs(longer.difference(20, 4)).max(), abs=2e-3)

    # The tooltip of query ' sat' (a 2, b 3) and key ' cat' (a 1, b 2) reads both prompts' weights.
    box = second.locator(".aw-diff-map canvas").bounding_box()
    pg.mouse.move(box["x"] + (1.5 / 4) * box["width"], box["y"] + (2.5 / 4) * box["height"])
    tip = second.locator(".aw-tip")
    tip.wait_for(state="visible")
    text = tip.text_content()
    wa, wb = np.float16(a.head(20, 4)[2, 1]), np.float16(b.head(20, 4)[3, 2])  # the page holds float16
    assert f"a {wa:.3g}" in text and f"b {wb:.3g}" in text, text
    assert 'b 3 " sat"' in text and 'b 2 " cat"' in text, text
    second.screenshot(path=str(artifacts / "diff-prompts.png"))
    assert page.blocked == [] and page.errors == []
