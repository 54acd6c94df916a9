"""The two-row cross-attention graph on a long pair (200 target x 300 source tokens) stays
readable: the rows keep a minimum spacing and scroll sideways together, only labels that fit are
drawn, a hovered token far along is labelled with the ends of its lines, and a hover rewrites only
what it lights."""

from __future__ import annotations

import json

import numpy as np
import pytest

import attnwidget as aw

Q, K = 200, 300
THRESHOLD = 0.1


@pytest.fixture(scope="module")
def long_cross():
    rng = np.random.default_rng(3)
    w = rng.random((1, 2, Q, K)) * 0.02
    for i in range(Q):
        peak = int(i * (K - 1) / (Q - 1))
        w[:, :, i, peak] += 3.0
        w[:, :, i, max(0, peak - 1)] += 1.0
        w[:, :, i, min(K - 1, peak + 7)] += 0.8
    w /= w.sum(-1, keepdims=True)
    # Words of many lengths; one that looks like markup, which must stay text.
    source = [("<b>x</b>" if j == 150 else f"{'quelle' * (1 + j % 3)}{j}") for j in range(K)]
    target = [f"{'ziel' * (1 + i % 4)}{i}" for i in range(Q)]
    return aw.Attention(w.astype(np.float32), source, query_tokens=target)


def short(t: str) -> str:
    """A label as the graph writes it: long tokens cut to 11 characters and an ellipsis."""
    return t if len(t) <= 12 else t[:11] + "…"


LABELS = """(r) => {
  const box = (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, e.textContent]; };
  const shown = (sel) => [...r.querySelectorAll(sel)].filter((e) => e.getAttribute('display') !== 'none').map(box);
  return {
    query: shown('.aw-query-node text').concat(shown('.aw-focus-label[data-label-query]')),
    token: shown('.aw-node[data-token-index] text').concat(shown('.aw-focus-label[data-label-token]')),
  };
}"""


def assert_disjoint(boxes: list, side: str) -> None:
    boxes = sorted(boxes)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            if b[0] >= a[2]:
                break
            overlap = min(a[2], b[2]) - b[0] > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
            assert not overlap, f"{side} labels {a[4]!r} and {b[4]!r} overlap: {a[:4]} {b[:4]}"


def open_graph(browser, path, width, scheme):
    ctx = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort())
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    root = pg.locator(".attnwidget.aw-cross-graph").first
    root.locator(".aw-query-node").first.wait_for(state="visible")
    return ctx, pg, root, errors


@pytest.mark.parametrize(("width", "scheme"), [(1280, "light"), (1280, "dark"), (1000, "light"), (1000, "dark")])
def test_long_cross_graph_scrolls_labels_apart_and_lights_a_far_token(
    browser, long_cross, tmp_path, artifacts, width, scheme
):
    path = aw.save_html(aw.AttentionGraph(long_cross, threshold=THRESHOLD, head=0), tmp_path / "long-cross.html")
    ctx, pg, root, errors = open_graph(browser, path, width, scheme)
    try:
        # The rows are wider than the slot and scroll together: one SVG inside one scroller.
        scroller = root.locator(".aw-cross-scroll").first
        sizes = scroller.evaluate("s => [s.clientWidth, s.scrollWidth, s.querySelectorAll('svg').length]")
        assert sizes[1] > sizes[0] + 500 and sizes[2] == 1, sizes
        assert sizes[0] <= width
        # Every node is there (the DOM contract), each row evenly spread at least 9 px apart.
        assert root.locator(".aw-query-node").count() == Q and root.locator(".aw-node[data-token-index]").count() == K
        xs = root.evaluate(
            "r => [...r.querySelectorAll('.aw-node')].map(g => [g.dataset.queryIndex !== undefined, g.querySelector('circle').getBoundingClientRect().left])"
        )
        for top in (True, False):
            gaps = np.diff([x for q, x in xs if q == top])
            assert gaps.min() >= 8.9, gaps.min()
        labels = root.evaluate(LABELS)
        assert 20 < len(labels["query"]) < Q and 20 < len(labels["token"]) < K, {k: len(v) for k, v in labels.items()}
        assert_disjoint(labels["query"], "target")
        assert_disjoint(labels["token"], "source")

        # A target token far along: hovered, labelled, its lines lit and their source ends labelled.
        i = Q - 7
        root.evaluate(
            "r => { window.__mut = 0; new MutationObserver((m) => { window.__mut += m.length; })"
            ".observe(r, { subtree: true, childList: true, attributes: true }); }"
        )
        node = root.locator(f".aw-query-node[data-query-index='{i}']")
        node.hover()
        root.locator(f".aw-query-node.aw-hovered[data-query-index='{i}']").wait_for(state="attached")
        assert root.get_attribute("data-focus") == f"{i},"
        label = root.locator(f".aw-focus-label[data-label-query='{i}']")
        assert label.count() == 1 and label.text_content() == short(long_cross.query_tokens[i])
        w = long_cross.head(long_cross.layer_ids[0], 0)
        ends = sorted(int(j) for j in np.flatnonzero(w[i] >= THRESHOLD))
        assert len(ends) >= 2
        lit = root.locator(".aw-edges-lit line.aw-edge-lit").evaluate_all(
            "els => els.map(e => [e.dataset.tip, +e.getAttribute('x1'), +e.getAttribute('x2')])"
        )
        row = f"query (target) {i} {json.dumps(long_cross.query_tokens[i])} →"
        assert len(lit) == len(ends) and all(tip.startswith(row) for tip, _, _ in lit), lit
        # Each lit line starts at the hovered node and ends at a labelled source node.
        node_x = root.evaluate(
            "(r, [i, ends]) => [r.querySelector(`.aw-query-node[data-query-index='${i}']`).transform.baseVal[0].matrix.e,"
            " ends.map(j => r.querySelector(`.aw-node[data-token-index='${j}']`).transform.baseVal[0].matrix.e)]",
            [i, ends],
        )
        assert all(abs(x1 - node_x[0]) < 0.11 for _, x1, _ in lit)
        assert sorted(round(x2, 1) for _, _, x2 in lit) == sorted(round(x, 1) for x in node_x[1])
        got = root.locator(".aw-focus-label[data-label-token]").evaluate_all(
            "els => els.map(e => [+e.dataset.labelToken, e.textContent])"
        )
        assert sorted(got) == sorted([j, short(long_cross.tokens[j])] for j in ends)
        # The hover rewrote the lit lines, the labels and a few marks: nowhere near every node or line.
        changed = pg.evaluate("() => window.__mut")
        assert changed < 60, changed
        assert root.locator("line.aw-edge").count() > Q
        labels = root.evaluate(LABELS)
        assert_disjoint(labels["query"], "target")
        assert_disjoint(labels["token"], "source")
        root.screenshot(path=str(artifacts / f"cross-graph-long-{width}-{scheme}.png"))

        # A source token far along, with markup in its text: labelled as text, its lines lit.
        j = 150
        root.locator(f".aw-node[data-token-index='{j}']").hover()
        root.locator(f".aw-node.aw-hovered[data-token-index='{j}']").wait_for(state="attached")
        assert root.locator(f".aw-focus-label[data-label-token='{j}']").text_content() == "<b>x</b>"
        assert root.locator("b").count() == 0
        rows = sorted(int(q) for q in np.flatnonzero(w[:, j] >= THRESHOLD))
        lit = root.locator(".aw-edges-lit line.aw-edge-lit").count()
        assert lit == len(rows) > 0
        tops = sorted(
            int(q)
            for q in root.locator(".aw-focus-label[data-label-query]").evaluate_all(
                "els => els.map(e => e.dataset.labelQuery)"
            )
        )
        assert tops == rows
        labels = root.evaluate(LABELS)
        assert_disjoint(labels["query"], "target")
        assert_disjoint(labels["token"], "source")
        # Scrolling moves both rows and their lines together; the page still answers a hover.
        scroller.evaluate("s => { s.scrollLeft = s.scrollWidth; }")
        last = root.locator(f".aw-node[data-token-index='{K - 1}']")
        last.hover()
        root.locator(f".aw-focus-label[data-label-token='{K - 1}']").wait_for(state="attached")
        assert errors == []
    finally:
        ctx.close()
