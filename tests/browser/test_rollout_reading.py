"""Reading the rollout's bars off a saved page: heights proportional to the values the kernel
computed, the sink's bar cut with its value printed, one caption line, and no controls of its own
inside a dashboard. On the bundled SmolLM2, opened from disk with the network blocked."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.views import show_tab

import attnwidget as aw

pytestmark = pytest.mark.slow

PROMPT = "The cat sat on the mat because it was tired."

# Each bar's height in CSS pixels, read from the canvas's pixels: from the baseline up while the
# column's centre is painted (the canvas is transparent elsewhere; a cut bar's break mark is a
# transparent gap).
READ_BARS = """root => {
  const canvas = root.querySelector('.aw-bars-canvas');
  const base = Number(canvas.dataset.baseline), area = Number(canvas.dataset.barHeight);
  const box = canvas.getBoundingClientRect();
  const dpr = canvas.width / box.width;
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const alpha = (x, y) => px[4 * (y * canvas.width + x) + 3];
  const out = [];
  for (const col of root.querySelectorAll('.aw-col[data-token-index]')) {
    const c = col.getBoundingClientRect();
    const x = Math.round((c.left + c.width / 2 - box.left) * dpr);
    let y = Math.round(base * dpr) - 1, h = 0;
    while (y >= 0 && alpha(x, y) > 0) { h++; y--; }
    // Ink above the first gap, up to the top of the bar area (a cut bar continues past its break).
    let above = 0;
    for (let yy = Math.round((base - area) * dpr); yy <= y; yy++) if (alpha(x, yy) > 0) above++;
    out.push({ index: Number(col.dataset.tokenIndex), height: h / dpr, above: above / dpr,
               centre: c.left + c.width / 2 });
  }
  return { bars: out, area };
}"""


@pytest.fixture(scope="module")
def att(smollm2):
    model, tok = smollm2
    return aw.extract(model, tok, PROMPT)


def open_page(page, path, scheme="light"):
    page.page.emulate_media(color_scheme=scheme)
    page.page.goto(path.as_uri())
    page.page.wait_for_selector("html[data-attnwidget-ready]")
    page.page.wait_for_selector(".aw-rollout[data-cut]", state="attached")
    show_tab(page.page, "rollout")  # a dashboard holds the rollout in a tab
    return page.page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_bar_heights_are_proportional_and_the_sink_is_cut_with_its_value(page, att, tmp_path, artifacts, scheme):
    bar = aw.RolloutBar(att)
    assert bar.scale == "linear"
    # The kernel's rollout into the last token, in float32: the expected reading comes from these.
    values = np.asarray(bar.values, dtype=np.float64)
    sink = int(np.argmax(values))
    others = np.delete(values, sink)
    assert values[sink] > 0.99 and others.max() < 1e-4  # a decoder's sink dwarfs every other bar
    top = others.max()

    path = aw.save_html(bar, tmp_path / "rollout.html", title="rollout")
    pg = open_page(page, path, scheme)
    root = pg.locator(".attnwidget.aw-rollout").first
    root.screenshot(path=str(artifacts / f"rollout-reading-{scheme}.png"))
    assert root.get_attribute("data-cut") == str(sink)
    read = root.evaluate(READ_BARS)
    area = read["area"]
    bars = {b["index"]: b for b in read["bars"]}
    assert sorted(bars) == list(range(att.n_key))

    # Unclipped bars: height / area == value / (largest unclipped value), within the 4.2% of the
    # coded rollout and a pixel of edge; bars under 3 px are only checked to be drawn.
    checked = 0
    for j, b in bars.items():
        if j == sink:
            continue
        want = area * values[j] / top
        if want >= 3:
            assert abs(b["height"] - want) <= 1.5 + 0.05 * want, f"bar {j}: {b['height']} px, expected {want:.1f}"
            checked += 1
        elif values[j] > 0:
            assert b["height"] >= 1, f"bar {j} (value {values[j]:.2e}) is not drawn"
    assert checked >= 3
    tall = [j for j in bars if j != sink and area * values[j] / top >= 10]
    for i in tall:
        for j in tall:
            got = bars[i]["height"] / bars[j]["height"]
            assert got == pytest.approx(values[i] / values[j], rel=0.12), (i, j)

    # The cut bar: painted below its break, a gap, painted again above it, and its value printed
    # over its column.
    cut = bars[sink]
    assert cut["height"] > 0.7 * area and cut["height"] < area
    assert cut["above"] > 0
    label = root.locator(".aw-bar-value")
    assert label.is_visible()
    assert float(label.text_content()) == pytest.approx(values[sink], rel=0.05)
    lb = label.bounding_box()
    assert abs(lb["x"] + lb["width"] / 2 - cut["centre"]) <= 2

    # One caption line says what the heights are, naming the axis top and the cut bar's value.
    caption = root.locator(".aw-caption")
    text = caption.text_content()
    assert "∝ rollout" in text and "bar cut" in text and label.text_content() in text, text
    assert caption.bounding_box()["height"] <= 20
    assert "cut at the top" in caption.get_attribute("title")
    # Alone, the view keeps its controls.
    assert root.locator("select").count() >= 2
    assert root.locator("button", has_text="PNG").count() == 1
    assert page.blocked == [] and page.errors == []


def test_log_heights_on_request_say_they_are_not_proportional(page, att, tmp_path):
    path = aw.save_html(aw.RolloutBar(att, scale="log"), tmp_path / "rollout-log.html")
    pg = open_page(page, path)
    root = pg.locator(".attnwidget.aw-rollout").first
    assert root.get_attribute("data-cut") == "-1"
    assert "not proportional" in root.locator(".aw-caption").text_content()
    assert page.errors == []


def test_in_a_dashboard_the_rollout_draws_no_controls_of_its_own(page, att, tmp_path, artifacts):
    dash = aw.show(att)
    assert dash.rollout.scale == "linear" and dash.heatmap.scale == "log"
    path = aw.save_html(dash, tmp_path / "dash.html")
    pg = open_page(page, path)
    root = pg.locator(".attnwidget.aw-rollout").first
    root.screenshot(path=str(artifacts / "rollout-reading-embedded.png"))
    assert root.locator("select, input").count() == 0
    assert root.locator("button", has_text="PNG").count() == 0
    assert root.locator(".aw-sink-fix").count() == 0
    # Its PNG is offered by the dashboard's menu, drawn by the view.
    assert pg.locator(".aw-dashboard .aw-png[title*='attention-rollout.png']").count() == 1
    assert root.locator(".aw-caption").count() == 1
    assert root.locator(".aw-caption").bounding_box()["height"] <= 20
    assert root.get_attribute("data-cut") == "0"
    assert page.errors == []
