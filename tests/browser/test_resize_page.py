"""A saved dashboard follows its width: the window made narrower and wider again redraws every view
that lays out by width (heatmap, head grid, rollout, graph) inside its root, the dashboard goes to
one column when narrow, and nothing is redrawn while the output is hidden. Beside the heatmap's
weights/norms switch, the other views say that they draw weights."""

from __future__ import annotations

import pytest
from helpers.views import wait_drawn

import attnwidget as aw

pytestmark = pytest.mark.slow

TEXT = (
    "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat, "
    "and the dog, tired of running, lies down beside the cat to rest in the sun."
)

# For each view: its root, and the element whose drawn width follows the root's.
DRAWN = {
    "heatmap": ".aw-heatmap canvas.aw-map",
    "headgrid": ".aw-headgrid .aw-grid canvas",
    "rollout": ".aw-rollout canvas.aw-bars-canvas",
    "graph": ".aw-graph .aw-body > svg",
}

WIDTHS = """sel => Object.fromEntries(Object.entries(sel).map(([kind, q]) => {
  const root = document.querySelector(`.attnwidget.aw-${kind}`);
  const drawn = document.querySelector(q);
  return [kind, { root: root.clientWidth, drawn: drawn.getBoundingClientRect().width,
                  attr: drawn.getAttribute("width") }];
}))"""


@pytest.fixture(scope="module")
def pair(smollm2):
    model, tok = smollm2
    return aw.extract(model, tok, TEXT), aw.extract(model, tok, TEXT, measure="norms")


def widths(pg) -> dict:
    return pg.evaluate(WIDTHS, DRAWN)


def settle(pg) -> dict:
    """The widths once two frames pass without change (the views redraw in the frame after a resize)."""
    pg.wait_for_timeout(100)
    before = widths(pg)
    for _ in range(20):
        pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        now = widths(pg)
        if now == before:
            return now
        before = now
    raise AssertionError(f"the views kept changing size: {before}")


def inside(w: dict) -> None:
    for kind, v in w.items():
        assert 0 < v["drawn"] <= v["root"] + 0.5, f"{kind} draws {v['drawn']} px in a root {v['root']} px wide"


SELECTED_LAYER = 23
SELECTED_IN_VIEW = """layer => {
  const box = document.querySelector(".aw-headgrid .aw-grid");
  const lab = box.querySelector(`[data-row-layer='${layer}']`).getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return lab.top >= b.top && lab.bottom <= b.bottom;
}"""


def selected_row_in_view(pg) -> bool:
    return pg.evaluate(SELECTED_IN_VIEW, SELECTED_LAYER)


def wide(pg) -> bool:
    return pg.locator(".aw-dashboard").first.evaluate("el => el.classList.contains('aw-wide')")


def test_views_follow_the_window_width(page, pair, tmp_path, artifacts):
    weights, _ = pair
    # A layer far down the head grid is selected: every new layout keeps its row in the grid's view.
    path = aw.save_html(aw.show(weights, layer=SELECTED_LAYER), tmp_path / "resize.html", title="resize")
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    wait_drawn(pg)
    first = settle(pg)
    inside(first)
    assert wide(pg)
    assert selected_row_in_view(pg)

    pg.set_viewport_size({"width": 900, "height": 800})
    mid = settle(pg)
    inside(mid)
    assert wide(pg)  # still two columns at 900
    assert selected_row_in_view(pg)
    # The head grid's thumbnails, the rollout's columns and the graph got narrower with their slots.
    for kind in ("headgrid", "rollout", "graph"):
        assert mid[kind]["root"] < first[kind]["root"], kind
        assert mid[kind]["drawn"] < first[kind]["drawn"], (kind, first[kind], mid[kind])
    pg.screenshot(path=str(artifacts / "resize-900.png"))

    # Narrower than the dashboard's two columns: one column, and the heatmap's map shrinks too.
    pg.set_viewport_size({"width": 440, "height": 800})
    narrow = settle(pg)
    inside(narrow)
    assert not wide(pg)
    assert selected_row_in_view(pg)
    assert narrow["heatmap"]["drawn"] < first["heatmap"]["drawn"], (first["heatmap"], narrow["heatmap"])
    pg.screenshot(path=str(artifacts / "resize-440.png"), full_page=True)

    # Back to 1280: every view draws as it first did.
    pg.set_viewport_size({"width": 1280, "height": 800})
    back = settle(pg)
    assert wide(pg)
    assert back == first
    assert selected_row_in_view(pg)

    # Hidden (width 0), nothing is redrawn; shown again at another width, the views follow it.
    host = pg.locator(".aw-dashboard").first
    host.evaluate("el => { el.parentElement.style.display = 'none'; }")
    pg.set_viewport_size({"width": 900, "height": 800})
    pg.wait_for_timeout(200)
    hidden = pg.evaluate(
        "sel => Object.fromEntries(Object.entries(sel).map(([k, q]) => [k, document.querySelector(q).getAttribute('width')]))",
        DRAWN,
    )
    assert hidden == {k: v["attr"] for k, v in first.items()}
    host.evaluate("el => { el.parentElement.style.display = ''; }")
    shown = settle(pg)
    assert shown == mid
    assert page.errors == []


def titles(pg) -> dict:
    return {
        kind: pg.locator(f".attnwidget.aw-{kind} .aw-title").first.text_content()
        for kind in ("heatmap", "headgrid", "rollout", "graph", "tokentext")
    }


def test_views_beside_a_norms_switch_say_they_draw_weights(page, pair, tmp_path, artifacts):
    weights, norms = pair
    dash = aw.show(weights, layer=23, head=3, norms=norms)
    assert [v._measure_name for v in (dash.headgrid, dash.rollout, dash.graph, dash.tokentext)] == ["weights"] * 4
    assert dash.heatmap._measure_name == ""  # the heatmap names its measure itself
    path = aw.save_html(dash, tmp_path / "norms.html", title="norms")
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    wait_drawn(pg)
    t = titles(pg)
    assert t["heatmap"].startswith("Attention weights · layer 23 · head 3"), t
    assert t["headgrid"].startswith("Heads · weights · "), t
    assert t["rollout"].startswith("Attention rollout of weights into token "), t
    assert t["graph"].startswith("Graph of weights · layer 23 · head 3"), t
    assert t["tokentext"].startswith("Text (attention weights) · layer 23 · head 3"), t

    pg.locator(".aw-toolbar label.aw-measure select").first.select_option("norms")
    pg.locator(".attnwidget.aw-heatmap[data-measure='norms']").first.wait_for(state="attached")
    after = titles(pg)
    assert after["heatmap"].startswith("Value-weighted norms · layer 23 · head 3"), after
    # The other views still draw weights, and still say so.
    for kind in ("headgrid", "rollout", "graph", "tokentext"):
        assert after[kind] == t[kind], kind
    for scheme in ("light", "dark"):
        pg.emulate_media(color_scheme=scheme)
        for width in (1280, 1000):
            pg.set_viewport_size({"width": width, "height": 800})
            settle(pg)
            pg.screenshot(path=str(artifacts / f"norms-dashboard-{width}-{scheme}.png"))
    assert page.errors == []


def test_without_norms_the_titles_name_no_measure(page, pair, tmp_path):
    weights, _ = pair
    path = aw.save_html(aw.show(weights, layer=23, head=3), tmp_path / "plain.html", title="plain")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    wait_drawn(pg)
    t = titles(pg)
    assert t["heatmap"].startswith("Attention · layer 23"), t
    assert t["headgrid"].startswith("Heads · ") and "weights" not in t["headgrid"], t
    assert t["rollout"].startswith("Attention rollout into token "), t
    assert t["graph"].startswith("Graph · layer 23"), t
    assert t["tokentext"].startswith("Text · layer 23"), t
    assert page.errors == []
