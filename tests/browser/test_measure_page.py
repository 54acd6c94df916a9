"""The heatmap's measure control in a saved page: weights and value-weighted norms of one text are
both in the page; switching redraws the map and the tooltip reads the norm map's value."""

from __future__ import annotations

import re

import pytest

import attnwidget as aw

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(smollm2):
    model, tok = smollm2
    text = "The cat sat on the mat because it was tired."
    return aw.extract(model, tok, text), aw.extract(model, tok, text, measure="norms")


def cell_value(tip_text: str, label: str) -> float:
    m = re.search(rf"^{label} ≈ ([0-9.e+-]+) \(±", tip_text, re.MULTILINE)
    assert m, tip_text
    return float(m.group(1))


def test_saved_page_switches_between_weights_and_norms(page, pair, tmp_path, artifacts):
    weights, norms = pair
    heat = aw.AttentionHeatmap(weights, layer=23, head=3, norms=norms)
    path = aw.save_html(heat, tmp_path / "measure.html", title="weights and norms")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-heatmap").first
    root.wait_for(state="visible")
    canvas = pg.locator(".aw-heatmap canvas.aw-map").first
    canvas.wait_for(state="visible")
    assert root.get_attribute("data-measure") == "weights"
    control = pg.locator(".aw-heatmap label.aw-measure select").first
    assert pg.locator(".aw-heatmap label.aw-measure").first.text_content().startswith("measure")
    assert control.input_value() == "weights"
    before = canvas.evaluate("c => c.toDataURL()")

    # Cell (query 5, key 0): 0.8 of the weight on the first token, far less of the norm.
    n = weights.n_key

    def cell(i: int, j: int) -> tuple[float, float]:
        box = canvas.bounding_box()  # again each time: the layout may move when the title changes
        return box["x"] + ((j + 0.5) / n) * box["width"], box["y"] + ((i + 0.5) / n) * box["height"]

    at = cell(5, 0)
    tip = pg.locator(".aw-heatmap .aw-tip").first
    pg.mouse.move(*at)
    tip.wait_for(state="visible")
    w, v = float(weights.head(23, 3)[5, 0]), float(norms.head(23, 3)[5, 0])
    assert abs(w - v) > 0.2 * w  # the two measures differ far beyond the coding's 2.8%
    assert tip.text_content().startswith("query 5 ")
    assert cell_value(tip.text_content(), "weight") == pytest.approx(w, rel=0.03)

    control.select_option("norms")
    pg.locator(".attnwidget.aw-heatmap[data-measure='norms']").first.wait_for(state="attached")
    assert root.locator(".aw-title").first.text_content().startswith("Value-weighted norms · layer 23 · head 3")
    assert "norms ‖α_ij f(x_j)‖" in root.locator(".aw-legend").first.text_content()
    after = canvas.evaluate("c => c.toDataURL()")
    assert after != before  # the drawn map changed
    pg.mouse.move(*cell(2, 0))
    pg.mouse.move(*cell(5, 0))
    pg.wait_for_function("() => /^norm ≈/m.test(document.querySelector('.aw-heatmap .aw-tip').textContent)")
    assert tip.text_content().startswith("query 5 ")
    assert cell_value(tip.text_content(), "norm") == pytest.approx(v, rel=0.03)
    root.screenshot(path=str(artifacts / "measure-norms.png"))

    # Back to weights: the first drawing again.
    control.select_option("weights")
    pg.locator(".attnwidget.aw-heatmap[data-measure='weights']").first.wait_for(state="attached")
    assert canvas.evaluate("c => c.toDataURL()") == before
    assert page.blocked == [] and page.errors == []


def test_a_view_without_norms_has_no_measure_control(page, pair, tmp_path):
    weights, _ = pair
    path = aw.save_html(aw.AttentionHeatmap(weights, layer=23, head=3), tmp_path / "weights.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    pg.locator(".aw-heatmap canvas.aw-map").first.wait_for(state="visible")
    assert pg.locator(".aw-heatmap .aw-measure").count() == 0
    assert pg.locator(".attnwidget.aw-heatmap").first.get_attribute("data-measure") == "weights"


def test_saved_token_text_and_graph_switch_measure(page, pair, tmp_path):
    weights, norms = pair
    sel = aw.widgets.Selection(weights)
    text = aw.TokenText(weights, layer=23, head=3, norms=norms, selection=sel)
    graph = aw.AttentionGraph(weights, threshold=0.05, layer=23, head=3, norms=norms, selection=sel)
    path = aw.save_html([text, graph], tmp_path / "text.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-tokentext").first
    first = root.locator(".aw-text [data-token-index='0']").first
    first.wait_for(state="visible")
    # Focus: the last token, tinting what it attends to (its query row).
    w, v = float(weights.head(23, 3)[-1, 0]), float(norms.head(23, 3)[-1, 0])
    assert abs(w - v) > 0.2 * w
    assert float(first.get_attribute("data-weight")) == pytest.approx(w, rel=0.03)
    root.locator("label.aw-measure select").select_option("norms")
    pg.locator(".attnwidget.aw-tokentext[data-measure='norms']").first.wait_for(state="attached")
    assert float(first.get_attribute("data-weight")) == pytest.approx(v, rel=0.03)
    assert root.locator(".aw-title").first.text_content().startswith("Text (value-weighted norms) · layer 23")

    groot = pg.locator(".attnwidget.aw-graph").first
    assert groot.get_attribute("data-measure") == "weights"  # each view has its own control
    assert "weights ≥ 0.05" in groot.locator(".aw-title").first.text_content()
    groot.locator("label.aw-measure select").select_option("norms")
    pg.locator(".attnwidget.aw-graph[data-measure='norms']").first.wait_for(state="attached")
    assert "norms ≥ 0.05" in groot.locator(".aw-title").first.text_content()
    # The edge from the last token to the first carries the norm map's value.
    n = weights.n_key
    tips = groot.locator("path.aw-edge").evaluate_all("els => els.map(e => e.dataset.tip)")
    tip = next(t for t in tips if t.startswith(f"query {n - 1} ") and "→ key 0 " in t)
    assert float(re.search(r"\nnorm ([0-9.e+-]+)$", tip).group(1)) == pytest.approx(v, rel=0.03)
    assert page.blocked == [] and page.errors == []
