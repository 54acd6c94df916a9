"""Cross-attention in a saved page: target tokens label the rows, source tokens the columns, and
the tooltip of a hovered cell names its target (query) and source (key) token."""

from __future__ import annotations

import json

import pytest
from helpers.tiny_models import words
from helpers.tiny_seq2seq import tiny_seq2seq

import attnwidget as aw


@pytest.fixture(scope="module")
def pair(word_tokenizer):
    # Source and target words apart, and more target than source tokens (a tall map).
    return aw.extract(tiny_seq2seq("marian"), word_tokenizer, words(4, start=1), target=words(6, start=50))


def cell(canvas, i: int, j: int, n_query: int, n_key: int) -> tuple[float, float]:
    box = canvas.bounding_box()
    return box["x"] + ((j + 0.5) / n_key) * box["width"], box["y"] + ((i + 0.5) / n_query) * box["height"]


def test_saved_cross_heatmap_names_target_rows_and_source_columns(page, pair, tmp_path, artifacts):
    cross = pair.cross
    L, H, Q, K = cross.shape
    assert Q > K and set(cross.query_tokens).isdisjoint(cross.tokens)
    path = aw.save_html(aw.AttentionHeatmap(cross, head=0), tmp_path / "cross.html", title="cross-attention")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    canvas = pg.locator(".aw-heatmap canvas.aw-map").first
    canvas.wait_for(state="visible")
    root = pg.locator(".attnwidget.aw-heatmap").first
    assert root.locator(".aw-title").first.text_content().startswith("Cross-attention (target rows, source columns)")
    # Row labels are target tokens, named by query row; no row label carries a source position.
    assert pg.locator(".aw-heatmap .aw-query-labels [data-token-index]").count() == 0
    rows = pg.locator(".aw-heatmap .aw-query-labels [data-query-index]").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    cols = pg.locator(".aw-heatmap .aw-key-labels [data-token-index]").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert rows and set(rows) <= set(cross.query_tokens) and set(rows) & set(cross.query_tokens) - set(cross.tokens)
    assert cols and set(cols) <= set(cross.tokens)
    # The map is as tall as Q rows and as wide as K columns, cells square.
    box = canvas.bounding_box()
    assert box["height"] / box["width"] == pytest.approx(Q / K, rel=0.05)

    i, j = Q - 2, 1
    pg.mouse.move(*cell(canvas, i, j, Q, K))
    tip = pg.locator(".aw-heatmap .aw-tip").first
    tip.wait_for(state="visible")
    lines = tip.text_content().split("\n")
    assert lines[0] == f"query (target) {i} {json.dumps(cross.query_tokens[i])}", lines
    assert lines[1] == f"key (source) {j} {json.dumps(cross.tokens[j])}", lines
    want = float(cross.head(cross.layer_ids[0], 0)[i, j])
    got = float(lines[2].split()[2])  # "weight ≈ 0.123 (±2.8%)"
    assert got == pytest.approx(want, rel=0.03)
    # The hovered cell's source token is marked among the column labels, its target token among
    # the row labels, each alone.
    pg.locator(f".aw-heatmap .aw-key-labels .aw-hovered[data-token-index='{j}']").first.wait_for(state="attached")
    pg.locator(f".aw-heatmap .aw-query-labels .aw-hovered[data-query-index='{i}']").first.wait_for(state="attached")
    assert pg.locator(".aw-heatmap .aw-hovered").count() == 2
    root.screenshot(path=str(artifacts / "cross-heatmap.png"))
    assert page.blocked == [] and page.errors == []


def test_saved_parts_page_switches_parts_and_carries_a_pinned_source_token(page, pair, tmp_path, artifacts):
    path = aw.save_html(aw.show(pair), tmp_path / "parts.html", title="encoder-decoder")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-parts").first
    root.wait_for(state="visible")
    tabs = root.locator(".aw-part-tab")
    assert tabs.evaluate_all("els => els.map(e => e.textContent)") == ["encoder", "decoder", "cross"]
    # The cross part first: one heatmap, target rows.
    assert root.get_attribute("data-part") == "cross"
    assert root.locator(".aw-part-tab[data-part='cross']").get_attribute("aria-pressed") == "true"
    root.locator(".aw-part .aw-heatmap canvas.aw-map").first.wait_for(state="visible")
    assert root.locator(".aw-part .aw-heatmap .aw-title").first.text_content().startswith("Cross-attention")
    assert root.locator(".aw-part .aw-headgrid").count() == 0
    # The two-row graph under it, linked: hovering a cell marks its source token there.
    root.locator(".aw-part .aw-cross-graph .aw-query-node").first.wait_for(state="visible")
    heat = root.locator(".aw-part .aw-heatmap canvas.aw-map").first
    Q, K = pair.cross.n_query, pair.cross.n_key
    pg.mouse.move(*cell(heat, 1, 3, Q, K))
    root.locator(".aw-part .aw-cross-graph .aw-node.aw-hovered[data-token-index='3']").first.wait_for(state="attached")

    # The encoder: a whole dashboard over the source tokens.
    root.locator(".aw-part-tab[data-part='encoder']").click()
    pg.locator(".aw-parts[data-part='encoder'] .aw-part .aw-dashboard .aw-headgrid").first.wait_for(state="visible")
    canvas = root.locator(".aw-part .aw-heatmap canvas.aw-map").first
    canvas.wait_for(state="visible")
    assert root.locator(".aw-part .aw-heatmap .aw-title").first.text_content().startswith("Attention ·")
    src = pair.encoder.tokens
    cols = root.locator(".aw-part .aw-heatmap .aw-query-labels [data-token-index]").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert cols and set(cols) <= set(src)
    # Pin source token 2 (click its row), then the cross view marks that source column as pinned.
    n = len(src)
    box = canvas.bounding_box()
    pg.mouse.click(box["x"] + box["width"] * 0.5 / n, box["y"] + box["height"] * 2.5 / n)
    root.locator(".aw-part .aw-heatmap .aw-key-labels .aw-pinned[data-token-index='2']").first.wait_for(
        state="attached"
    )
    root.locator(".aw-part-tab[data-part='decoder']").click()
    pg.locator(".aw-parts[data-part='decoder'] .aw-part .aw-dashboard").first.wait_for(state="visible")
    rows = root.locator(".aw-part .aw-heatmap .aw-query-labels [data-token-index]").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert rows and set(rows) <= set(pair.decoder.tokens)
    root.locator(".aw-part-tab[data-part='cross']").click()
    pg.locator(".aw-parts[data-part='cross'] .aw-part .aw-heatmap canvas.aw-map").first.wait_for(state="visible")
    pinned = root.locator(".aw-part .aw-heatmap .aw-key-labels .aw-pinned")
    pinned.first.wait_for(state="attached")
    assert pinned.evaluate_all("els => els.map(e => e.dataset.tokenIndex)") == ["2"]
    assert pinned.first.text_content() == src[2]
    root.screenshot(path=str(artifacts / "parts-cross.png"))
    assert page.blocked == [] and page.errors == []


def test_saved_cross_graph_draws_target_row_above_source_row(page, pair, tmp_path, artifacts):
    cross = pair.cross
    L, H, Q, K = cross.shape
    threshold = 0.2
    path = aw.save_html(aw.AttentionGraph(cross, threshold=threshold, head=1), tmp_path / "cross-graph.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-cross-graph").first
    root.wait_for(state="visible")
    assert root.locator(".aw-title").first.text_content().startswith("Cross-attention graph · layer 0 · head 1")
    targets = root.locator(".aw-query-node text").evaluate_all("els => els.map(e => e.textContent)")
    sources = root.locator(".aw-node[data-token-index] text").evaluate_all("els => els.map(e => e.textContent)")
    assert targets == cross.query_tokens and sources == cross.tokens
    top = root.locator(".aw-query-node").first.bounding_box()["y"]
    bottom = root.locator(".aw-node[data-token-index]").first.bounding_box()["y"]
    assert top < bottom  # target row above the source row
    # One line per cell at or above the threshold, as the model's weights say (coded within 2.8%).
    w = cross.head(cross.layer_ids[0], 1)
    edges = root.locator("line.aw-edge")
    clear = (w > threshold * 1.03) | (w < threshold * 0.97)
    assert ((w >= threshold) & clear).sum() <= edges.count() <= (w >= threshold * 0.97).sum()
    assert edges.count() > 0
    # Hover source token j: only its lines stay bright; the shared selection holds j.
    j = int(w.argmax() % K)
    root.locator(f".aw-node[data-token-index='{j}']").first.hover()
    root.locator(f".aw-node.aw-hovered[data-token-index='{j}']").first.wait_for(state="attached")
    # The whole line layer dims at once; j's lines are copied, full strength, into the layer above.
    tips = edges.evaluate_all("els => els.map(e => e.dataset.tip)")
    bright = root.locator(".aw-edges-lit line.aw-edge-lit").evaluate_all(
        "els => els.map(e => [e.dataset.tip, e.getAttribute('stroke-opacity')])"
    )
    mine = [tip for tip in tips if f"key (source) {j} {json.dumps(cross.tokens[j])}" in tip]
    assert mine and sorted(tip for tip, _ in bright) == sorted(mine)
    assert {opacity for _, opacity in bright} == {"0.85"}
    dim = float(root.locator(".aw-edges").first.evaluate("g => getComputedStyle(g).opacity"))
    assert dim * 0.85 == pytest.approx(0.08, abs=0.005)
    # An edge's tooltip names its target and source token.
    i = int(w.argmax() // K)
    want = f"query (target) {i} {json.dumps(cross.query_tokens[i])} → key (source) {j} {json.dumps(cross.tokens[j])}"
    assert sum(tip.startswith(want) for tip in tips) == 1
    root.screenshot(path=str(artifacts / "cross-graph.png"))
    assert page.blocked == [] and page.errors == []
