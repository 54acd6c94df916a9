"""Analysis of an Attention: sinks, tables, report and recommendations, shape score, parts, head roles."""

import numpy as np
import pytest
from helpers.analysis_data import role_heads, text_attention, two_layer_attention
from helpers.tiny_models import words
from references import ref_confidence, ref_entropy, ref_focus, ref_locality, ref_sink, ref_sparsity

import attnwidget as aw
from attnwidget import analysis as A

UNIFORM_LOCALITY = (0.4 + 0.5 + 0.5 + 0.4) / 4  # mean distance 1.5, 1, 1, 1.5 for rows 0..3


def test_analyze_matches_loop_references(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(12))
    table = A.analyze(att, hide=None)
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


def sink_attention():
    """Causal, 8 tokens, 2 heads: head 0 parks 0.6 on token 0 and spreads the rest uniformly;
    head 1 parks 0.7 on token 2 from row 3 on (a second sink) and spreads the rest uniformly."""
    n = 8
    w = np.zeros((1, 2, n, n))
    for i in range(n):
        if i == 0:
            w[0, :, 0, 0] = 1
            continue
        w[0, 0, i, 0] = 0.6
        w[0, 0, i, 1 : i + 1] = 0.4 / i
        if i >= 3:
            w[0, 1, i, 2] = 0.7
            others = [j for j in range(i + 1) if j != 2]
            w[0, 1, i, others] = 0.3 / len(others)
        else:
            w[0, 1, i, : i + 1] = 1 / (i + 1)
    text = " ".join(f"t{i}" for i in range(n))
    spans = [(3 * i, 3 * i + 2) for i in range(n)]
    return aw.Attention(w.astype(np.float32), [text[a:b] for a, b in spans], offsets=spans, text=text)


def hidden_reference(a, mask, hidden, fn):
    """`fn` on the map with `hidden` columns removed and each row renormalised, by hand."""
    keep = mask.copy()
    keep[:, hidden] = False
    b = np.where(keep, a, 0.0)
    s = b.sum(1, keepdims=True)
    b = np.divide(b, s, out=np.zeros_like(b), where=s > 0)
    return fn(b, keep)


def test_find_sinks_first_token_and_parked_keys():
    att = sink_attention()
    assert A.find_sinks(att) == [0, 2]
    assert A.find_sinks(att, threshold=0.8) == [0]  # head 1 gives token 2 only 0.7 of its rows' attention
    # Token 2 is seen by rows 3..7 (five rows besides itself); asking for more rows drops it.
    assert A.find_sinks(att, min_rows=6) == [0]
    for bad in (float("nan"), 1.5, -0.1, "x"):
        with pytest.raises(aw.AttentionError, match="threshold must be a"):
            A.find_sinks(att, threshold=bad)
    with pytest.raises(aw.AttentionError, match="min_rows must be an int >= 1"):
        A.find_sinks(att, min_rows=0)


def test_analyze_hides_sinks_by_default(tiny_llama, word_tokenizer):
    att = sink_attention()
    table = A.analyze(att)
    assert "sinks apart: 0 't0', 2 't2'" in table.title
    for row in table:
        a = att.head(0, row["head"]).astype(float)
        on_sinks = np.mean([a[i, [0, 2]].sum() for i in range(att.n_query)])
        assert row["sink_share"] == pytest.approx(on_sinks, rel=1e-5)
        assert row["entropy"] == pytest.approx(hidden_reference(a, att.mask, [0, 2], ref_entropy), rel=1e-5)
        assert row["locality"] == pytest.approx(hidden_reference(a, att.mask, [0, 2], ref_locality), rel=1e-5)
    raw = A.analyze(att, hide=None)
    assert "sink_share" not in raw.columns
    assert raw["entropy"][0] == pytest.approx(ref_entropy(att.head(0, 0).astype(float), att.mask), rel=1e-5)
    first = A.analyze(att, hide="first")
    assert first["entropy"][1] == pytest.approx(
        hidden_reference(att.head(0, 1).astype(float), att.mask, [0], ref_entropy), rel=1e-5
    )
    listed = A.analyze(att, hide=[0, 2])
    np.testing.assert_allclose(listed["entropy"], table["entropy"])
    for bad, message in (
        ("everything", "hide must be 'sinks'"),
        ([9], r"positions \[9\] outside the 8 tokens"),
        (3.5, "hide must be"),
    ):
        with pytest.raises(ValueError, match=message):
            A.analyze(att, hide=bad)
    with pytest.raises(ValueError, match="sparsity_threshold must be a finite number"):
        A.analyze(att, sparsity_threshold=float("inf"))


def test_a_head_parked_entirely_on_the_sink_has_nothing_left_to_measure():
    table = A.analyze(role_heads())  # head 1 puts every row's attention on token 0
    assert table["sink_share"][1] == pytest.approx(1.0)
    assert np.isnan(table["entropy"][1]) and np.isnan(table["locality"][1])
    # The other heads are measured on their own rows as usual (row 0 sees only the sink).
    prev = role_heads().head(0, 0).astype(float)
    assert table["entropy"][0] == pytest.approx(hidden_reference(prev, role_heads().mask, [0], ref_entropy))


def test_table_sorts_and_shows_html():
    t = A.Table.from_columns({"name": ["a", "b", "c"], "v": [0.2, np.nan, 0.9]}, "t")
    assert list(t.sort("v")["name"]) == ["c", "a", "b"]
    assert list(t.sort("v", descending=False)["name"]) == ["a", "c", "b"]
    html = t._repr_html_()
    assert "<table" in html and "0.900" in html and ">t<" in html
    assert list(t.to_frame()["name"]) == ["a", "b", "c"]
    newline = A.Table.from_columns({"answer": [" Positive\n\nIn"]})
    assert "' Positive\\n\\nIn'" in repr(newline)


def test_table_head_keeps_the_top_rows_and_says_how_many():
    t = A.Table.from_columns({"name": ["a", "b", "c", "d"], "x": [0.1, 0.9, 0.5, 0.3]}, "scores")
    top = t.sort("x").head(2)
    assert list(top["name"]) == ["b", "c"] and top.title == "scores (first 2 of 4 rows)"
    assert t.head(10) is t
    with pytest.raises(TypeError, match="head takes a positive int"):
        t.head(0)


# ----------------------------------------------------------------------------- report


def test_report_layers_use_the_shared_definitions():
    att = sink_attention()
    rep = A.report(att)
    heads = A.analyze(att)
    for col in ("entropy", "normalized_entropy", "sparsity", "locality", "sink_share"):
        assert rep.layers[col][0] == pytest.approx(heads[col].mean(), rel=1e-6)
    keep = att.mask.copy()
    keep[:, [0, 2]] = False
    uniform = np.where(keep, 1.0, 0) / np.maximum(keep.sum(1, keepdims=True), 1)
    assert rep.summary["mean_locality_uniform"] == pytest.approx(ref_locality(uniform, keep), rel=1e-6)
    # The baseline is the same in every layer: said once in the title, not repeated as a column.
    assert "locality_uniform" not in rep.layers.columns
    assert f"locality of uniform attention over the same keys: {ref_locality(uniform, keep):.3f}" in repr(rep.layers)
    assert rep.sinks == [0, 2]


def test_report_recommendations_have_evidence_baseline_and_action():
    att = sink_attention()
    rep = A.report(att)
    kinds = [r["kind"] for r in rep.recommendations]
    assert kinds[0] == "sinks"
    sink = rep.recommendations[0]
    assert sink["measurement"]["sink_share"] == pytest.approx(rep.summary["mean_sink_share"])
    # Uniform attention's share on tokens 0 and 2: row i sees i + 1 keys, of which 1 (i < 2) or 2 are sinks.
    uniform = np.mean([(1 if i < 2 else 2) / (i + 1) for i in range(8)])
    assert sink["baseline"]["uniform"] == pytest.approx(uniform)
    assert (
        sink["finding"].startswith("Attention parked on the sink tokens 't0', 't2'") and "hide=None" in sink["action"]
    )
    quiet = A.report(att, sink_above=1.0, uniform_above=1.0)
    assert all(r["kind"] != "sinks" for r in quiet.recommendations)
    for name in ("sink_above", "uniform_above", "part_below"):
        with pytest.raises(ValueError, match=f"{name} must be a finite number"):
            A.report(att, **{name: float("nan")})
    with pytest.raises(ValueError, match=r"lang must be one of \('en', 'zh'\)"):
        A.report(att, lang="fr")


def test_report_near_uniform_is_relative_to_length():
    # Uniform causal attention over 40 tokens: entropy grows with length, normalised entropy is 1.
    n = 40
    w = (np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None])[None, None].astype(np.float32)
    att = aw.Attention(w, [f"t{i}" for i in range(n)])
    rep = A.report(att, hide=None)
    (flat,) = [r for r in rep.recommendations if r["kind"] == "uniform"]
    assert flat["measurement"]["normalized_entropy"] == pytest.approx(1.0)
    assert flat["baseline"] == {"uniform": 1.0}
    # Locality equals its uniform baseline: no "far-reading" note, whatever the length.
    assert rep.layers["locality"][0] == pytest.approx(rep.summary["mean_locality_uniform"])
    assert all(r["kind"] != "note" for r in rep.recommendations)


def test_report_parts_and_chinese():
    base = sink_attention()
    w = base.weights.copy()
    w[0, :, 7] = [0.5, 0.04, 0, 0.04, 0.3, 0.04, 0.04, 0.04]  # the last token reads t4 most
    att = aw.Attention(w, base.tokens, offsets=base.offsets, text=base.text)
    parts = {"a": "t1 t2 t3", "b": "t4", "c": "t5 t6"}  # t6 and t7 (the reader) are local reads
    rep = A.report(att, parts=parts, part_below=0.9)
    seg = rep.parts
    assert seg.queries.tolist() == [7] and seg.sinks == [0, 2]
    content, uniform = seg.content_shares(), seg.content_uniform()
    low = [r for r in rep.recommendations if r["kind"] == "part" and " part gets " in r["finding"]]
    expected_low = [n for n in ("a", "b", "c") if content[n] / uniform[n] < 0.9]
    assert [r["finding"].split("'")[1] for r in low] == expected_low
    for r in low:
        name = r["finding"].split("'")[1]
        assert r["measurement"]["share"] == pytest.approx(content[name])
        assert r["baseline"]["uniform"] == pytest.approx(uniform[name])
    # Without effects a share is stated, never acted on: no advice to move or reword a part.
    parts_said = [r for r in rep.recommendations if r["kind"] == "part"]
    assert parts_said and all("not evidence" in r["action"] for r in parts_said)
    assert not any("right before" in r["action"] for r in parts_said)
    top = rep.recommendations[-1]
    # "Read most" is relative to the part's length (the uniform share is proportional to it).
    best = max("abc", key=lambda n: content[n] / uniform[n])
    assert content[best] > uniform[best]  # so the part read most is named
    assert f"reads '{best}' most for its length" in top["finding"] and top["finding"].startswith("The last token")
    zh = A.report(att, parts=parts, lang="zh", part_below=0.9)
    assert [r["kind"] for r in zh.recommendations] == [r["kind"] for r in rep.recommendations]
    assert "读得最多" in zh.recommendations[-1]["message"] and "汇聚" in zh.recommendations[0]["message"]


def test_report_does_not_credit_a_part_for_the_readers_local_reads():
    base = sink_attention()
    w = base.weights.copy()
    w[0, :, 7] = [0.5, 0.04, 0, 0.04, 0.04, 0.04, 0.04, 0.3]  # the reader t7 mostly reads itself
    att = aw.Attention(w, base.tokens, offsets=base.offsets, text=base.text)
    parts = {"a": "t1 t2 t3", "b": "t4 t5", "cue": "t6 t7"}
    counted_in = A.segment_attention(att, parts, local=False)
    assert max(counted_in.content_shares(), key=counted_in.content_shares().get) == "cue"  # what used to be said
    rep = A.report(att, parts=parts)
    seg = rep.parts
    assert seg.names == ["a", "b", "cue", "sinks", "local"]
    assert seg.shares["local"] == pytest.approx(0.34, abs=1e-6)  # 0.3 on itself + 0.04 on t6
    assert seg.shares["cue"] == pytest.approx(0, abs=1e-6) and seg.content_shares()["cue"] == 0
    assert sum(seg.shares.values()) == pytest.approx(1)
    # uniform reading: 8 visible keys, 2 sinks, 2 local -> a, b get 2/8 each
    assert seg.uniform == pytest.approx({"a": 0.25, "b": 0.25, "cue": 0, "sinks": 0.25, "local": 0.25})
    parts_said = [r["finding"] for r in rep.recommendations if r["kind"] == "part"]
    assert not any("'cue'" in f for f in parts_said)
    assert not any("most" in f for f in parts_said)  # a and b tie at their uniform share: nothing is read "most"


def test_segment_local_reads_by_hand():
    att = text_attention(uniform_causal(4), "aa bb cc dd", [(0, 2), (3, 5), (6, 8), (9, 11)])
    seg = A.segment_attention(att, {"first": "bb", "rest": "cc dd"})
    # The last row gives 1/4 to each token: aa is the sink, cc (previous) and dd (itself) are local.
    assert seg.names == ["first", "rest", "sinks", "local"]
    assert seg.shares == pytest.approx({"first": 0.25, "rest": 0, "sinks": 0.25, "local": 0.5})
    assert seg.content_shares() == pytest.approx({"first": 1, "rest": 0})
    assert "local" not in seg.token_index and "local: each query's own position" in repr(seg)
    every = A.segment_attention(att, {"first": "bb", "rest": "cc dd"}, queries="all")
    np.testing.assert_allclose(every.per_layer.sum(-1), 1, rtol=1e-6)
    # Row 1 (bb): aa sink 1/2, bb itself 1/2; row 2: 1/3 sink, 2/3 local; row 3: 1/4 sink, 1/4 first, 1/2 local.
    assert every.shares["first"] == pytest.approx(0.25 / 4)
    assert every.shares["local"] == pytest.approx((0 + 1 / 2 + 2 / 3 + 1 / 2) / 4)
    with pytest.raises(ValueError, match="named 'local'"):
        A.segment_attention(att, {"local": "bb"})
    with pytest.raises(TypeError, match="local must be True or False"):
        A.segment_attention(att, {"first": "bb"}, local="yes")


def test_report_says_when_a_part_holds_a_sink():
    base = sink_attention()
    w = base.weights.copy()
    w[0, :, 7] = [0.5, 0.01, 0, 0.01, 0.3, 0.04, 0.04, 0.1]
    att = aw.Attention(w, base.tokens, offsets=base.offsets, text=base.text)
    rep = A.report(att, parts={"a": "t1 t2 t3", "b": "t4", "c": "t5 t6 t7"})
    assert rep.parts.part_sinks == {"a": [2], "b": [], "c": []}
    said = {r["finding"].split("'")[1]: r["finding"] for r in rep.recommendations if r["kind"] == "part"}
    assert "a" in said and "b" in said  # 'a' read little, 'b' read most
    assert "attention sink 't2', counted with the sinks, not the part" in said["a"]
    assert "sink 't" not in said["b"]
    zh = A.report(att, parts={"a": "t1 t2 t3", "b": "t4", "c": "t5 t6 t7"}, lang="zh")
    assert any("作为汇聚点的词元「t2」" in r["finding"] for r in zh.recommendations)


# ----------------------------------------------------------------------------- shape score


def test_shape_score_by_hand():
    att = two_layer_attention()
    q = A.shape_score(att, ["self", "first_token"], hide=None)
    # Layer 0: entropy 0 and sparsity 0.75 are out of range: 0.4 * locality 1.
    # Layer 1: entropy ln 4 in (1, 3): 0.3; sparsity 0 out of range; 0.4 * locality.
    expected = [0.4, 0.3 + 0.4 * UNIFORM_LOCALITY]
    np.testing.assert_allclose(q.layers["score"], expected)
    assert q.score == pytest.approx(np.mean(expected))
    np.testing.assert_allclose(q.layers["pattern_self"], [1.0, 0.25])
    np.testing.assert_allclose(q.layers["pattern_first_token"], [0.25, 0.25])
    np.testing.assert_allclose(q.layers["focus_consistency"], [0.25, 0.25])
    wide = A.shape_score(att, entropy_range=(-1, 3), sparsity_range=(0.5, 1), hide=None)
    np.testing.assert_allclose(wide.layers["score"], [0.3 + 0.3 + 0.4, 0.3 + 0.4 * UNIFORM_LOCALITY])
    custom = A.shape_score(att, {"diag": np.eye(4)}, hide=None)
    np.testing.assert_allclose(custom.layers["pattern_diag"], [1.0, 0.25])
    assert "not a measure of whether the prompt works" in repr(q)
    with pytest.raises(ValueError, match="entropy_range must be"):
        A.shape_score(att, entropy_range=(3, 1))
    with pytest.raises(aw.AttentionError, match=r"entropy_range\[1\] must be a finite number; got nan"):
        A.shape_score(att, entropy_range=(0, float("nan")))
    with pytest.raises(aw.AttentionError, match="locality_weight must be a number >= 0"):
        A.shape_score(att, locality_weight=-2)
    with pytest.raises(ValueError, match=r"pattern array must have shape \(n_query, n_key\) = \(4, 4\)"):
        A.shape_score(att, {"bad": np.eye(3)}, hide=None)


# ----------------------------------------------------------------------------- parts


def uniform_causal(n):
    return (np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None])[None, None]


def test_segment_attention_by_hand():
    # Uniform causal attention over "aa bb cc dd": the last row gives 1/4 to each token.
    att = text_attention(uniform_causal(4), "aa bb cc dd", [(0, 2), (3, 5), (6, 8), (9, 11)])
    seg = A.segment_attention(att, {"first": "bb", "rest": "cc dd"}, local=False)
    assert seg.names == ["first", "rest", "sinks"] and seg.part_names == ["first", "rest"]
    assert seg.queries.tolist() == [3] and seg.queries_label == "last"
    assert seg.shares == pytest.approx({"first": 0.25, "rest": 0.5, "sinks": 0.25})
    assert seg.content_shares() == pytest.approx({"first": 1 / 3, "rest": 2 / 3})
    assert seg.uniform == pytest.approx(seg.shares)  # uniform rows read as uniform reading does
    assert seg.tokens == {"first": ["bb"], "rest": ["cc", "dd"], "sinks": ["aa"]}
    # Rows of "rest" (tokens 2, 3) in the part-to-part matrix: to sinks 1/3 + 1/4, first 1/3 + 1/4, rest 1/3 + 1/2.
    np.testing.assert_allclose(seg.matrix[0, 1], np.array([7 / 12, 10 / 12, 7 / 12]) / 2)
    raw = A.segment_attention(att, {"first": "aa bb", "rest": "cc dd"}, hide=None, queries="all", local=False)
    # Rows: 1, 1/2+1/2, 2/3+1/3, 2/4+2/4 -> to "first" 1, 1, 2/3, 1/2.
    assert raw.names == ["first", "rest"]
    assert raw.shares["first"] == pytest.approx((1 + 1 + 2 / 3 + 1 / 2) / 4)
    assert sum(raw.shares.values()) == pytest.approx(1)
    assert "what the last token read" in repr(seg) and "uniform" in repr(seg)


def test_segment_other_and_query_choices():
    att = text_attention(uniform_causal(5), "aa bb cc dd ee", [(3 * i, 3 * i + 2) for i in range(5)])
    seg = A.segment_attention(att, {"b": "bb", "d": "dd"}, queries="d", local=False)
    assert seg.names == ["b", "d", "other", "sinks"] and seg.tokens["other"] == ["cc", "ee"]
    assert seg.queries.tolist() == [3]
    assert seg.shares == pytest.approx({"b": 0.25, "d": 0.25, "other": 0.25, "sinks": 0.25})
    rows = A.segment_attention(att, {"b": "bb"}, queries=[2, 4], local=False)
    # Row 2: 1/3 each on aa (sink), bb, cc; row 4: 1/5 each.
    assert rows.shares["b"] == pytest.approx((1 / 3 + 1 / 5) / 2)
    assert sum(rows.shares.values()) == pytest.approx(1)
    assert A.segment_attention(att, {"b": "bb"}, queries="all").queries.tolist() == [0, 1, 2, 3, 4]
    cases = [
        ("generated", "needs attention from aw.generate"),
        ("nope", "queries must be 'generated'"),
        ([7], r"query positions \[7\] are not query rows"),
        ([], "queries is empty"),
    ]
    for queries, message in cases:
        with pytest.raises(ValueError, match=message):
            A.segment_attention(att, {"b": "bb"}, queries=queries)
    assert list(rows.layer(0)) == rows.names
    with pytest.raises(IndexError, match="layer 4 is not in this result"):
        rows.layer(4)
    assert rows.table().columns == ["layer", "b", "other", "sinks"]


def test_segment_token_spans_and_units():
    att = text_attention(uniform_causal(5), "aa bb cc dd ee", [(3 * i, 3 * i + 2) for i in range(5)])
    by_text = A.segment_attention(att, {"x": "bb cc"})
    for parts, unit in (
        ({"x": aw.analysis.tokens_span(1, 3)}, None),
        ({"x": (1, 3)}, "token"),
        ({"x": (3, 8)}, "char"),
    ):
        seg = A.segment_attention(att, parts, unit=unit)
        assert seg.token_index["x"] == [1, 2]
        assert seg.shares == pytest.approx(by_text.shares)
    with pytest.raises(ValueError, match=r"pair of numbers \(1, 3\): say what they count with unit='char'"):
        A.segment_attention(att, {"x": (1, 3)})
    with pytest.raises(ValueError, match=r"token span \(3, 9\) is outside the 5 tokens"):
        A.segment_attention(att, {"x": (3, 9)}, unit="token")
    with pytest.raises(ValueError, match="unit must be 'char' or 'token'"):
        A.segment_attention(att, {"x": "bb"}, unit="word")
    with pytest.raises(ValueError, match="tokens_span.*empty"):
        aw.analysis.tokens_span(3, 3)


def test_segment_errors():
    att = text_attention(np.full((1, 1, 3, 3), 1 / 3), "aa bb aa", [(0, 2), (3, 5), (6, 8)], np.ones((3, 3), bool))
    cases = [
        ({}, "non-empty dict"),
        ({"x": ""}, "empty string"),
        ({"x": "zz"}, "does not occur"),
        ({"x": "aa"}, "occurs 2 times"),
        ({"x": "a bb"}, "straddles the edge of part 'x'"),
        ({"x": (0, 5), "y": (3, 8)}, "overlap at token 1 'bb'"),
        ({"x": (5, 20)}, r"outside the text \(expected 0 <= start < end <= 8\)"),
        ({"x": (4, 4)}, "empty or negative"),
        ({"x": (2, 3)}, "covers no token"),
        ({"x": 3}, "must be a substring, a \\(start, end\\)"),
        ({"other": "bb"}, "named 'other'"),
        ({"sinks": "bb"}, "named 'sinks'"),
    ]
    for parts, message in cases:
        with pytest.raises(ValueError, match=message):
            A.segment_attention(att, parts, unit="char")
    bare = aw.Attention(np.full((1, 1, 3, 3), 1 / 3, np.float32), ["a", "b", "c"], np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="no text; give token spans"):
        A.segment_attention(bare, {"x": "a"})
    assert A.segment_attention(bare, {"x": aw.analysis.tokens_span(1, 2)}).token_index["x"] == [1]
    with pytest.raises(TypeError, match="takes an aw.Attention"):
        A.segment_attention(np.ones((1, 1, 3, 3)), {"x": "a"})
    one = aw.Attention(np.ones((1, 1, 1, 1), np.float32), ["a"])
    with pytest.raises(ValueError, match="analyze needs at least two tokens"):
        A.analyze(one)


def test_segment_attention_equals_loop_reference(tiny_llama, word_tokenizer):
    text = words(15)
    att = aw.extract(tiny_llama, word_tokenizer, text)
    cut1, cut2 = text.index(" ", 20), text.index(" ", 45)
    parts = {"a": (0, cut1), "b": (cut1 + 1, cut2), "c": (cut2 + 1, len(text))}
    sinks = A.find_sinks(att)
    seg = A.segment_attention(att, parts, unit="char", queries="all", local=False)
    which = {t: seg.names.index(n) for n, idx in seg.token_index.items() for t in idx}
    assert sorted(which) == list(range(att.n_key))
    assert all(which[s] == seg.names.index("sinks") for s in sinks)
    for li, layer in enumerate(att.layer_ids):
        for h in range(att.num_heads):
            a = att.head(layer, h)
            ref = np.zeros(len(seg.names))
            for i in range(att.n_query):
                for j in range(i + 1):
                    ref[which[j]] += a[i, j] / att.n_query
            np.testing.assert_allclose(seg.per_head[li, h], ref, rtol=1e-5)
    np.testing.assert_allclose(seg.per_layer.sum(-1), 1, rtol=1e-6)
    lazy = A.segment_attention(aw.extract(tiny_llama, word_tokenizer, text, lazy=True), parts, unit="char")
    np.testing.assert_allclose(lazy.per_head, A.segment_attention(att, parts, unit="char").per_head, rtol=1e-5)


def test_segment_attention_reads_a_generation(tiny_llama, word_tokenizer):
    prompt = words(8)
    gen = aw.generate(tiny_llama, word_tokenizer, prompt, max_new_tokens=4, lazy=False)
    assert gen.offsets is None  # the parts are found through the token text
    first, second = prompt[: prompt.index(" ", 10)], prompt[prompt.index(" ", 10) + 1 :]
    seg = A.segment_attention(gen, {"first": first, "second": second}, hide="first", local=False)
    n_prompt = gen.meta["prompt_length"]
    steps = [aw.extraction.generation_step_row(gen, s) for s in range(gen.n_key - n_prompt)]
    assert seg.queries.tolist() == steps and seg.queries_label == "generated"
    fused = gen.weights.mean(axis=(0, 1))
    idx = seg.token_index
    for name in ("first", "second", "other", "sinks"):
        ref = np.mean([fused[r, idx[name]].sum() for r in steps])
        assert seg.shares[name] == pytest.approx(ref, rel=1e-5)
    assert idx["other"] == list(range(n_prompt, gen.n_key))  # generated tokens are in no part


# ----------------------------------------------------------------------------- head roles


def test_head_roles_on_known_heads():
    roles = A.roles_from_scores(role_heads())
    assert list(roles["role"]) == ["previous_token", "first_token", "self", "broad"]
    assert roles["previous_token"][0] == pytest.approx(5 / 6)  # row 0 can only attend to itself
    assert roles["first_token"][1] == pytest.approx(1.0)
    assert roles["score"][2] == pytest.approx(1.0)
    assert roles["broad"][3] == pytest.approx(1.0)
    assert np.isnan(roles["induction"]).all()  # no model given: no induction test
    # aw.experiments.head_roles without a model is this labelling step, nothing more.
    same = aw.experiments.head_roles(role_heads())
    assert list(same["role"]) == list(roles["role"]) and list(same["score"]) == list(roles["score"])
    strict = A.roles_from_scores(role_heads(), thresholds={"previous_token": 0.9, "local": 0.6, "broad": 1.5})
    assert list(strict["role"])[::3] == ["local", "mixed"]  # above 1 switches a role off
    for bad, message in ((float("nan"), "must be a finite number"), (-1, "must be a number >= 0")):
        with pytest.raises(aw.AttentionError, match=r"thresholds\['broad'\] " + message):
            A.roles_from_scores(role_heads(), thresholds={"broad": bad})
    assert A.role_counts(roles) == {"broad": 1, "first_token": 1, "previous_token": 1, "self": 1}
    with pytest.raises(ValueError, match="unknown role 'sink'"):
        A.roles_from_scores(role_heads(), thresholds={"sink": 0.5})
    with pytest.raises(ValueError, match="pass both model and tokenizer"):
        aw.experiments.head_roles(role_heads(), model=object())
    with pytest.raises(ValueError, match=r"induction scores must have shape \(layers, heads\) = \(1, 4\)"):
        A.roles_from_scores(role_heads(), induction=np.zeros((2, 4)))


def test_head_hints_tint_and_badge_known_heads():
    # The head grid's hints (aw.show): tints are per-head metrics, badges the patterns a head gives
    # at least BADGE_SHARE of its attention, on heads whose shares are known by construction.
    att = role_heads()
    tints, labels = A.heads.head_hints(att)
    uniform_entropy = np.mean([np.log(i + 1) for i in range(6)])  # row i is uniform over i + 1 keys
    np.testing.assert_allclose(tints["entropy (nats)"], [[0, 0, 0, uniform_entropy]], atol=1e-6)
    # Sink mass is the first token's share from rows 1..5: the previous-token head gives it row 1 only.
    np.testing.assert_allclose(tints["sink mass"], [[1 / 5, 1, 0, np.mean([1 / (i + 1) for i in range(1, 6)])]])
    assert labels == [["prev", "sink", "", ""]]
    one = aw.Attention(np.ones((1, 2, 1, 1), np.float32), ["t0"])
    tints, labels = A.heads.head_hints(one)  # one token: no sink to measure, no badge
    assert list(tints) == ["entropy (nats)"] and labels == [["", ""]]


@pytest.mark.slow
def test_real_smollm2_has_many_sink_heads_and_some_induction_heads(smollm2):
    model, tok = smollm2
    att = aw.extract(model, tok, "The quick brown fox jumps over the lazy dog. Then the dog slept near the barn.")
    roles = aw.experiments.head_roles(att, model, tok)
    counts = A.role_counts(roles)
    assert counts.get("first_token", 0) >= 0.25 * len(roles)  # attention sinks are common
    assert counts.get("induction", 0) >= 1
    best = int(np.argmax(roles["induction"]))
    assert roles["induction"][best] > 0.5
    # The strongest induction head, checked by hand on the same repeated sequence.
    layer, head = int(roles["layer"][best]), int(roles["head"][best])
    words_ = aw.experiments._random_words(tok, 40, 0)
    rep = aw.extract(model, tok, " ".join(words_ + words_), layers=[layer], heads=[head])
    ids = rep.token_ids
    a = rep.head(layer, head)
    hits = [a[i, j] for i in range(rep.n_key) for j in range(1, i + 1) if ids[j - 1] == ids[i] and j - 1 < i]
    assert np.mean(hits) == pytest.approx(roles["induction"][best], rel=1e-4)


def byte_level_tokenizer():
    """A byte-level BPE tokenizer of 100 ids (the tiny models' vocabulary) with '##', '###' and
    '####' merged, and the bytes of '北京' (each character split into three tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from attnwidget.extraction.tokens import _byte_level_alphabet

    char = {b: c for c, b in _byte_level_alphabet().items()}
    base = [char[b] for b in range(0x21, 0x7F) if b not in b"`{|}~"] + [char[0x20]]
    vocab = {c: i for i, c in enumerate(base + [char[b] for b in "北京".encode()])}
    for t in ("##", "###", "####", "<|endoftext|>"):
        vocab[t] = len(vocab)
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[("#", "#"), ("##", "#"), ("##", "##")]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|endoftext|>")


def test_byte_level_hashes_stay_text_and_character_parts_work_on_generate_output(tiny_gpt2):
    tok = byte_level_tokenizer()
    text = "a ### b #### 北京"
    assert aw.extraction.readable_tokens(tok, tok(text)["input_ids"])[:7] == ["a", " ", "###", " ", "b", " ", "####"]
    att = aw.generate(tiny_gpt2, tok, text, max_new_tokens=3)
    assert att.offsets is None and att.tokens[2] == "###" and att.tokens[8] == "北[1/3]"
    seg = A.segment_attention(att, {"hashes": "a ###", "city": "北京"})
    # Every part of the two split characters is in the part, whatever the generated tokens decode to.
    assert seg.token_index["city"] == list(range(8, 14))
    assert sorted(seg.token_index["hashes"] + seg.part_sinks["hashes"]) == [0, 1, 2]


def test_chinese_prompt_character_parts_on_generate_output(tiny_gpt2):
    tok = byte_level_tokenizer()
    att = aw.generate(tiny_gpt2, tok, "北京 北", max_new_tokens=2)
    seg = A.segment_attention(att, {"city": "北京"}, hide=None)
    assert seg.token_index["city"] == list(range(6))


def test_character_parts_refusal_names_what_is_missing():
    att = aw.Attention(two_layer_attention().weights[:, :, :3, :3] * 0 + 1 / 3, ["aa", "xx", "yy"], text="aa bb")
    with pytest.raises(aw.AttentionError, match="tokens do not spell its text in order"):
        A.segment_attention(att, {"first": "aa"})


def test_shape_score_pattern_on_the_hidden_sink_is_nan_with_a_warning():
    from helpers.refusal_data import att

    a = att(6)
    with pytest.warns(UserWarning, match="pattern 'first_token' expects attention only on keys the mask hides"):
        sc = A.shape_score(a, expected_patterns="first_token")  # the default hide="sinks" hides token 0
    assert np.isnan(sc.layers["pattern_first_token"]).all()
    assert np.isfinite(A.shape_score(a, expected_patterns="first_token", hide=None).layers["pattern_first_token"]).all()


def test_analyze_notes_a_pattern_whose_keys_are_all_hidden_in_its_title():
    from helpers.refusal_data import att

    a = att(2)  # two tokens: with the sink (token 0) hidden, the previous token of row 1 is hidden
    table = A.analyze(a)  # no warning: the table says it
    assert np.isnan(table["previous_token"]).all()
    assert "previous_token NaN where the pattern's keys are all hidden" in table.title
    assert "NaN" not in A.analyze(att(6)).title
