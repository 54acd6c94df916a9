"""Head effects on a saved page: the head grid's diverging legend runs from a negative to a positive
end, heads of opposite effect get bars of opposite hue, and the heatmap's title says the selected
head's effect."""

from __future__ import annotations

import numpy as np
from helpers.widget_data import synthetic_attention

import attnwidget as aw
from attnwidget.analysis.ablation import HeadEffects

# The RGB of a head's tint bar (the 4 px under its thumbnail) on the grid's canvas.
BAR_RGB = """cell => {
  const canvas = cell.parentElement.querySelector("canvas");
  const c = canvas.getBoundingClientRect(), r = cell.getBoundingClientRect();
  const x = Math.round((r.left + r.width / 2 - c.left) * canvas.width / c.width);
  const y = Math.round((r.bottom - 2 - c.top) * canvas.height / c.height);
  const d = canvas.getContext("2d").getImageData(x, y, 1, 1).data;
  return [d[0], d[1], d[2]];
}"""


def test_effects_legend_and_colours_differ_in_sign(page, tmp_path):
    att = synthetic_attention()
    delta = np.random.default_rng(1).normal(0, 0.1, (att.num_layers, att.num_heads))
    delta[0, 0], delta[2, 7] = -0.85, 0.4
    effects = HeadEffects(delta, -0.26, att.layer_ids, att.head_ids, "zero", "exact", [7042], [" Paris"], " Paris")
    grid = aw.HeadGrid(att, effects=effects)
    heatmap = aw.AttentionHeatmap(att, layer=0, head=0, effects=effects)
    path = aw.save_html([grid, heatmap], tmp_path / "effects.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".aw-headgrid")
    assert root.get_attribute("data-tint-signed") == "true"
    legend = root.locator(".aw-effect-legend")
    legend.wait_for(state="visible")
    assert legend.locator(".aw-effect-neg").text_content() == "-0.85"
    assert legend.locator(".aw-effect-pos").text_content() == "+0.85"
    assert "blue below 0" in legend.text_content()
    helps = root.locator('.aw-thumb[data-layer="0"][data-head="0"]').evaluate(BAR_RGB)
    hurts = root.locator('.aw-thumb[data-layer="2"][data-head="7"]').evaluate(BAR_RGB)
    assert helps[2] > helps[0] + 60, f"a helping head is blue: {helps}"
    assert hurts[0] > hurts[2] + 40, f"a head against the answer is red: {hurts}"
    title = pg.locator(".aw-heatmap .aw-title").text_content()
    assert "head 0 · effect on log P(' Paris'): -0.85" in title
