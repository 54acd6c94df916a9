"""NeuronView in a saved page: pin a query, hover a key; the shown dot product and weight are the model's;
the dimension axis ticks under the cells it names and marks SmolLM2's rotary pairs."""

from __future__ import annotations

import pytest

import attnwidget as aw
from attnwidget.widgets.neuron import query_key_vectors

pytestmark = pytest.mark.slow


def test_saved_neuron_view_explains_a_weight(page, smollm2, tmp_path, artifacts):
    model, tok = smollm2
    att = aw.extract(model, tok, "The cat sat on the mat because it was tired.", lazy=True)
    view = aw.widgets.NeuronView(att, layer=16, head=0)
    heat = aw.AttentionHeatmap(att, selection=view.selection, layer=16, head=0)
    path = aw.save_html([view, heat], tmp_path / "neuron.html", title="neuron")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-neuron").first
    root.wait_for(state="visible")
    assert root.get_attribute("data-layer") == "16" and root.get_attribute("data-head") == "0"

    pg.locator(".aw-neuron .aw-strip [data-token-index='7']").first.click()  # query ' it'
    pg.locator(".aw-neuron .aw-strip [data-token-index='5']").first.hover()  # key ' mat'
    score = pg.locator(".aw-neuron .aw-neuron-score").first
    pg.wait_for_function("() => document.querySelector('.aw-neuron .aw-neuron-score')?.dataset.key === '5'")
    assert score.get_attribute("data-query") == "7"
    q, k, facts = query_key_vectors(att, 16, 0)
    assert float(score.get_attribute("data-dot")) == pytest.approx(float(q[7] @ k[5]), rel=1e-4)
    assert float(score.get_attribute("data-weight")) == pytest.approx(float(att.head(16, 0)[7, 5]), abs=1e-3)
    assert (
        pg.locator(
            ".aw-neuron .aw-neuron-q canvas, .aw-neuron .aw-neuron-k canvas, .aw-neuron .aw-neuron-qk canvas"
        ).count()
        == 3
    )
    # Linked: the heatmap marks the hovered key and the pinned query.
    pg.locator(".aw-heatmap .aw-hovered[data-token-index='5']").first.wait_for(state="attached")
    pg.locator(".aw-heatmap .aw-pinned[data-token-index='7']").first.wait_for(state="attached")
    root.screenshot(path=str(artifacts / "neuron.png"))
    assert page.blocked == [] and page.errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dimension_axis_and_rotary_pairs(page, smollm2, tmp_path, artifacts, scheme):
    model, tok = smollm2
    att = aw.extract(model, tok, "The cat sat on the mat because it was tired.", lazy=True)
    path = aw.save_html(aw.widgets.NeuronView(att, layer=16, head=0), tmp_path / "neuron.html", title="neuron")
    pg = page.page
    pg.set_viewport_size({"width": 848, "height": 900})
    pg.emulate_media(color_scheme=scheme)
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-neuron").first
    root.wait_for(state="visible")
    d = query_key_vectors(att, 16, 0)[0].shape[1]
    assert d == 64
    axis = root.locator(".aw-neuron-axis")
    assert axis.get_attribute("data-dims") == "64"
    ticks = axis.locator(".aw-neuron-tick")
    assert ticks.evaluate_all("els => els.map(e => e.textContent)") == [str(x) for x in range(0, 64, 8)]
    # Each tick sits at the left edge of the cells of its dimension in the key table.
    canvas = root.locator(".aw-neuron-keys canvas").bounding_box()
    cell = canvas["width"] / d
    for x, box in zip(range(0, 64, 8), ticks.evaluate_all("els => els.map(e => e.getBoundingClientRect().left)")):
        assert box == pytest.approx(canvas["x"] + x * cell, abs=1), x
    # Labels do not overlap at 848 px: each ends before the next begins.
    rights = ticks.evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right])"
    )
    assert all(r <= nxt for (_, r), (nxt, _) in zip(rights, rights[1:])), rights
    assert root.bounding_box()["width"] <= 848

    rotary = axis.locator(".aw-neuron-rotary")
    assert rotary.get_attribute("data-style") == "half" and rotary.get_attribute("data-half") == "32"
    assert "i + 32" in root.locator(".aw-neuron-rotary-note").text_content()
    # Pointing at dimension 5 of a key row marks it and dimension 37, which turns with it.
    pg.mouse.move(canvas["x"] + 5.5 * cell, canvas["y"] + 2.5 * canvas["height"] / len(att.tokens))
    pg.wait_for_selector(".aw-neuron-axis .aw-neuron-dim-partner")
    marks = axis.locator(".aw-neuron-dim-mark").evaluate_all("els => els.map(e => e.dataset.dim)")
    assert marks == ["5", "37"]
    assert "(turns with 37)" in root.locator(".aw-tip").text_content()
    root.screenshot(path=str(artifacts / f"neuron-axis-{scheme}.png"))
    assert page.blocked == [] and page.errors == []
