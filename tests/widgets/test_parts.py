"""`aw.show` of an encoder-decoder result: the three parts behind a part selector."""

from __future__ import annotations

import pytest
from helpers.tiny_seq2seq import tiny_seq2seq
from helpers.widget_data import over_the_wire, words

import attnwidget as aw
from attnwidget.widgets.export import _collect


@pytest.fixture(scope="module")
def pair(word_tokenizer):
    return aw.extract(tiny_seq2seq("marian"), word_tokenizer, words(4), target=words(6))


def test_show_gives_each_part_its_view(pair):
    dash = aw.show(pair, scale="linear")
    assert isinstance(dash, aw.widgets.PartsDashboard) and dash.part == "cross"
    enc, dec, cross = dash.encoder, dash.decoder, dash.cross
    assert (
        isinstance(enc, aw.widgets.Dashboard)
        and isinstance(dec, aw.widgets.Dashboard)
        and isinstance(cross, aw.AttentionHeatmap)
    )
    assert enc.heatmap.attention is pair.encoder and dec.heatmap.attention is pair.decoder
    assert cross.attention is pair.cross and cross._query_tokens == pair.decoder.tokens
    # Under the cross heatmap, the two-row graph, linked to it (hover and pin are source positions).
    graph = dash.cross_graph
    assert isinstance(graph, aw.AttentionGraph) and graph._view_kind == "crossgraph"
    assert graph.selection is cross.selection and graph.data is cross.data
    # Options reach every part; the cross part is a heatmap alone (the other views need square maps).
    assert enc.heatmap.scale == dec.heatmap.scale == cross.scale == "linear"
    state = over_the_wire(dash)
    assert state["_view_kind"] == "parts" and state["part"] == "cross"
    assert {state[p] for p in ("encoder", "decoder", "cross")} == {f"anywidget:{w.model_id}" for w in (enc, dec, cross)}
    # A saved page holds every part (switching needs no kernel).
    held = {w.model_id for w in _collect([dash])}
    assert {enc.heatmap.model_id, dec.graph.model_id, cross.model_id, cross.data.model_id} <= held
    dash.close()
    assert cross._att is None and enc.heatmap._att is None and graph._att is None


def test_part_and_options(pair):
    dash = aw.show(pair, part="encoder")
    assert dash.part == "encoder"
    dash.part = "decoder"
    with pytest.raises(Exception, match="part"):
        dash.part = "both"
    dash.close()
    with pytest.raises(ValueError, match="part must be one of"):
        aw.show(pair, part="source")
    with pytest.raises(TypeError, match="layer=, head="):
        aw.show(pair, layer=0)
    with pytest.raises(TypeError, match=r"\['hide'\].*aw.show\(s.encoder"):
        aw.show(pair, hide=[0])


def test_each_part_selection_names_its_own_tokens(pair):
    dash = aw.show(pair)
    enc, dec, cross = (dash.parts[p].selection for p in ("encoder", "decoder", "cross"))
    n_src, n_tgt = len(pair.encoder.tokens), len(pair.decoder.tokens)
    # Source positions: the encoder's tokens and the cross keys; target positions: the decoder's
    # tokens and the cross query rows (fields of their own, never key positions).
    assert (enc._n_key, cross._n_key) == (n_src, n_src)
    assert (dec._n_key, cross._n_query_tokens, dec._n_query_tokens, enc._n_query_tokens) == (n_tgt, n_tgt, 0, 0)
    assert dash.cross_graph.selection is cross
    cross.pinned_query = n_tgt - 1
    assert dash.cross_graph.pinned_query == n_tgt - 1 and cross.pinned_token is None
    with pytest.raises(Exception, match=rf"hovered_query={n_tgt} is out of range for {n_tgt} query \(target\) tokens"):
        cross.hovered_query = n_tgt
    with pytest.raises(Exception, match=r"hovered_query names a query row of cross-attention"):
        dec.hovered_query = 0
    dash.close()
