"""Cross-attention (target rows over source keys) in the heatmap, and the views that refuse it."""

from __future__ import annotations

import pytest
from helpers.tiny_seq2seq import tiny_seq2seq
from helpers.widget_data import assert_coded, held, over_the_wire, words

import attnwidget as aw


@pytest.fixture(scope="module", params=["marian", "bart"])
def pair(request, word_tokenizer):
    # More target tokens than source tokens: n_query > n_key, which square views cannot draw.
    return aw.extract(tiny_seq2seq(request.param), word_tokenizer, words(4), target=words(7))


def test_heatmap_labels_rows_by_target_and_columns_by_source(pair):
    cross = pair.cross
    L, H, Q, K = cross.shape
    assert Q > K  # the case the square layout would have mislabelled
    heat = aw.AttentionHeatmap(cross, layer=cross.layer_ids[-1], head=1)
    state = over_the_wire(heat)
    assert state["_query_tokens"] == pair.decoder.tokens == cross.query_tokens
    assert state["_tokens"] == pair.encoder.tokens == cross.tokens
    assert state["_n_query"] == Q and len(state["_tokens"]) == K
    maps = held(heat)
    key = f"{cross.layer_ids[-1]}/1"
    # A rectangular map crosses whole (every cell shown: cross-attention has no causal mask).
    assert over_the_wire(heat.data)["_maps"]["maps"][0]["cells"] == "all"
    assert maps[key].shape == (Q, K)
    assert_coded(maps[key], cross.head(cross.layer_ids[-1], 1))
    heat.close()


def test_square_views_carry_no_query_labels(pair):
    heat = aw.AttentionHeatmap(pair.encoder)
    assert heat._query_tokens == []
    heat.close()


@pytest.mark.parametrize("view", ["HeadGrid", "RolloutBar", "TokenText"])
def test_views_that_need_square_maps_refuse_cross_attention_naming_the_heatmap(pair, view):
    with pytest.raises(ValueError, match="cross-attention.*AttentionHeatmap"):
        getattr(aw, view)(pair.cross)


def test_show_of_the_cross_part_alone_names_what_draws_it(pair):
    with pytest.raises(ValueError, match="AttentionHeatmap"):
        aw.show(pair.cross)


def test_graph_draws_cross_attention_as_two_rows(pair):
    cross = pair.cross
    graph = aw.AttentionGraph(cross, threshold=0.2, head=0)
    state = over_the_wire(graph)
    assert state["_view_kind"] == "crossgraph"
    assert state["_query_tokens"] == cross.query_tokens and state["_tokens"] == cross.tokens
    key = f"{cross.layer_ids[0]}/0"
    assert_coded(held(graph)[key], cross.head(cross.layer_ids[0], 0))
    graph.close()
    assert aw.AttentionGraph(pair.encoder)._view_kind == "graph"
    with pytest.raises(ValueError, match="two rows.*arrangement= and overlay="):
        aw.AttentionGraph(cross, arrangement="force")
    with pytest.raises(ValueError, match="two rows"):
        aw.AttentionGraph(cross, overlay=[0])
