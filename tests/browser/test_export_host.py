"""The export host on its own, with two small anywidgets: state, buffers, references, linking."""

from __future__ import annotations

from helpers.tiny_widgets import linked_pair

import attnwidget as aw


def test_saved_page_draws_links_and_fetches_nothing(page, tmp_path, artifacts):
    a, b, _ = linked_pair(tokens=["alpha", "beta", "<b>gamma</b>", "delta"])
    out = aw.save_html([a, b], tmp_path / "tiny.html", title="Tiny <i>page</i>")
    pg = page.page
    pg.goto(out.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    rows = pg.locator(".tiny-tokens")
    assert rows.count() == 2
    # Binary buffers arrive as DataViews over the right bytes.
    assert [rows.nth(i).get_attribute("data-sum") for i in range(2)] == ["1.75", "6"]
    # Markup in token text and in the title stays text.
    assert rows.nth(0).locator("[data-token-index='2']").text_content() == "<b>gamma</b>"
    assert pg.locator("b, i").count() == 0
    assert pg.locator("h1").text_content() == "Tiny <i>page</i>"

    rows.nth(0).locator("[data-token-index='2']").hover()
    hovered = rows.nth(1).locator(".aw-hovered")
    hovered.wait_for()
    assert hovered.get_attribute("data-token-index") == "2"
    assert rows.nth(0).locator(".aw-hovered").get_attribute("data-token-index") == "2"
    rows.nth(1).locator("[data-token-index='0']").hover()
    rows.nth(0).locator("[data-token-index='0'].aw-hovered").wait_for()
    assert rows.nth(1).locator(".aw-hovered").count() == 1

    pg.screenshot(path=str(artifacts / "export-host-tiny.png"))
    assert page.blocked == [], f"the saved page asked the network for {page.blocked}"
    assert page.errors == []
