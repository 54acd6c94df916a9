"""Colour scales in the browser: on a sink-dominated SmolLM2 head the default scale draws more
distinct colours than a linear one; hiding the sink says so in the legend."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw

pytestmark = pytest.mark.slow

TEXT = (
    "Attention lets each token gather information from the tokens before it, and a model stacks "
    "many such layers to build up meaning from the words of a prompt. "
) * 4

# Distinct colours among the cells the heatmap canvas paints (masked cells take the theme's panel
# colour, --aw-panel: #f3f5f7 in a light page).
COUNT_COLOURS = """canvas => {
  const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const seen = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] === 243 && d[i + 1] === 245 && d[i + 2] === 247) continue;
    seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  return seen.size;
}"""


@pytest.fixture(scope="module")
def att(smollm2):
    model, tok = smollm2
    return aw.extract(model, tok, TEXT)


def sink_head(att) -> tuple[int, int]:
    """A typical sink-dominated head: mean weight on the first token closest to 0.7.

    (The most extreme heads put 0.99999 there and ~1e-9 elsewhere: no scale shows structure that
    is not there.)
    """
    sink = np.array([[att.head(l, h)[1:, 0].mean() for h in att.head_ids] for l in att.layer_ids])
    l, h = np.unravel_index(np.abs(sink - 0.7).argmin(), sink.shape)
    assert sink[l, h] > 0.6, "expected a head that puts most of its attention on the first token"
    return att.layer_ids[l], att.head_ids[h]


def test_default_scale_shows_more_structure_than_linear(page, att, tmp_path, artifacts):
    layer, head = sink_head(att)
    linear = aw.AttentionHeatmap(att, layer=layer, head=head, scale="linear")
    default = aw.AttentionHeatmap(att, layer=layer, head=head)
    hidden = aw.AttentionHeatmap(att, layer=layer, head=head, hide=[0])
    path = aw.save_html([linear, default, hidden], tmp_path / "scales.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    maps = pg.locator(".aw-heatmap")
    maps.nth(2).locator("canvas").first.wait_for(state="visible")
    counts = [maps.nth(i).locator("canvas").first.evaluate(COUNT_COLOURS) for i in range(3)]
    for i, name in enumerate(("linear", "default", "hidden")):
        maps.nth(i).screenshot(path=str(artifacts / f"colour-scale-{name}.png"))
    print(f"distinct colours: linear {counts[0]}, default {counts[1]}, hidden sink {counts[2]}")
    assert counts[1] >= 1.5 * counts[0], f"default scale drew {counts[1]} colours, linear {counts[0]}"
    legend = maps.nth(2).locator(".aw-legend").inner_text()
    assert "log scale" in legend and "rows renormalised without token 0" in legend
    assert "linear scale" in maps.nth(0).locator(".aw-legend").inner_text()
    assert page.errors == []
