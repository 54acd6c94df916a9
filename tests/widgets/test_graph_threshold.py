"""The graph's edges at its threshold come from the exact weights, not the coded maps: a weight
just under the threshold codes (within 2.8%) at or above it, and counted as an edge in saved pages
(98 edges over 0.1 where the exact weights give 96)."""

from __future__ import annotations

import numpy as np
from helpers.widget_data import held

import attnwidget as aw


def near_threshold_attention(n: int = 16, seed: int = 0) -> aw.Attention:
    """Causal rows with some cells at 0.099 (just under 0.1, coded at or above it) and 0.1005."""
    rng = np.random.default_rng(seed)
    w = np.zeros((2, 2, n, n), np.float32)
    for layer in range(2):
        for h in range(2):
            for i in range(n):
                fixed = {0: 0.099, i: 0.1005} if i > 2 else {}
                free = [j for j in range(i + 1) if j not in fixed]
                rest = rng.random(len(free)) ** 4
                w[layer, h, i, free] = rest / rest.sum() * (1 - sum(fixed.values()))
                for j, v in fixed.items():
                    w[layer, h, i, j] = v
    return aw.Attention(w, [f"t{i}" for i in range(n)])


def exact_edges(weights: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    i, j = np.nonzero((weights >= threshold) & (weights > 0))
    return set(zip(i.tolist(), j.tolist()))


def test_graph_edges_match_numpy_on_the_exact_weights():
    att = near_threshold_attention()
    graph = aw.AttentionGraph(att, layer=1, head=0, threshold=0.1)
    want = exact_edges(att.head(1, 0), 0.1)
    got = {(q, k) for q, k, _ in graph.edges}
    assert got == want
    coded = held(graph)["1/0"]
    assert len(exact_edges(coded, 0.1)) > len(want), "the coded map alone would count cells under 0.1"
    for q, k, w in graph.edges:
        assert w == att.head(1, 0)[q, k]
    # Follows the threshold, the selection, hiding and the overlay.
    graph.threshold = 0.3
    assert {(q, k) for q, k, _ in graph.edges} == exact_edges(att.head(1, 0), 0.3)
    graph.selection.head = None
    fused = att.fuse("mean", layer=1)
    assert {(q, k) for q, k, _ in graph.edges} == exact_edges(fused, 0.3)
    graph.overlay = [1]
    assert set(graph._exact_edges["maps"]) == {"1/mean", "1/1"}
    graph.hide = [0]
    assert graph._exact_edges["hide"] == [0]


def test_saved_page_carries_the_exact_edges(tmp_path):
    att = near_threshold_attention()
    graph = aw.AttentionGraph(att, layer=0, head=1, threshold=0.1)
    state = graph.get_state()["_exact_edges"]
    assert state["threshold"] == 0.1 and state["hide"] == [] and state["measure"] == "weights"
    triples = np.frombuffer(state["maps"]["0/1"]["data"], np.float32).reshape(-1, 3)
    assert {(int(i), int(j)) for i, j, _ in triples} == exact_edges(att.head(0, 1), 0.1)
