"""NeuronView in a saved page: pin a query, hover a key; the shown dot product and weight are the model's."""

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
