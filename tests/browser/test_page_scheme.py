"""A saved page follows the reader's colour scheme around the views too: the page itself and the
demo's report panel, not only the cards."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.__main__ import _report_panel

BACKGROUND = """el => {
  const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
  return 0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2];
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_and_report_panel_take_the_readers_scheme(page, tmp_path, artifacts, scheme):
    rng = np.random.default_rng(0)
    w = np.tril(rng.random((2, 2, 5, 5))) + 1e-3 * np.tril(np.ones((5, 5)))
    att = aw.Attention(w / w.sum(-1, keepdims=True), ["a", "b", "c", "d", "e"])
    out = aw.save_html(
        [aw.HeadGrid(att), _report_panel("Attention report\nline two")], tmp_path / "p.html", title="scheme"
    )
    pg = page.page
    pg.emulate_media(color_scheme=scheme)
    pg.goto(out.as_uri())
    report = pg.locator(".aw-report")
    report.wait_for()
    pg.locator(".aw-headgrid [data-layer][data-head]").first.wait_for(state="visible")
    body = pg.locator("body").evaluate(BACKGROUND)
    panel = report.evaluate(BACKGROUND)
    card = pg.locator(".attnwidget.aw-headgrid").first.evaluate(BACKGROUND)
    pg.screenshot(path=str(artifacts / f"page-scheme-{scheme}.png"))
    if scheme == "light":
        assert min(body, panel, card) > 230, (body, panel, card)
    else:
        assert max(body, panel, card) < 40, (body, panel, card)
    assert page.errors == []
