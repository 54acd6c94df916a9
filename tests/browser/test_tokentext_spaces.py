"""The token text of a WordPiece model reads as words in a saved page, not as one run of letters."""

from __future__ import annotations

import pytest

import attnwidget as aw

pytestmark = pytest.mark.slow


def test_minilm_text_shows_the_spaces_between_words(page, minilm, tmp_path, artifacts):
    pair = aw.extract(*minilm, "The cat sat. Where?", text_pair="A dog.")
    out = aw.save_html(aw.TokenText(pair), tmp_path / "text.html")
    pg = page.page
    pg.goto(out.as_uri())
    text = pg.locator(".aw-tokentext .aw-text")
    text.locator("[data-token-index]").first.wait_for()
    assert text.inner_text() == "[CLS] the cat sat. where? [SEP] a dog. [SEP]"
    assert text.locator("[data-token-index]").count() == len(pair.tokens)
    pg.locator(".aw-tokentext").screenshot(path=str(artifacts / "tokentext-minilm.png"))
    assert page.errors == []
