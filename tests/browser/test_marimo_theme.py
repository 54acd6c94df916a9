"""Cards follow marimo's theme (data-theme="dark" / a dark class on <html> or <body>), not only
the system's colour scheme: white cards on marimo dark were the finding."""

from __future__ import annotations

import numpy as np
import pytest

import attnwidget as aw

LUMA = """el => {
  const m = getComputedStyle(el).backgroundColor.match(/[\\d.]+/g).map(Number);
  return 0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2];
}"""


@pytest.mark.parametrize(
    ("scheme", "mark", "dark"),
    [
        ("light", "document.documentElement.dataset.theme = 'dark'", True),
        ("light", "document.body.classList.add('dark')", True),
        ("dark", "document.documentElement.dataset.theme = 'light'", False),
        ("dark", "document.body.classList.add('light')", False),
    ],
)
def test_cards_follow_marimos_theme_over_the_system_scheme(page, tmp_path, scheme, mark, dark):
    rng = np.random.default_rng(0)
    w = rng.random((1, 1, 4, 4))
    att = aw.Attention(w / w.sum(-1, keepdims=True), ["a", "b", "c", "d"])
    pg = page.page
    pg.emulate_media(color_scheme=scheme)
    pg.goto(aw.save_html(aw.TokenText(att), tmp_path / "t.html").as_uri())
    card = pg.locator(".attnwidget").first
    card.wait_for()
    pg.evaluate(mark)
    luma = card.evaluate(LUMA)
    assert (luma < 80) if dark else (luma > 200), luma
    assert page.errors == []
