"""bqplot charts draw exactly the numbers of the analysis results they are given."""

import numpy as np
import pytest

import attnwidget as aw
from attnwidget import analysis as A
from attnwidget import charts
from tiny_models import words
from test_analysis import role_heads, text_attention, two_layer_attention


def test_metric_lines_from_report_and_per_head_table():
    att = two_layer_attention()
    rep = A.report(att)
    fig = charts.metric_lines(rep)
    (lines,) = fig.marks
    assert list(lines.labels) == ["entropy", "sparsity", "locality"]
    np.testing.assert_allclose(lines.x, [0, 1])
    np.testing.assert_allclose(lines.y[0], rep.layers["entropy"])
    # A per-head table is averaged over each layer's heads.
    table = A.analyze(att)
    fig2 = charts.metric_lines(table, ["confidence"])
    np.testing.assert_allclose(np.atleast_2d(fig2.marks[0].y), [[1.0, 0.25]])
    state = fig2.marks[0].get_state()  # serialisable widget state
    assert "y" in state and "labels" in state
    with pytest.raises(ValueError, match="not in the table; choose from"):
        charts.metric_lines(rep, ["perplexity"])
    with pytest.raises(TypeError, match="takes a Report, a Quality or a Table"):
        charts.metric_lines(att)


def test_head_roles_chart_groups_heads_by_role():
    roles = A.head_roles(role_heads())
    fig = charts.head_roles_chart(roles)
    by_label = {m.labels[0]: m for m in fig.marks}
    assert set(by_label) == {"previous_token (1)", "first_token (1)", "self (1)", "broad (1)"}
    prev = by_label["previous_token (1)"]
    assert list(prev.x) == [0] and list(prev.y) == [0] and list(prev.names) == [f"{5 / 6:.2f}"]
    assert list(by_label["broad (1)"].y) == [3]
    x_axis, y_axis = fig.axes
    assert list(y_axis.tick_values) == [0, 1, 2, 3] and list(x_axis.tick_values) == [0]
    assert y_axis.scale.max > 3.5  # an empty band above the top head holds the legend
    with pytest.raises(TypeError, match="aw.head_roles"):
        charts.head_roles_chart(A.analyze(role_heads()))


def test_comparison_bars(tiny_llama, word_tokenizer):
    cmp = A.compare_templates(tiny_llama, word_tokenizer, {
        "a": {"text": "w1 w2 w3", "segments": {"q": "w3"}},
        "b": {"text": "w4 w5 w6 w3 w7", "segments": {"q": "w3"}}})
    fig = charts.comparison_bars(cmp, "coverage")
    assert list(fig.marks[0].x) == ["a", "b"]
    np.testing.assert_allclose(fig.marks[0].y, cmp.table["coverage"])
    seg = charts.comparison_bars(cmp, "q")
    np.testing.assert_allclose(seg.marks[0].y, [cmp.segments["q"]["a"], cmp.segments["q"]["b"]])
    with pytest.raises(ValueError, match=r"unknown metric 'nope'.*shared segment from \['q'\]"):
        charts.comparison_bars(cmp, "nope")
    langs = A.compare_languages(tiny_llama, word_tokenizer, {"x": words(5), "y": words(7)})
    fig = charts.comparison_bars(langs, "chars_per_token")
    np.testing.assert_allclose(fig.marks[0].y, langs.summary()["chars_per_token"])
    with pytest.raises(TypeError, match="compare_templates or aw.compare_languages"):
        charts.comparison_bars(langs.table)


def test_segment_heatmap():
    w = np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]
    att = text_attention(w[None, None], "aa bb cc", [(0, 2), (3, 5), (6, 8)])
    seg = A.segment_attention(att, {"first": "aa", "rest": (3, 8)})
    fig = charts.segment_heatmap(seg)
    grid = fig.marks[0]
    np.testing.assert_allclose(grid.color, [[1, 0], [5 / 12, 7 / 12]])
    assert list(grid.row) == ["first", "rest"] and list(grid.column) == ["first", "rest"]
    assert "layer 0" in charts.segment_heatmap(seg, layer=0).title
    with pytest.raises(IndexError, match="layer 3 is not in this result"):
        charts.segment_heatmap(seg, layer=3)
