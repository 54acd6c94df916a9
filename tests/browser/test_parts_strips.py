"""The source and target token strips above an encoder-decoder page's part selector: a strip token
hovered or pinned marks its token in whatever part is shown, a token hovered in the part marks its
strip token, and a target position never marks the source token with the same number."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.parts_page import HOVER_RGB, PIN_RGB, bands, cross_drawn, marked, near, open_page
from helpers.tiny_models import words
from helpers.tiny_seq2seq import tiny_seq2seq

import attnwidget as aw


@pytest.fixture(scope="module")
def pair(word_tokenizer):
    # Source and target words apart, more target than source tokens.
    return aw.extract(tiny_seq2seq("marian"), word_tokenizer, words(4, start=1), target=words(6, start=50))


def strips(root) -> tuple:
    return tuple(root.locator(f".aw-part-strips .aw-part-strip[data-side='{side}']") for side in ("source", "target"))


def nodes(graph, cls: str = "aw-hovered") -> list:
    """The cross graph's marked nodes as [side, index]."""
    return graph.locator(f".aw-node.{cls}").evaluate_all(
        "els => els.map(e => e.dataset.queryIndex !== undefined ? ['target', e.dataset.queryIndex] : ['source', e.dataset.tokenIndex])"
    )


def test_strip_tokens_and_the_cross_part_mark_each_other(page, pair, tmp_path, artifacts):
    Q, K = pair.cross.n_query, pair.cross.n_key
    j = 2  # target token 2 and source token 2 are different tokens
    assert j < K < Q and pair.decoder.tokens[j] != pair.encoder.tokens[j]
    pg, root = open_page(page, aw.show(pair, threshold=0.05), tmp_path)
    source, target = strips(root)
    heat, graph = cross_drawn(root)
    assert source.locator("[data-token-index]").all_text_contents() == pair.encoder.tokens
    assert target.locator("[data-token-index]").all_text_contents() == pair.decoder.tokens
    # Above the part selector, outside the part's slot.
    assert root.locator(".aw-part .aw-part-strip").count() == 0
    assert source.bounding_box()["y"] < target.bounding_box()["y"] < root.locator(".aw-part-bar").bounding_box()["y"]

    # A source strip token: its cross column, its key label and its source node; no target row.
    source.locator(f"[data-token-index='{j}']").hover()
    root.locator(f".aw-heatmap .aw-key-labels .aw-hovered[data-token-index='{j}']").first.wait_for(state="attached")
    assert marked(root.locator(".aw-heatmap .aw-key-labels")) == [str(j)]
    assert marked(root.locator(".aw-heatmap .aw-query-labels"), attr="queryIndex") == []
    drawn = bands(heat, Q, K)
    assert drawn["rows"] == {} and list(drawn["cols"]) == [j] and near(drawn["cols"][j], HOVER_RGB), drawn
    assert nodes(graph) == [["source", str(j)]]
    assert marked(source) == [str(j)] and marked(target) == []

    # A target strip token with the same number: its cross row and target node; no source column.
    target.locator(f"[data-token-index='{j}']").hover()
    root.locator(f".aw-heatmap .aw-query-labels .aw-hovered[data-query-index='{j}']").first.wait_for(state="attached")
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-key-labels .aw-hovered')")
    assert marked(root.locator(".aw-heatmap .aw-query-labels"), attr="queryIndex") == [str(j)]
    drawn = bands(heat, Q, K)
    assert list(drawn["rows"]) == [j] and near(drawn["rows"][j], HOVER_RGB) and drawn["cols"] == {}, drawn
    assert nodes(graph) == [["target", str(j)]]
    assert marked(target) == [str(j)] and marked(source) == []
    for width, scheme in ((1280, "light"), (1280, "dark"), (1000, "light")):
        pg.set_viewport_size({"width": width, "height": 800})
        pg.emulate_media(color_scheme=scheme)
        pg.wait_for_timeout(200)
        pg.screenshot(path=str(artifacts / f"parts-strips-{width}-{scheme}.png"))
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.emulate_media(color_scheme="light")

    # From the part to the strips: a target node marks the target strip alone, a source node the
    # source strip alone.
    k = Q - 1
    graph.locator(f".aw-query-node[data-query-index='{k}']").hover()
    target.locator(f".aw-hovered[data-token-index='{k}']").wait_for(state="attached")
    assert marked(target) == [str(k)] and marked(source) == []
    graph.locator(f".aw-node[data-token-index='{j}']").hover()
    source.locator(f".aw-hovered[data-token-index='{j}']").wait_for(state="attached")
    pg.wait_for_function("() => !document.querySelector(\".aw-part-strip[data-side='target'] .aw-hovered\")")
    assert marked(source) == [str(j)] and marked(target) == []
    # A heatmap cell names both: its row in the target strip, its column in the source strip.
    box = heat.bounding_box()
    i, c = 4, 1
    pg.mouse.move(box["x"] + (c + 0.5) / K * box["width"], box["y"] + (i + 0.5) / Q * box["height"])
    target.locator(f".aw-hovered[data-token-index='{i}']").wait_for(state="attached")
    source.locator(f".aw-hovered[data-token-index='{c}']").wait_for(state="attached")
    assert marked(target) == [str(i)] and marked(source) == [str(c)]
    # Leaving the page lets go of both.
    pg.mouse.move(1270, 5)
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-hovered')")

    # A click on a strip token pins it: the target strip's token 1 pins cross row 1, not column 1.
    target.locator("[data-token-index='1']").click()
    root.locator(".aw-heatmap .aw-query-labels .aw-pinned[data-query-index='1']").first.wait_for(state="attached")
    pg.mouse.move(1270, 5)
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-hovered')")
    assert marked(root.locator(".aw-heatmap .aw-key-labels"), "aw-pinned") == []
    drawn = bands(heat, Q, K)
    assert list(drawn["rows"]) == [1] and near(drawn["rows"][1], PIN_RGB) and drawn["cols"] == {}, drawn
    assert marked(target, "aw-pinned") == ["1"] and marked(source, "aw-pinned") == []
    # A second click lets go.
    target.locator("[data-token-index='1']").click()
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-pinned')")
    assert page.blocked == [] and page.errors == []


def test_strips_reach_the_encoder_and_decoder_parts_and_their_pins_follow_a_switch(page, pair, tmp_path):
    j = 1
    pg, root = open_page(page, aw.show(pair, part="encoder", threshold=0.05), tmp_path)
    source, target = strips(root)
    part = root.locator(".aw-part")
    text = part.locator(".aw-tokentext .aw-text").first
    text.wait_for(state="visible")

    # The encoder part holds source tokens: a source strip token marks its token text and key label.
    source.locator(f"[data-token-index='{j}']").hover()
    text.locator(f".aw-hovered[data-token-index='{j}']").wait_for(state="attached")
    part.locator(f".aw-heatmap .aw-key-labels .aw-hovered[data-token-index='{j}']").first.wait_for(state="attached")
    assert marked(text) == [str(j)]
    # A target strip token has no place in the encoder: nothing in the part, nothing in the source strip.
    target.locator(f"[data-token-index='{j}']").hover()
    pg.wait_for_function("() => !document.querySelector('.aw-parts .aw-part .aw-hovered')")
    assert marked(source) == [] and marked(target) == [str(j)]
    # Hovering the encoder's text marks the source strip.
    k = len(pair.encoder.tokens) - 1
    text.locator(f"[data-token-index='{k}']").hover()
    source.locator(f".aw-hovered[data-token-index='{k}']").wait_for(state="attached")
    assert marked(source) == [str(k)] and marked(target) == []

    # Pin a source token from its strip, then a target token from its strip in the decoder part.
    source.locator(f"[data-token-index='{j}']").click()
    text.locator(f".aw-pinned[data-token-index='{j}']").wait_for(state="attached")
    root.locator(".aw-part-tab[data-part='decoder']").click()
    pg.locator(".aw-parts[data-part='decoder']").wait_for(state="attached")
    text = part.locator(".aw-tokentext .aw-text").first
    text.locator("[data-token-index]").first.wait_for(state="visible")
    assert part.locator(".aw-pinned").count() == 0  # the source pin has no token here
    assert marked(source, "aw-pinned") == [str(j)]  # but its strip still shows it
    t = 3
    target.locator(f"[data-token-index='{t}']").click()
    text.locator(f".aw-pinned[data-token-index='{t}']").wait_for(state="attached")
    target.locator(f"[data-token-index='{t}']").hover()
    text.locator(f".aw-hovered[data-token-index='{t}']").wait_for(state="attached")
    assert marked(text) == [str(t)]

    # The cross part shows both pins where they belong: source column j, target row t.
    root.locator(".aw-part-tab[data-part='cross']").click()
    cross_drawn(root)
    part.locator(f".aw-heatmap .aw-key-labels .aw-pinned[data-token-index='{j}']").first.wait_for(state="attached")
    part.locator(f".aw-heatmap .aw-query-labels .aw-pinned[data-query-index='{t}']").first.wait_for(state="attached")
    assert marked(part.locator(".aw-heatmap .aw-key-labels"), "aw-pinned") == [str(j)]
    assert marked(part.locator(".aw-heatmap .aw-query-labels"), "aw-pinned", "queryIndex") == [str(t)]
    assert marked(source, "aw-pinned") == [str(j)] and marked(target, "aw-pinned") == [str(t)]
    assert page.blocked == [] and page.errors == []


def long_pair(n_source: int, n_target: int) -> aw.Seq2SeqAttention:
    rng = np.random.default_rng(0)

    def weights(q, k, causal=False):
        w = rng.random((1, 2, q, k)).astype(np.float32) ** 3 + 1e-3
        if causal:
            w = np.tril(w)
        return w / w.sum(-1, keepdims=True)

    src = [f" s{i}" for i in range(n_source - 2)] + ["\n", "</s>"]
    tgt = ["<pad>"] + [f" t{i}" for i in range(1, n_target)]
    return aw.Seq2SeqAttention(
        aw.Attention(weights(len(src), len(src)), src),
        aw.Attention(weights(len(tgt), len(tgt), causal=True), tgt),
        aw.Attention(weights(len(tgt), len(src)), src, query_tokens=tgt),
    )


def test_long_strips_stay_three_lines_and_bring_a_token_marked_in_the_part_into_view(page, tmp_path, artifacts):
    s = long_pair(300, 200)
    pg, root = open_page(page, aw.show(s, part="cross"), tmp_path)
    source, target = strips(root)
    heat, graph = cross_drawn(root)
    # Each strip wraps and then scrolls: at most three lines of tokens, whatever the length.
    line = source.locator("[data-token-index='0']").bounding_box()["height"]
    for strip, n in ((source, 300), (target, 200)):
        assert strip.locator("[data-token-index]").count() == n
        h = strip.evaluate("el => [el.clientHeight, el.scrollHeight]")
        assert h[0] <= 3.6 * line and h[1] > h[0] + 2 * line, h
    # Invisible characters are marked, not drawn as nothing.
    assert source.locator("[data-token-index='298']").text_content() not in ("\n", "")
    assert source.locator("[data-token-index='0']").text_content() != " s0"
    # A source column near the end hovered in the heatmap scrolls the source strip to its token.
    Q, K = s.cross.n_query, s.cross.n_key
    box = heat.bounding_box()
    pg.mouse.move(box["x"] + (K - 20.5) / K * box["width"], box["y"] + 2.5 / Q * box["height"])
    hovered = source.locator(".aw-hovered")
    hovered.wait_for(state="attached")
    j = int(hovered.get_attribute("data-token-index"))
    assert j > 200
    # The part agrees: the cross graph marks the same source token, and the target row hovered.
    got = dict(nodes(graph))
    assert got["source"] == str(j) and set(got) == {"source", "target"}
    tok, frame = hovered.bounding_box(), source.bounding_box()
    assert frame["y"] <= tok["y"] and tok["y"] + tok["height"] <= frame["y"] + frame["height"] + 1, (tok, frame)
    # The target strip, not scrolled, marks the hovered row.
    assert marked(target) == [got["target"]]
    pg.screenshot(path=str(artifacts / "parts-strips-long.png"))
    assert page.blocked == [] and page.errors == []
