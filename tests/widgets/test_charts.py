"""bqplot charts draw exactly the numbers of the analysis results they are given."""

import numpy as np
import pytest
from helpers.analysis_data import role_heads, text_attention, two_layer_attention
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget import analysis as A
from attnwidget.widgets import charts


def test_metric_lines_put_each_unit_on_its_own_axis():
    att = two_layer_attention()
    rep = A.report(att, hide=None)
    fig = charts.metric_lines(rep, ["entropy", "sparsity", "locality"])
    nats, share = fig.marks
    assert list(nats.labels) == ["entropy (nats)"]
    assert list(share.labels) == ["sparsity (share (0-1))", "locality (share (0-1))"]
    assert nats.scales["y"] is not share.scales["y"]
    assert (share.scales["y"].min, share.scales["y"].max) == (0.0, 1.0)
    x_axis, left, right = fig.axes
    assert (left.side, left.label, left.scale) == ("left", "nats", nats.scales["y"])
    assert (right.side, right.scale) == ("right", share.scales["y"])
    np.testing.assert_allclose(nats.x, [0, 1])
    np.testing.assert_allclose(np.atleast_2d(nats.y)[0], rep.layers["entropy"])
    np.testing.assert_allclose(share.y[1], rep.layers["locality"])
    # A per-head table is averaged over each layer's heads.
    table = A.analyze(att, hide=None)
    fig2 = charts.metric_lines(table, ["confidence"])
    assert len(fig2.marks) == 1 and len(fig2.axes) == 2
    np.testing.assert_allclose(np.atleast_2d(fig2.marks[0].y), [[1.0, 0.25]])
    state = fig2.marks[0].get_state()  # serialisable widget state
    assert "y" in state and "labels" in state
    with pytest.raises(ValueError, match="not in the table; choose from"):
        charts.metric_lines(rep, ["perplexity"])
    with pytest.raises(TypeError, match="takes a Report, a ShapeScore or a Table"):
        charts.metric_lines(att)


def test_head_roles_chart_groups_heads_by_role():
    roles = A.roles_from_scores(role_heads())
    fig = charts.head_roles_chart(roles)
    by_label = {m.labels[0]: m for m in fig.marks}
    assert set(by_label) == {"previous_token (1)", "first_token (1)", "self (1)", "broad (1)"}
    prev = by_label["previous_token (1)"]
    assert list(prev.x) == [0] and list(prev.y) == [0] and list(prev.names) == [f"{5 / 6:.2f}"]
    assert list(by_label["broad (1)"].y) == [3]
    x_axis, y_axis = fig.axes
    assert list(y_axis.tick_values) == [0, 1, 2, 3] and list(x_axis.tick_values) == [0]
    assert y_axis.scale.max > 3.5  # an empty band above the top head holds the legend
    with pytest.raises(TypeError, match="aw.experiments.head_roles"):
        charts.head_roles_chart(A.analyze(role_heads()))


def test_comparison_bars(tiny_llama, word_tokenizer):
    cmp = aw.experiments.compare_templates(
        tiny_llama,
        word_tokenizer,
        {"a": {"text": "w1 w2 w3", "parts": {"q": "w3"}}, "b": {"text": "w4 w5 w6 w3 w7", "parts": {"q": "w3"}}},
        target=" w8",
    )
    fig = charts.comparison_bars(cmp)  # the outcome by default
    assert list(fig.marks[0].x) == ["a", "b"]
    np.testing.assert_allclose(fig.marks[0].y, cmp.table["logprob"])
    assert fig.axes[1].label == "logprob (nats)"
    read = charts.comparison_bars(cmp, "read_q")
    np.testing.assert_allclose(read.marks[0].y, cmp.table["read_q"])
    assert read.axes[1].label == "read_q (share (0-1))" and read.marks[0].scales["y"].max == 1.0
    with pytest.raises(ValueError, match=r"unknown metric 'nope'; choose from \['tokens', 'logprob'"):
        charts.comparison_bars(cmp, "nope")
    langs = aw.experiments.compare_languages(tiny_llama, word_tokenizer, {"x": words(5), "y": words(7)})
    fig = charts.comparison_bars(langs, "chars_per_token")
    np.testing.assert_allclose(fig.marks[0].y, langs.summary()["chars_per_token"])
    with pytest.raises(TypeError, match="compare_templates or aw.experiments.compare_languages"):
        charts.comparison_bars(langs.table)


def test_segment_charts():
    w = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]
    att = text_attention(w[None, None], "aa bb cc dd", [(0, 2), (3, 5), (6, 8), (9, 11)])
    seg = A.segment_attention(att, {"first": "bb", "rest": "cc dd"})
    bars = charts.segment_shares(seg)
    assert list(bars.marks[0].x) == ["first", "rest", "sinks", "local"]
    np.testing.assert_allclose(bars.marks[0].y, [0.25, 0, 0.25, 0.5], atol=1e-7)  # dd reads cc and itself
    content = charts.segment_shares(seg, content=True)
    np.testing.assert_allclose(content.marks[0].y, [1, 0], atol=1e-7)
    fig = charts.segment_heatmap(seg)
    grid = fig.marks[0]
    np.testing.assert_allclose(grid.color, seg.matrix[0][:3])
    assert list(grid.row) == ["first", "rest", "sinks"]
    assert list(grid.column) == ["first", "rest", "sinks", "local"]
    assert "layer 0" in charts.segment_heatmap(seg, layer=0).title
    with pytest.raises(IndexError, match="layer 3 is not in this result"):
        charts.segment_heatmap(seg, layer=3)
    with pytest.raises(TypeError, match="aw.analysis.segment_attention"):
        charts.segment_shares(grid)
