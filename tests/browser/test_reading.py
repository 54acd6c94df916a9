"""Reading the views in a saved page at a laptop's 1280 x 800, light and dark: tooltips by the
pointer in every view, card colours that follow the reader's colour scheme, every view of
`aw.show` on the first screen and none wider than its slot, and the one-line sink notice with its
fix in place."""

from __future__ import annotations

import pytest
from helpers.reading import card_luminance, check_tooltips, overflowing, view_tops

import attnwidget as aw

pytestmark = pytest.mark.slow

TEXT = "The cat sat on the mat because the mat was warm. The cat"


@pytest.fixture(scope="module")
def saved(smollm2, tmp_path_factory):
    model, tok = smollm2
    att = aw.extract(model, tok, TEXT)
    path = tmp_path_factory.mktemp("reading") / "show.html"
    return aw.save_html(aw.show(att, layer=5), path), att


def open_page(browser, path, width: int, scheme: str):
    ctx = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort())
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(path.as_uri())
    pg.locator(".aw-headgrid [data-layer][data-head]").first.wait_for(state="visible", timeout=60_000)
    pg.locator(".aw-graph .aw-node").first.wait_for(state="attached")
    return ctx, pg, errors


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_saved_page_reads_right_at_1280x800(browser, saved, artifacts, scheme):
    path, _ = saved
    ctx, pg, errors = open_page(browser, path, 1280, scheme)
    try:
        pg.screenshot(path=str(artifacts / f"reading-{scheme}-1280x800.png"))
        tops = view_tops(pg)
        assert all(y < 800 for y in tops.values()), f"views below the first screen: {tops}"
        assert overflowing(pg) == {}
        lum = card_luminance(pg)
        if scheme == "light":
            assert all(v > 230 for v in lum.values()), lum
        else:
            assert all(v < 40 for v in lum.values()), lum
        got = check_tooltips(pg)
        pg.screenshot(path=str(artifacts / f"reading-{scheme}-tooltips.png"))
        assert errors == []
        print({k: round(v["distance"], 1) for k, v in got.items()})
    finally:
        ctx.close()


def test_a_notebook_column_of_1000_px_still_holds_every_view(browser, saved, artifacts):
    """JupyterLab with its file browser open leaves about 1000 px for an output at 1280."""
    path, _ = saved
    ctx, pg, errors = open_page(browser, path, 1000, "light")
    try:
        pg.screenshot(path=str(artifacts / "reading-light-1000x800.png"))
        tops = view_tops(pg)
        assert all(y < 800 for y in tops.values()), f"views below the first screen: {tops}"
        assert overflowing(pg) == {}
        check_tooltips(pg)
        assert errors == []
    finally:
        ctx.close()


def test_sink_notice_names_the_token_and_hides_it_in_place(browser, saved):
    path, att = saved
    ctx, pg, errors = open_page(browser, path, 1280, "light")
    try:
        heat = pg.locator(".attnwidget.aw-heatmap").first
        notice = heat.locator(".aw-sink")
        notice.wait_for(state="visible")
        # Checked against the attention itself: the mean share of the first token over the rows of layer 5.
        w = att.layer(5).mean(axis=0)
        share = float(w[:, 0].mean())
        assert share > 0.5
        assert notice.get_attribute("data-sink") == "0"
        assert f"{round(share * 100)}%" in notice.inner_text() and '"The"' in notice.inner_text()
        # In a dashboard the notice points to the toolbar's "hide first token", which hides it in
        # every view: each legend says the rows were renormalised without it.
        assert "hide first token" in notice.inner_text()
        pg.locator(".aw-toolbar .aw-tb-hide input").check()
        heat.locator(".aw-legend", has_text="rows renormalised without token 0").wait_for()
        for kind in ("headgrid", "rollout", "graph"):
            pg.locator(f".aw-{kind} .aw-legend", has_text="rows renormalised without token 0").first.wait_for(
                state="attached"
            )
        assert heat.locator(".aw-sink").get_attribute("data-sink") != "0"
        assert errors == []
    finally:
        ctx.close()


def test_headgrid_follows_a_layer_chosen_elsewhere(browser, saved):
    path, _ = saved
    ctx, pg, errors = open_page(browser, path, 1280, "light")
    try:
        # The dashboard's toolbar holds the layer and head selects.
        pg.locator(".aw-toolbar .aw-tb-layer select").select_option("20")
        pg.locator(".aw-toolbar .aw-tb-head select").select_option("4")
        cell = pg.locator(".aw-headgrid .aw-thumb.aw-selected")
        cell.wait_for()
        assert (cell.get_attribute("data-layer"), cell.get_attribute("data-head")) == ("20", "4")
        grid = pg.locator(".aw-headgrid .aw-grid").first.bounding_box()
        box = cell.bounding_box()
        assert grid["y"] <= box["y"] and box["y"] + box["height"] <= grid["y"] + grid["height"], (grid, box)
        assert (
            pg.locator(".aw-headgrid .aw-layer-label", has_text="L20").evaluate("e => getComputedStyle(e).fontWeight")
            == "700"
        )
        assert errors == []
    finally:
        ctx.close()


MASKED_PIXEL = """root => {
  const c = root.querySelector('canvas.aw-map');
  const d = c.getContext('2d').getImageData(c.width - 3, 3, 1, 1).data;  // above the diagonal: masked
  return [d[0], d[1], d[2]];
}"""


def test_canvases_follow_a_theme_switch(browser, saved):
    """Masked cells take the theme's panel colour, and are drawn again when the reader switches."""
    path, _ = saved
    ctx, pg, errors = open_page(browser, path, 1280, "light")
    try:
        heat = pg.locator(".attnwidget.aw-heatmap").first
        light = heat.evaluate(MASKED_PIXEL)
        assert min(light) > 200, light
        pg.emulate_media(color_scheme="dark")
        pg.wait_for_function("""() => { const c = document.querySelector('.aw-heatmap canvas.aw-map');
          return c.getContext('2d').getImageData(c.width - 3, 3, 1, 1).data[0] < 80; }""")
        dark = heat.evaluate(MASKED_PIXEL)
        assert max(dark) < 80, dark
        assert heat.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(13, 17, 23)"
        assert errors == []
    finally:
        ctx.close()
