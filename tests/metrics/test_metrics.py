"""Metrics against hand-computed small cases and independent loop implementations."""

from math import log

import numpy as np
import pytest
from helpers.tiny_models import words
from references import (
    random_maps,
    ref_confidence,
    ref_coverage,
    ref_entropy,
    ref_focus,
    ref_js,
    ref_locality,
    ref_pattern,
    ref_pattern_matrix,
    ref_rollout,
    ref_sink,
    ref_sparsity,
)

import attnwidget as aw
from attnwidget import metrics as M
from attnwidget.attention.core import causal_mask
from attnwidget.metrics import rows as metrics_rows

# ----------------------------------------------------------------------------- hand-computed cases

CAUSAL = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
BIDIR = np.array([[0.6, 0.3, 0.1], [0.25, 0.15, 0.6], [0.1, 0.1, 0.8]])
ALL = np.ones((3, 3), bool)
TRI = causal_mask(3, 3)


def test_entropy_by_hand():
    row2 = -(0.2 * log(0.2) + 0.3 * log(0.3) + 0.5 * log(0.5))
    assert M.entropy(CAUSAL) == pytest.approx((0 + log(2) + row2) / 3)
    # Normalised: the first row sees one key and is left out.
    assert M.entropy(CAUSAL, normalized=True) == pytest.approx((1 + row2 / log(3)) / 2)
    rows = [
        -(0.6 * log(0.6) + 0.3 * log(0.3) + 0.1 * log(0.1)),
        -(0.25 * log(0.25) + 0.15 * log(0.15) + 0.6 * log(0.6)),
        -(2 * 0.1 * log(0.1) + 0.8 * log(0.8)),
    ]
    assert M.entropy(BIDIR) == pytest.approx(sum(rows) / 3)


def test_sparsity_never_counts_hidden_entries():
    # Causal: 6 visible entries, one (0.2) below 0.25; the three hidden zeros do not count.
    assert M.sparsity(CAUSAL, threshold=0.25) == pytest.approx(1 / 6)
    assert M.sparsity(CAUSAL, TRI) == 0.0
    # The same matrix read as bidirectional has three visible zeros.
    assert M.sparsity(CAUSAL, ALL, threshold=0.25) == pytest.approx(4 / 9)
    assert M.sparsity(BIDIR, threshold=0.15) == pytest.approx(3 / 9)  # 0.15 itself is not below


def test_coverage_counts_visible_entries_above_the_threshold():
    assert M.coverage(CAUSAL, threshold=0.25) == pytest.approx(5 / 6)
    assert M.coverage(CAUSAL, threshold=0.3) == pytest.approx(4 / 6)  # 0.3 itself is not above
    assert M.coverage(CAUSAL, TRI, threshold=0) == 1.0
    assert M.sparsity(CAUSAL, TRI, threshold=1) == pytest.approx(5 / 6)  # hidden zeros never count
    assert M.coverage(BIDIR, threshold=0.15) == pytest.approx(5 / 9)


def test_locality_by_hand():
    assert M.locality(CAUSAL) == pytest.approx((1 + 1 / 1.5 + 1 / 1.7) / 3)
    assert M.locality(BIDIR) == pytest.approx((1 / 1.5 + 1 / 1.85 + 1 / 1.3) / 3)


def test_confidence_and_sink_mass_by_hand():
    assert M.confidence(CAUSAL) == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert M.confidence(BIDIR) == pytest.approx((0.6 + 0.6 + 0.8) / 3)
    assert M.sink_mass(CAUSAL) == pytest.approx((0.5 + 0.2) / 2)  # rows 1 and 2
    assert M.sink_mass(CAUSAL, k=2) == pytest.approx(0.5)  # row 2 only: 0.2 + 0.3
    assert M.sink_mass(BIDIR) == pytest.approx((0.25 + 0.1) / 2)


def test_focus_consistency_by_hand():
    # top-2: T0 = {0} (one visible key), T1 = {0, 1}, T2 = {2, 1}; column means over visible rows.
    t0 = (1 + 0.5 + 0.2) / 3
    t1 = (1 + 0.5 + 0.2 + 0.5 + 0.3) / 5
    t2 = (0.5 + 0.3 + 0.5) / 3
    assert M.focus_consistency(CAUSAL, top_k=2) == pytest.approx((t0 + t1 + t2) / 3)
    # top-1 bidirectional: T0 = {0}, T1 = T2 = {2}
    assert M.focus_consistency(BIDIR, top_k=1) == pytest.approx(((0.6 + 0.25 + 0.1) / 3 + 2 * 1.5 / 3) / 3)


def test_pattern_match_by_hand():
    assert M.pattern_match(CAUSAL, "previous_token") == pytest.approx((0.5 + 0.3) / 3)
    assert M.pattern_match(CAUSAL, "self") == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert M.pattern_match(CAUSAL, "first_token") == pytest.approx((1 + 0.5 + 0.2) / 3)
    assert M.pattern_match(BIDIR, "previous_token") == pytest.approx((0.25 + 0.1) / 3)
    # A user pattern: hidden entries of P never count.
    P = np.array([[0, 1, 1], [0, 0, 1], [1, 0, 0]], float)
    assert M.pattern_match(CAUSAL, P) == pytest.approx(0.2 / 3)
    assert M.pattern_match(BIDIR, P) == pytest.approx((0.3 + 0.1 + 0.6 + 0.1) / 3)


def test_token_patterns_by_hand():
    ids = [7, 8, 9, 7, 8]
    dup = M.pattern("duplicate_token", 5, token_ids=ids)
    assert np.argwhere(dup).tolist() == [[3, 0], [4, 1]]
    ind = M.pattern("induction", 5, token_ids=ids)
    assert np.argwhere(ind).tolist() == [[3, 1], [4, 2]]  # the token after the earlier copy
    A = np.tril(np.full((5, 5), 1.0))
    A /= A.sum(-1, keepdims=True)
    assert M.pattern_match(A, "induction", token_ids=ids) == pytest.approx((1 / 4 + 1 / 5) / 5)
    assert M.pattern_match(A, "duplicate_token", token_ids=ids) == pytest.approx((1 / 4 + 1 / 5) / 5)


def test_fewer_queries_than_keys_use_absolute_positions():
    # Two query rows at positions 2 and 3 over four keys.
    A = np.array([[0.1, 0.2, 0.7, 0.0], [0.4, 0.1, 0.2, 0.3]])
    mask = causal_mask(2, 4)
    assert M.locality(A, mask) == pytest.approx((1 / (1 + 0.2 + 0.2) + 1 / (1 + 1.2 + 0.2 + 0.2)) / 2)
    assert M.pattern_match(A, "previous_token", mask) == pytest.approx((0.2 + 0.2) / 2)
    assert M.sink_mass(A, mask) == pytest.approx((0.1 + 0.4) / 2)


# ----------------------------------------------------------------------------- loop references


def masks():
    pad = causal_mask(7, 7).copy()
    pad[:, 5:] = False  # two padding keys
    pad[5:] = False  # and their (empty) query rows
    return {
        "causal": causal_mask(7, 7),
        "bidirectional": np.ones((7, 7), bool),
        "padded": pad,
        "fewer queries": causal_mask(4, 7),
    }


@pytest.mark.parametrize("kind", list(masks()))
def test_metrics_equal_loop_references(kind):
    mask = masks()[kind]
    A = random_maps((2, 3), *mask.shape, mask, seed=1)
    got = M.compute(
        A,
        {
            "h": "entropy",
            "hn": ("entropy", {"normalized": True}),
            "sp": ("sparsity", {"threshold": 0.05}),
            "loc": "locality",
            "cov": ("coverage", {"threshold": 0.05}),
            "conf": "confidence",
            "sink": ("sink_mass", {"k": 2}),
            "focus": ("focus_consistency", {"top_k": 3}),
        },
        mask=mask,
    )
    for li in range(2):
        for h in range(3):
            a = A[li, h].astype(float)
            ref = {
                "h": ref_entropy(a, mask),
                "hn": ref_entropy(a, mask, True),
                "sp": ref_sparsity(a, mask, 0.05),
                "loc": ref_locality(a, mask),
                "cov": ref_coverage(a, mask, 0.05),
                "conf": ref_confidence(a, mask),
                "sink": ref_sink(a, mask, 2),
                "focus": ref_focus(a, mask, 3),
            }
            for name, value in ref.items():
                assert got[name][li, h] == pytest.approx(value, rel=1e-5), (name, li, h)


@pytest.mark.parametrize("top_k", [1, 4, 10, 12])
def test_focus_consistency_any_top_k(top_k):
    mask = causal_mask(12, 12)
    A = random_maps((3,), 12, 12, mask, seed=8)
    got = M.focus_consistency(A, mask, top_k=top_k)
    for li in range(3):
        assert got[li] == pytest.approx(ref_focus(A[li].astype(float), mask, top_k), rel=1e-5)


def test_hidden_entries_never_count_even_when_nonzero():
    noisy = CAUSAL + np.triu(np.full((3, 3), 0.3), k=1)  # weight where the mask hides the key
    for f in (M.entropy, M.sparsity, M.locality, M.confidence, M.sink_mass, M.focus_consistency):
        with pytest.raises(aw.AttentionError, match="keys the mask hides"):
            f(noisy, TRI)  # as probabilities these maps are wrong
        assert f(noisy, TRI, probabilities=False) == pytest.approx(f(CAUSAL, TRI)), f.__name__
    assert M.pattern_match(noisy, "previous_token", TRI, probabilities=False) == pytest.approx(
        M.pattern_match(CAUSAL, "previous_token", TRI)
    )


@pytest.mark.parametrize("kind", list(masks()))
def test_pattern_match_equals_loop_reference(kind):
    mask = masks()[kind]
    Q, K = mask.shape
    A = random_maps((2,), Q, K, mask, seed=2)
    ids = [3, 4, 5, 3, 4, 5, 3][:K]
    for name in M.PATTERNS:
        P = ref_pattern_matrix(name, Q, K, ids)
        np.testing.assert_array_equal(M.pattern(name, Q, K, token_ids=ids), P)
        got = M.pattern_match(A, name, mask, token_ids=ids)
        for li in range(2):
            assert got[li] == pytest.approx(ref_pattern(A[li].astype(float), mask, P), rel=1e-5), name
        np.testing.assert_allclose(M.pattern_match(A, P, mask), got, rtol=1e-6)


def test_streaming_over_many_blocks_gives_the_same_numbers(monkeypatch):
    mask = causal_mask(40, 40)
    A = random_maps((2, 2), 40, 40, mask, seed=3)
    specs = {m: m for m in ("entropy", "sparsity", "locality", "confidence", "sink_mass", "focus_consistency")}
    specs["prev"] = ("pattern_match", {"pattern": "previous_token"})
    whole = M.compute(A, specs)
    monkeypatch.setattr(metrics_rows, "BLOCK_ELEMENTS", 2 * 2 * 40 * 3)  # three rows per block
    blocked = M.compute(A, specs)
    for k in specs:
        np.testing.assert_allclose(blocked[k], whole[k], rtol=1e-6)


def test_lazy_attention_streams_to_the_same_numbers(tiny_llama, word_tokenizer, monkeypatch):
    text = words(30)
    full = aw.extract(tiny_llama, word_tokenizer, text)
    lazy = aw.extract(tiny_llama, word_tokenizer, text, lazy=True)
    assert lazy.is_lazy and not full.is_lazy
    monkeypatch.setattr(metrics_rows, "BLOCK_ELEMENTS", 3 * 8 * 30 * 2)  # measured two rows at a time
    monkeypatch.setattr(metrics_rows, "LAZY_BLOCK_ELEMENTS", 3 * 8 * 30 * 7)  # fetched seven rows at a time
    seen = []
    original = type(lazy).iter_row_blocks

    def spy(self, block=256):
        for start, stop, w in original(self, block):
            seen.append(w.shape)
            yield start, stop, w

    monkeypatch.setattr(type(lazy), "iter_row_blocks", spy)
    specs = {m: m for m in ("entropy", "sparsity", "locality", "confidence", "sink_mass", "focus_consistency")}
    specs["ind"] = ("pattern_match", {"pattern": "induction"})
    b = M.compute(lazy, specs)
    assert len(seen) == 5 and all(s[2] <= 7 for s in seen)  # streamed, never the whole map
    a = M.compute(full, specs)
    for k in specs:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-5, atol=1e-7)
    # And the Attention path equals the plain-array path.
    np.testing.assert_allclose(M.entropy(full.weights, full.mask), a["entropy"], rtol=1e-6)


# ----------------------------------------------------------------------------- head similarity


def test_head_similarity_by_hand():
    same = np.array([[1.0, 0.0], [0.5, 0.5]])
    disjoint = np.array([[1.0, 0.0], [0.0, 1.0]])
    D = M.head_similarity(np.stack([same, same, disjoint]), ALL[:2, :2])
    assert D[0, 1] == pytest.approx(0.0, abs=1e-9)
    # Row 0 is identical (0); row 1 compares (.5, .5) with (0, 1) through m = (.25, .75).
    m = np.array([0.25, 0.75])
    js_row1 = 0.5 * (0.5 * log(0.5 / m[0]) + 0.5 * log(0.5 / m[1])) + 0.5 * (1.0 * log(1.0 / m[1]))
    assert D[0, 2] == pytest.approx(js_row1 / 2)
    np.testing.assert_allclose(D, D.T)
    assert np.all(np.diag(D) == 0)


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
def test_head_similarity_equals_reference(kind):
    mask = masks()[kind]
    A = random_maps((2, 3), 7, 7, mask, seed=4)
    D = M.head_similarity(A, mask)
    flat = A.reshape(6, 7, 7).astype(float)
    try:
        from scipy.spatial.distance import jensenshannon

        def js(p, q):
            return jensenshannon(p, q) ** 2  # scipy returns the square root (base e)
    except ImportError:
        js = ref_js
    for g in range(6):
        for h in range(6):
            ref = sum(js(flat[g, i][mask[i]], flat[h, i][mask[i]]) for i in range(7)) / 7
            assert D[g, h] == pytest.approx(ref, abs=1e-6)


# ----------------------------------------------------------------------------- rollout and flow


def test_rollout_normalises_rows_not_columns():
    # One causal layer: A' = 0.5 I + 0.5 A = [[1, 0], [0.25, 0.75]]; its rows already sum to 1 but
    # its columns (1.25, 0.75) do not, so normalising over axis 0 would give [[0.8, 0], [0.2, 1]].
    A = np.array([[[[1.0, 0.0], [0.5, 0.5]]]])
    R = M.rollout(A, causal_mask(2, 2))
    np.testing.assert_allclose(R, [[1.0, 0.0], [0.25, 0.75]])
    wrong_axis = np.array([[1.0, 0.0], [0.25, 0.75]]) / np.array([1.25, 0.75])
    assert not np.allclose(R, wrong_axis)
    # Two layers compose as A'_1 @ A'_0 (the later layer on the left).
    A2 = np.stack([BIDIR, BIDIR.T[::-1] / BIDIR.T[::-1].sum(-1, keepdims=True)])[:, None]
    aug0, aug1 = 0.5 * np.eye(3) + 0.5 * A2[0, 0], 0.5 * np.eye(3) + 0.5 * A2[1, 0]
    R2 = M.rollout(A2, ALL)
    np.testing.assert_allclose(R2, aug1 @ aug0)
    assert not np.allclose(R2, aug0 @ aug1)


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
@pytest.mark.parametrize("fusion", ["mean", "max", "min"])
def test_rollout_equals_loop_reference(kind, fusion):
    mask = masks()[kind]
    A = random_maps((3, 4), 7, 7, mask, seed=5)
    R = M.rollout(A, mask, residual=0.3, fusion=fusion)
    np.testing.assert_allclose(R, ref_rollout(A, 0.3, getattr(np, fusion)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(R.sum(-1), 1, atol=1e-6)
    if kind == "causal":
        assert np.all(R[~mask] == 0)


def test_rollout_of_an_attention_equals_the_array_path(tiny_bert, bert_tokenizer):
    att = aw.extract(tiny_bert, bert_tokenizer, words(9))
    ref = ref_rollout(att.weights.astype(float), 0.5)
    np.testing.assert_allclose(M.rollout(att), ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(M.rollout(att.weights, att.mask), ref, rtol=1e-5, atol=1e-7)


def test_attention_flow_two_layers_by_hand():
    # With two layers each path i -> k -> j uses its own two edges, so the max flow is
    # sum_k min(A'_1[i, k], A'_0[k, j]).
    mask = np.ones((3, 3), bool)
    A = random_maps((2, 1), 3, 3, mask, seed=6).astype(float)
    F = M.attention_flow(A, mask, residual=0.4)
    aug = [0.4 * np.eye(3) + 0.6 * A[li, 0] for li in range(2)]
    aug = [a / a.sum(-1, keepdims=True) for a in aug]
    for i in range(3):
        for j in range(3):
            assert F[i, j] == pytest.approx(sum(min(aug[1][i, k], aug[0][k, j]) for k in range(3)))
    # One layer: the flow is the edge itself.
    np.testing.assert_allclose(M.attention_flow(A[:1], mask, residual=0.4), aug[0])


@pytest.mark.parametrize("kind", ["causal", "bidirectional"])
def test_attention_flow_equals_scipy_max_flow(kind):
    sparse = pytest.importorskip("scipy.sparse")
    from scipy.sparse.csgraph import maximum_flow

    n, L = 5, 4
    mask = causal_mask(n, n) if kind == "causal" else np.ones((n, n), bool)
    A = random_maps((L, 2), n, n, mask, seed=7)
    F = M.attention_flow(A, mask, residual=0.5)
    aug = [0.5 * np.eye(n) + 0.5 * A[li].mean(0) for li in range(L)]
    aug = [a / a.sum(-1, keepdims=True) for a in aug]
    scale = 10**7  # scipy wants integer capacities
    N = (L + 1) * n
    cap = np.zeros((N, N), np.int64)
    for b in range(L):  # node (b, t) is b * n + t; edges from boundary b + 1 down to b
        cap[(b + 1) * n : (b + 2) * n, b * n : (b + 1) * n] = np.round(aug[b] * scale)
    graph = sparse.csr_array(cap).astype(np.int32)
    for i in range(n):
        for j in range(n):
            ref = maximum_flow(graph, L * n + i, j).flow_value / scale
            assert F[i, j] == pytest.approx(ref, abs=1e-5)
    np.testing.assert_allclose(M.attention_flow(A, mask, query=2), F[2])


# ----------------------------------------------------------------------------- bad input


def test_bad_input_gets_clear_errors(tiny_gpt2, word_tokenizer):
    with pytest.raises(ValueError, match=r"pattern array must have shape \(n_query, n_key\) = \(3, 3\)"):
        M.pattern_match(CAUSAL, np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown pattern 'diagonal'"):
        M.pattern_match(CAUSAL, "diagonal")
    with pytest.raises(ValueError, match="needs token ids"):
        M.pattern_match(CAUSAL, "induction")
    with pytest.raises(ValueError, match=r"mask must have shape \(n_query, n_key\)"):
        M.entropy(CAUSAL, np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="mask must be boolean"):
        M.entropy(CAUSAL, np.full((3, 3), 0.5))
    with pytest.raises(ValueError, match=r"array of shape \(\.\.\., n_query, n_key\)"):
        M.entropy(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        M.entropy(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        M.confidence(-CAUSAL)
    with pytest.raises(ValueError, match=">= 0"):
        M.confidence(-CAUSAL, probabilities=False)
    with pytest.raises(ValueError, match="hides every key"):
        M.entropy(CAUSAL, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 2\]; got 3"):
        M.sink_mass(CAUSAL, k=3)
    with pytest.raises(ValueError, match=r"metrics\[.x.\] must be one of .*got .perplexity."):
        M.compute(CAUSAL, {"x": "perplexity"})
    att = aw.extract(tiny_gpt2, word_tokenizer, words(6))
    with pytest.raises(ValueError, match="carries its own mask"):
        M.entropy(att, np.ones((6, 6), bool))
    with pytest.raises(ValueError, match="consecutive layers"):
        M.rollout(att.select(layers=[0, 2]))
    with pytest.raises(ValueError, match="square"):
        M.rollout(np.ones((1, 1, 2, 3)) / 3)
    with pytest.raises(ValueError, match=r"residual must be a number in \[0.0, 1.0\]; got 1.5"):
        M.rollout(att, residual=1.5)
    with pytest.raises(ValueError, match=f"limited to {M.MAX_FLOW_TOKENS} tokens"):
        n = M.MAX_FLOW_TOKENS + 1
        M.attention_flow(np.ones((1, 1, n, n)) / n)
    with pytest.raises(ValueError, match="at least two maps"):
        M.head_similarity(CAUSAL)
