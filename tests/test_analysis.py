"""Analysis: tables, report, quality, segments, templates, languages and head roles."""

from math import log

import numpy as np
import pytest

import attnwidget as aw
from attnwidget import analysis as A
from attnwidget import metrics as M
from attnwidget.attention import causal_mask
from tiny_models import words
from test_metrics import ref_confidence, ref_entropy, ref_focus, ref_locality, ref_sink, ref_sparsity


def two_layer_attention():
    """Bidirectional, 4 tokens: layer 0 attends to itself, layer 1 uniformly (two identical heads)."""
    eye = np.eye(4)
    uni = np.full((4, 4), 0.25)
    w = np.stack([np.stack([eye, eye]), np.stack([uni, uni])]).astype(np.float32)
    return aw.Attention(w, ["a", "b", "c", "d"], np.ones((4, 4), bool))


UNIFORM_LOCALITY = (0.4 + 0.5 + 0.5 + 0.4) / 4  # mean distance 1.5, 1, 1, 1.5 for rows 0..3


def test_analyze_matches_loop_references(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(12))
    table = A.analyze(att)
    assert len(table) == att.num_layers * att.num_heads
    assert table.columns[:2] == ["layer", "head"]
    for row in table:
        a = att.head(row["layer"], row["head"]).astype(float)
        m = att.mask
        assert row["entropy"] == pytest.approx(ref_entropy(a, m), rel=1e-5)
        assert row["sparsity"] == pytest.approx(ref_sparsity(a, m, 0.01), rel=1e-5)
        assert row["locality"] == pytest.approx(ref_locality(a, m), rel=1e-5)
        assert row["focus_consistency"] == pytest.approx(ref_focus(a, m, 3), rel=1e-5)
        assert row["confidence"] == pytest.approx(ref_confidence(a, m), rel=1e-5)
        assert row["sink_mass"] == pytest.approx(ref_sink(a, m, 1), rel=1e-5)
        assert row["previous_token"] == pytest.approx(sum(a[i, i - 1] for i in range(1, 12)) / 12, rel=1e-5)
        assert row["self"] == pytest.approx(np.trace(a) / 12, rel=1e-5)
    layer2 = table.where(layer=2)
    assert list(layer2["head"]) == list(range(8))
    assert "per-head metrics" in repr(table) and "focus_consistency" in repr(table)


def test_analyze_lazy_equals_materialised(tiny_gpt2, word_tokenizer):
    text = words(20)
    a = A.analyze(aw.extract(tiny_gpt2, word_tokenizer, text))
    b = A.analyze(aw.extract(tiny_gpt2, word_tokenizer, text, lazy=True))
    for col in a.columns:
        np.testing.assert_allclose(b[col], a[col], rtol=1e-5, atol=1e-7)


def test_report_names_the_layers_and_values():
    att = two_layer_attention()
    rep = A.report(att)
    assert rep.summary["mean_entropy"] == pytest.approx((0 + log(4)) / 2)
    assert rep.summary["mean_sparsity"] == pytest.approx((0.75 + 0) / 2)
    assert rep.summary["mean_locality"] == pytest.approx((1 + UNIFORM_LOCALITY) / 2)
    # Default thresholds: only layer 0's entropy (0) is below 1.0.
    assert [(r["metric"], r["layers"]) for r in rep.recommendations] == [("entropy", [0])]
    assert rep.recommendations[0]["values"] == [pytest.approx(0.0)]
    assert "entropy below 1.0 in layer(s) 0 (0.000)" in repr(rep)
    rep2 = A.report(att, entropy_below=0.5, sparsity_above=0.5, locality_below=0.5)
    recs = {r["metric"]: r for r in rep2.recommendations}
    assert recs["sparsity"]["layers"] == [0] and recs["sparsity"]["values"] == [pytest.approx(0.75)]
    assert recs["locality"]["layers"] == [1] and recs["locality"]["values"] == [pytest.approx(UNIFORM_LOCALITY)]
    assert "very sparse" in recs["sparsity"]["message"] and "weak locality" in recs["locality"]["message"]
    quiet = A.report(att, entropy_below=0.0)
    assert quiet.recommendations == [] and "none" in repr(quiet)


def test_evaluate_quality_score_by_hand():
    att = two_layer_attention()
    q = A.evaluate_quality(att, ["self", "first_token"])
    # Layer 0: entropy 0 and sparsity 0.75 are out of range: 0.4 * locality 1.
    # Layer 1: entropy ln 4 in (1, 3): 0.3; sparsity 0 out of range; 0.4 * locality.
    expected = [0.4, 0.3 + 0.4 * UNIFORM_LOCALITY]
    np.testing.assert_allclose(q.layers["score"], expected)
    assert q.score == pytest.approx(np.mean(expected))
    np.testing.assert_allclose(q.layers["pattern_self"], [1.0, 0.25])
    np.testing.assert_allclose(q.layers["pattern_first_token"], [0.25, 0.25])
    np.testing.assert_allclose(q.layers["focus_consistency"], [0.25, 0.25])
    wide = A.evaluate_quality(att, entropy_range=(-1, 3), sparsity_range=(0.5, 1))
    np.testing.assert_allclose(wide.layers["score"], [0.3 + 0.3 + 0.4, 0.3 + 0.4 * UNIFORM_LOCALITY])
    custom = A.evaluate_quality(att, {"diag": np.eye(4)})
    np.testing.assert_allclose(custom.layers["pattern_diag"], [1.0, 0.25])
    with pytest.raises(ValueError, match="entropy_range must be"):
        A.evaluate_quality(att, entropy_range=(3, 1))
    with pytest.raises(ValueError, match=r"pattern array must have shape \(n_query, n_key\) = \(4, 4\)"):
        A.evaluate_quality(att, {"bad": np.eye(3)})


# ----------------------------------------------------------------------------- segments


def text_attention(weights, text, spans, mask=None):
    tokens = [text[a:b] for a, b in spans]
    return aw.Attention(np.asarray(weights, np.float32), tokens, mask, offsets=spans, text=text)


def test_segment_attention_by_hand():
    # Uniform causal attention over "aa bb cc": rows 1/1, 1/2 1/2, 1/3 1/3 1/3.
    w = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]
    att = text_attention(w[None, None], "aa bb cc", [(0, 2), (3, 5), (6, 8)])
    seg = A.segment_attention(att, {"first": "aa", "rest": (3, 8)})
    assert seg.names == ["first", "rest"]
    # Rows from "rest" (tokens 1, 2): to "first" 1/2 + 1/3, to "rest" 1/2 + 2/3, over 2 rows.
    np.testing.assert_allclose(seg.layer(0), [[1, 0], [5 / 12, 7 / 12]])
    assert seg.tokens == {"first": ["aa"], "rest": ["bb", "cc"]}
    assert seg.token_index == {"first": [0], "rest": [1, 2]}
    assert "rows sum to 1" in repr(seg)


def test_tokens_outside_segments_go_to_other():
    w = np.full((1, 1, 3, 3), 1 / 3)
    att = text_attention(w, "aa bb cc", [(0, 2), (3, 5), (6, 8)], np.ones((3, 3), bool))
    seg = A.segment_attention(att, {"b": "bb"})
    assert seg.names == ["b", "other"] and seg.tokens["other"] == ["aa", "cc"]
    np.testing.assert_allclose(seg.layer(0), [[1 / 3, 2 / 3], [1 / 3, 2 / 3]])
    dropped = A.segment_attention(att, {"b": "bb"}, other=None)
    np.testing.assert_allclose(dropped.layer(0), [[1.0]])


def test_segment_attention_equals_loop_reference(tiny_llama, word_tokenizer):
    text = words(15)
    att = aw.extract(tiny_llama, word_tokenizer, text)
    cut1, cut2 = text.index(" ", 20), text.index(" ", 45)
    seg = A.segment_attention(att, {"a": (0, cut1), "b": (cut1 + 1, cut2), "c": (cut2 + 1, len(text))})
    assert sum(len(v) for v in seg.token_index.values()) == att.n_key
    which = {t: s for s, idx in enumerate(seg.token_index.values()) for t in idx}
    for li, l in enumerate(att.layer_ids):
        for h in range(att.num_heads):
            a = att.head(l, h)
            ref = np.zeros((3, 3))
            for i in range(att.n_query):
                for j in range(att.n_key):
                    ref[which[i], which[j]] += a[i, j]
            ref /= ref.sum(1, keepdims=True)
            np.testing.assert_allclose(seg.per_head[li, h], ref, rtol=1e-5)
    np.testing.assert_allclose(seg.matrix.sum(-1), 1, rtol=1e-6)
    lazy = A.segment_attention(aw.extract(tiny_llama, word_tokenizer, text, lazy=True), {"a": (0, cut1)})
    np.testing.assert_allclose(lazy.matrix, A.segment_attention(att, {"a": (0, cut1)}).matrix, rtol=1e-5)


def test_segment_errors():
    w = np.full((1, 1, 3, 3), 1 / 3)
    att = text_attention(w, "aa bb aa", [(0, 2), (3, 5), (6, 8)], np.ones((3, 3), bool))
    cases = [
        ({}, "non-empty dict"),
        ({"x": ""}, "empty string"),
        ({"x": "zz"}, "does not occur"),
        ({"x": "aa"}, "occurs 2 times"),
        ({"x": (0, 4), "y": (3, 5)}, "overlap"),
        ({"x": (5, 20)}, r"outside the text \(expected 0 <= start < end <= 8\)"),
        ({"x": (4, 4)}, "empty or outside"),
        ({"x": (2, 3)}, "covers no token"),
        ({"x": 3}, "substring or a \\(start, end\\)"),
        ({"other": "bb"}, "named 'other'"),
    ]
    for segments, message in cases:
        with pytest.raises(ValueError, match=message):
            A.segment_attention(att, segments)
    bare = aw.Attention(w.astype(np.float32), ["a", "b", "c"], np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="needs the attention's text and character offsets"):
        A.segment_attention(bare, {"x": "a"})
    with pytest.raises(TypeError, match="takes an aw.Attention"):
        A.segment_attention(w, {"x": "a"})
    one = aw.Attention(np.ones((1, 1, 1, 1), np.float32), ["a"])
    with pytest.raises(ValueError, match="analyze needs at least two tokens"):
        A.analyze(one)


# ----------------------------------------------------------------------------- templates, languages


def test_compare_templates(tiny_llama, word_tokenizer):
    q = "w40 w41 w42"
    templates = {
        "short": {"text": f"w1 w2 {q}", "segments": {"question": q}},
        "long": {"text": f"w1 w2 w3 w4 w5 w6 {q} w7", "segments": {"question": q, "tail": "w7"}},
        "bare": "w9 w8",
    }
    cmp = A.compare_templates(tiny_llama, word_tokenizer, templates)
    assert list(cmp.table["template"]) == ["short", "long", "bare"]
    assert list(cmp.table["tokens"]) == [5, 10, 2]
    assert set(cmp.segments) == {"question"}  # "tail" is marked in one template only
    for name in ("short", "long"):
        att = cmp.attentions[name]
        w, m = att.weights, att.mask
        assert cmp.table.where(template=name)["coverage"][0] == pytest.approx(((w > 0.01) & m).sum() / (w.shape[0] * w.shape[1] * m.sum()))
        assert cmp.table.where(template=name)["max_attention"][0] == pytest.approx(
            np.mean([ref_confidence(w[l, h].astype(float), m) for l in range(w.shape[0]) for h in range(w.shape[1])]), rel=1e-5)
        start = att.tokens.index("w40")
        sees = [i for i in range(att.n_query) if i >= start]  # causal: rows from the segment on
        ref = np.mean([w[l, h, i, start:start + 3].sum() for l in range(w.shape[0]) for h in range(w.shape[1]) for i in sees])
        assert cmp.segments["question"][name] == pytest.approx(ref, rel=1e-5)
    assert "attention received by segment 'question'" in repr(cmp)
    with pytest.raises(ValueError, match="non-empty dict"):
        A.compare_templates(tiny_llama, word_tokenizer, {})
    with pytest.raises(ValueError, match="'text' or 'messages'"):
        A.compare_templates(tiny_llama, word_tokenizer, {"x": {"prompt": "w1"}})


def test_compare_languages_top_tokens(tiny_bert, bert_tokenizer):
    texts = {"one": words(6), "two": words(9, start=3)}
    cmp = A.compare_languages(tiny_bert, bert_tokenizer, texts, top=3)
    assert len(cmp.table) == 2 * 3  # languages x layers
    for lang in texts:
        att = cmp.attentions[lang]
        for li, l in enumerate(att.layer_ids):
            fused = att.weights[li].mean(0)
            received = [np.mean([fused[i, j] for i in range(att.n_query) if att.mask[i, j]]) for j in range(att.n_key)]
            best = sorted(range(att.n_key), key=lambda j: -received[j])[:3]
            assert [p for _, p, _ in cmp.top_tokens[lang][li]] == best
            assert [s for _, _, s in cmp.top_tokens[lang][li]] == pytest.approx([received[j] for j in best], rel=1e-5)
        row = cmp.table.where(language=lang, layer=0)
        assert row["entropy"][0] == pytest.approx(np.mean([ref_entropy(att.weights[0, h].astype(float), att.mask) for h in range(4)]), rel=1e-5)
    summary = cmp.summary()
    assert list(summary["tokens"]) == [8, 11]  # [CLS] + words + [SEP]
    with pytest.raises(ValueError, match="top must be a positive int"):
        A.compare_languages(tiny_bert, bert_tokenizer, texts, top=0)


# ----------------------------------------------------------------------------- head roles


def role_heads(n=6):
    """Causal heads with known roles: previous token, first token, self, and uniform."""
    prev = np.zeros((n, n))
    prev[0, 0] = 1
    prev[np.arange(1, n), np.arange(n - 1)] = 1
    first = np.zeros((n, n))
    first[:, 0] = 1
    self_ = np.eye(n)
    uni = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    return aw.Attention(np.stack([prev, first, self_, uni])[None].astype(np.float32), [f"t{i}" for i in range(n)])


def test_head_roles_on_known_heads():
    roles = A.head_roles(role_heads())
    assert list(roles["role"]) == ["previous_token", "first_token", "self", "broad"]
    assert roles["previous_token"][0] == pytest.approx(5 / 6)  # row 0 can only attend to itself
    assert roles["first_token"][1] == pytest.approx(1.0)
    assert roles["score"][2] == pytest.approx(1.0)
    assert roles["broad"][3] == pytest.approx(1.0)
    assert np.isnan(roles["induction"]).all()  # no model given: no induction test
    strict = A.head_roles(role_heads(), thresholds={"previous_token": 0.9, "local": 0.6, "broad": 1.5})
    assert list(strict["role"])[::3] == ["local", "mixed"]
    assert A.role_counts(roles) == {"broad": 1, "first_token": 1, "previous_token": 1, "self": 1}
    with pytest.raises(ValueError, match="unknown role 'sink'"):
        A.head_roles(role_heads(), thresholds={"sink": 0.5})
    with pytest.raises(ValueError, match="pass both model and tokenizer"):
        A.head_roles(role_heads(), model=object())


@pytest.mark.slow
def test_real_smollm2_has_many_sink_heads_and_some_induction_heads(smollm2):
    model, tok = smollm2
    att = aw.extract(model, tok, "The quick brown fox jumps over the lazy dog. Then the dog slept near the barn.")
    roles = A.head_roles(att, model, tok)
    counts = A.role_counts(roles)
    assert counts.get("first_token", 0) >= 0.25 * len(roles)  # attention sinks are common
    assert counts.get("induction", 0) >= 1
    best = int(np.argmax(roles["induction"]))
    assert roles["induction"][best] > 0.5
    # The strongest induction head, checked by hand on the same repeated sequence.
    layer, head = int(roles["layer"][best]), int(roles["head"][best])
    words_ = A._random_words(tok, 40, 0)
    rep = aw.extract(model, tok, " ".join(words_ + words_), layers=[layer], heads=[head])
    ids = rep.token_ids
    a = rep.head(layer, head)
    hits = [a[i, j] for i in range(rep.n_key) for j in range(1, i + 1) if ids[j - 1] == ids[i] and j - 1 < i]
    assert np.mean(hits) == pytest.approx(roles["induction"][best], rel=1e-4)
