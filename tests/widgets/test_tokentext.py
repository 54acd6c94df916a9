"""TokenText and the head hints of show(): state, checks, and badges against independent counts."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.widget_data import assert_coded, decode, held, over_the_wire

import attnwidget as aw


def sink_attention(n: int = 10, seed: int = 0) -> aw.Attention:
    """Causal maps: layer 0 puts ~0.9 on the first token, layer 1 ~0.9 on the previous token."""
    rng = np.random.default_rng(seed)
    w = rng.random((2, 3, n, n)) * 0.01
    idx = np.arange(n)
    w[0, :, :, 0] += 1.0
    w[1, :, idx[1:], idx[:-1]] += 1.0
    w[1, :, 0, 0] += 1.0
    w = np.tril(w)
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(w, [f"t{i}" for i in range(n)])


def test_tokentext_state_crosses_and_direction_is_checked():
    att = sink_attention()
    text = aw.TokenText(att, direction="receives", layer=1, head=2)
    state = over_the_wire(text)
    assert state["_view_kind"] == "tokentext" and state["direction"] == "receives"
    assert "1/2" in text.held_maps
    assert state["data"] == f"anywidget:{text.data.model_id}"
    assert_coded(held(text)["1/2"], att.head(1, 2))
    with pytest.raises(Exception, match="direction"):
        aw.TokenText(att, direction="sideways")
    with pytest.raises(TypeError, match="unexpected keyword"):
        aw.TokenText(att, threshold=0.2)


def test_show_puts_token_text_first_on_the_shared_selection():
    dash = aw.show(sink_attention())
    assert dash.tokentext is not None and dash.tokentext.selection is dash.selection
    assert dash.get_state()["tokentext"] == f"anywidget:{dash.tokentext.model_id}"


def test_show_tints_heads_by_metrics_and_badges_their_patterns():
    att = sink_attention()
    grid = aw.show(att).headgrid
    assert grid.tint_label == "entropy (nats)"
    tints = {k: decode(v) for k, v in grid._tints.items()}
    np.testing.assert_allclose(tints["entropy (nats)"], aw.metrics.entropy(att), rtol=1e-6)
    np.testing.assert_allclose(tints["sink mass"], aw.metrics.sink_mass(att), rtol=1e-6)
    # Independent count: share of each row (from row 1) on key 0 and on key i-1.
    w = att.weights
    first = w[:, :, 1:, 0].mean(-1)
    prev = np.stack([w[:, :, i, i - 1] for i in range(1, w.shape[-1])], -1).mean(-1)
    for li in range(2):
        for hi in range(3):
            badges = grid._labels[li][hi].split()
            assert ("sink" in badges) == (first[li, hi] >= 0.8)
            assert ("prev" in badges) == (prev[li, hi] >= 0.5)
    assert all(grid._labels[0][h] == "sink" for h in range(3))
    assert all(grid._labels[1][h] == "prev" for h in range(3))


def test_headgrid_tints_are_checked():
    att = sink_attention()
    with pytest.raises(ValueError, match=r"tint\['a'\] must have shape"):
        aw.HeadGrid(att, tint={"a": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="tint_label 'b' is not one of tints"):
        aw.HeadGrid(att, tint={"a": np.zeros((2, 3))}, tint_label="b")
    with pytest.raises(TypeError, match="tint must be a non-empty dict"):
        aw.HeadGrid(att, tint={})
    with pytest.raises(ValueError, match="tint must be one of"):
        aw.HeadGrid(att, tint="no_such_metric")


def test_headgrid_tint_takes_a_metric_name_a_labelled_pair_or_a_dict():
    att = sink_attention()
    w = att.weights.astype(np.float64)
    # Entropy from its definition, -sum a ln a per row, averaged over rows that see a key.
    rows = -(np.where(w > 0, w * np.log(np.where(w > 0, w, 1)), 0)).sum(-1)
    expected = rows[:, :, att.mask.any(-1)].mean(-1)
    grid = aw.HeadGrid(att, tint="entropy")
    assert grid.tint_label == "entropy"
    np.testing.assert_allclose(decode(grid._tint), expected, rtol=1e-5)
    pair = aw.HeadGrid(att, tint=("my entropy", expected))
    assert pair.tint_label == "my entropy" and not pair._tints
    menu = aw.HeadGrid(att, tint={"a": expected, "b": "sink_mass"})
    assert menu.tint_label == "a" and list(menu._tints) == ["a", "b"]
    np.testing.assert_allclose(decode(menu._tint), expected, rtol=1e-6)
    np.testing.assert_allclose(decode(menu._tints["b"]), w[:, :, 1:, 0].mean(-1), rtol=1e-5)
    assert aw.HeadGrid(att, tint={"a": expected}, tint_label="")._tint is None


@pytest.mark.slow
def test_wordpiece_text_keeps_its_spaces_and_bpe_text_gets_none_added(minilm, smollm2):
    from attnwidget.widgets.tokentext import token_gaps

    pair = aw.extract(*minilm, "The cat sat. Where?", text_pair="A dog.")
    assert pair.tokens == ["[CLS]", "the", "cat", "sat", ".", "where", "?", "[SEP]", "a", "dog", ".", "[SEP]"]
    gaps = token_gaps(pair)
    shown = "".join((" " if g else "") + tok for g, tok in zip(gaps, pair.tokens))
    assert shown == "[CLS] the cat sat. where? [SEP] a dog. [SEP]"
    assert over_the_wire(aw.TokenText(pair))["_gaps"] == gaps
    # Byte-level BPE tokens hold their own spaces (' cat'): nothing is added.
    bpe = aw.extract(*smollm2, "The cat sat  on")
    assert token_gaps(bpe) == [False] * len(bpe.tokens)
    # Without offsets there is nothing to go on.
    assert token_gaps(aw.Attention(pair.weights, pair.tokens)) == [False] * len(pair.tokens)
