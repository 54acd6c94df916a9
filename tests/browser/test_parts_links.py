"""A saved encoder-decoder page links target tokens between the decoder and the cross part: a
target token hovered or pinned in one is marked in the other (the cross heatmap's row, the cross
graph's target node), and never as the source token with the same number."""

from __future__ import annotations

import json

import pytest
from helpers.parts_page import HOVER_RGB, PIN_RGB, bands, cross_drawn, marked, near, open_page
from helpers.tiny_models import words
from helpers.tiny_seq2seq import tiny_seq2seq

import attnwidget as aw

# Full-length lines the heatmap's overlay draws: a band round a row gives two horizontal lines
# across the whole map at the row's edges, a band round a column two vertical lines down it.
# Returned as the cell boundaries they sit on, with the colour of each line.


@pytest.fixture(scope="module")
def pair(word_tokenizer):
    # Source and target words apart, more target than source tokens.
    return aw.extract(tiny_seq2seq("marian"), word_tokenizer, words(4, start=1), target=words(6, start=50))


def test_target_token_hovered_in_the_decoder_marks_its_cross_row_and_back(page, pair, tmp_path, artifacts):
    Q, K = pair.cross.n_query, pair.cross.n_key
    j = 2  # a number both sequences have: target token 2 and source token 2 are different tokens
    assert j < K < Q and pair.decoder.tokens[j] != pair.encoder.tokens[j]
    dash = aw.show(pair, threshold=0.05)
    # The target text above the parts view and the source text below, as a notebook shows
    # dash.decoder.tokentext and dash.encoder.tokentext in cells of their own: hovering either
    # reaches the cross part.
    pg, root = open_page(page, [dash.decoder.tokentext, dash, dash.encoder.tokentext], tmp_path)
    target, source = (pg.locator(".attnwidget.aw-tokentext").nth(k) for k in (0, 1))
    assert source.locator("[data-token-index]").all_text_contents() == pair.encoder.tokens
    assert target.locator("[data-token-index]").all_text_contents() == pair.decoder.tokens
    heat, graph = cross_drawn(root)
    # The target text, the cross heatmap and the graph on one 1280 x 800 screen.
    target.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 8)")

    target.locator(f"[data-token-index='{j}']").hover()
    # Heatmap: row j's label and a hover band round row j; no source column, no source label.
    label = root.locator(f".aw-heatmap .aw-query-labels .aw-hovered[data-query-index='{j}']")
    label.first.wait_for(state="attached")
    assert label.first.text_content() == pair.decoder.tokens[j]
    assert marked(root.locator(".aw-heatmap .aw-query-labels"), attr="queryIndex") == [str(j)]
    assert marked(root.locator(".aw-heatmap .aw-key-labels")) == []
    drawn = bands(heat, Q, K)
    assert list(drawn["rows"]) == [j] and near(drawn["rows"][j], HOVER_RGB), drawn
    assert drawn["cols"] == {}, drawn
    # Graph: target node j marked, no source node; the lines left bright are row j's.
    assert marked(graph, attr="queryIndex") == [str(j)]
    assert graph.locator(".aw-node[data-token-index].aw-hovered").count() == 0
    assert graph.get_attribute("data-focus") == f"{j},"
    tips = graph.locator(".aw-edges line.aw-edge").evaluate_all("els => els.map(e => e.dataset.tip)")
    bright = graph.locator(".aw-edges-lit line.aw-edge-lit").evaluate_all("els => els.map(e => e.dataset.tip)")
    row = f"query (target) {j} {json.dumps(pair.decoder.tokens[j])} →"
    assert any(tip.startswith(row) for tip in tips), "row j has lines at this threshold"
    assert sorted(bright) == sorted(tip for tip in tips if tip.startswith(row))
    assert float(graph.locator(".aw-edges").first.evaluate("g => getComputedStyle(g).opacity")) < 0.2
    # The source text: nothing (source token j is another token).
    assert marked(source) == []
    for scheme in ("light", "dark"):
        pg.emulate_media(color_scheme=scheme)
        pg.wait_for_timeout(200)
        pg.screenshot(path=str(artifacts / f"parts-target-hover-{scheme}.png"))
    pg.emulate_media(color_scheme="light")

    # Leave: every mark goes.
    pg.mouse.move(1270, 5)
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-hovered')")
    assert bands(heat, Q, K) == {"rows": {}, "cols": {}}

    # From the cross part back: target node k of the graph marks target token k in the text.
    k = Q - 1
    graph.locator(f".aw-query-node[data-query-index='{k}']").hover()
    target.locator(f".aw-hovered[data-token-index='{k}']").wait_for(state="attached")
    assert marked(target) == [str(k)] and marked(source) == []
    assert marked(root.locator(".aw-heatmap .aw-query-labels"), attr="queryIndex") == [str(k)]
    # Then a source node: the target side lets go, the source text marks it.
    graph.locator(f".aw-node[data-token-index='{j}']").hover()
    source.locator(f".aw-hovered[data-token-index='{j}']").wait_for(state="attached")
    pg.wait_for_function("() => !document.querySelectorAll('.aw-tokentext')[0].querySelector('.aw-hovered')")
    assert marked(source) == [str(j)] and marked(target) == []
    drawn = bands(heat, Q, K)
    assert drawn["rows"] == {} and list(drawn["cols"]) == [j], drawn
    assert page.blocked == [] and page.errors == []


def test_a_pinned_target_token_follows_the_part_switch_and_never_pins_a_source_token(page, pair, tmp_path, artifacts):
    Q, K = pair.cross.n_query, pair.cross.n_key
    j = 1
    pg, root = open_page(page, aw.show(pair, part="decoder", threshold=0.05), tmp_path)
    text = root.locator(".aw-part .aw-tokentext .aw-text").first
    text.wait_for(state="visible")
    text.locator(f"[data-token-index='{j}']").click()
    text.locator(f".aw-pinned[data-token-index='{j}']").wait_for(state="attached")

    root.locator(".aw-part-tab[data-part='cross']").click()
    heat, graph = cross_drawn(root)
    root.locator(f".aw-heatmap .aw-query-labels .aw-pinned[data-query-index='{j}']").first.wait_for(state="attached")
    assert marked(root.locator(".aw-heatmap .aw-key-labels"), "aw-pinned") == []
    drawn = bands(heat, Q, K)
    assert list(drawn["rows"]) == [j] and near(drawn["rows"][j], PIN_RGB) and drawn["cols"] == {}, drawn
    assert marked(graph, "aw-pinned", "queryIndex") == [str(j)]
    assert graph.locator(".aw-node[data-token-index].aw-pinned").count() == 0

    # Pin another target row from the cross heatmap's labels; the decoder follows.
    k = Q - 2
    root.locator(f".aw-heatmap .aw-query-labels [data-query-index='{k}']").click()
    root.locator(f".aw-cross-graph .aw-query-node.aw-pinned[data-query-index='{k}']").wait_for(state="attached")
    root.locator(".aw-part-tab[data-part='decoder']").click()
    pg.locator(".aw-parts[data-part='decoder']").wait_for(state="attached")
    text = root.locator(".aw-part .aw-tokentext .aw-text").first
    text.locator(f".aw-pinned[data-token-index='{k}']").wait_for(state="attached")
    assert marked(text, "aw-pinned") == [str(k)]
    root.locator(f".aw-part .aw-graph .aw-node.aw-pinned[data-token-index='{k}']").wait_for(state="attached")
    # The encoder holds source tokens: no pin of the target side reaches it.
    root.locator(".aw-part-tab[data-part='encoder']").click()
    pg.locator(".aw-parts[data-part='encoder']").wait_for(state="attached")
    enc = root.locator(".aw-part .aw-tokentext .aw-text").first
    enc.locator("[data-token-index]").first.wait_for(state="attached")
    root.locator(".aw-part .aw-graph .aw-node").first.wait_for(state="attached")
    root.locator(".aw-part .aw-heatmap .aw-key-labels [data-token-index]").first.wait_for(state="attached")
    assert root.locator(".aw-part .aw-pinned").count() == 0
    assert page.blocked == [] and page.errors == []
