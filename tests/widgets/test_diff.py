"""AttentionDiff: the per-head summary against a direct loop, the maps it holds, two prompts compared at
aligned positions (against a loop over the pairs), and bad pairs and alignments refused."""

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError
from attnwidget.metrics import total_variation


def random_attention(seed, L=2, H=3, n=7, causal=True, tokens=None):
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(L, H, n, n)) * 2
    mask = np.tril(np.ones((n, n), bool)) if causal else np.ones((n, n), bool)
    s = np.where(mask, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return aw.Attention(p.astype(np.float32), tokens or [f"t{i}" for i in range(n)], mask)


def test_summary_is_total_variation_per_head():
    a, b = random_attention(0), random_attention(1)
    view = aw.widgets.AttentionDiff(a, b)
    expected = np.zeros((2, 3))
    for layer in range(2):
        for h in range(3):
            rows = [
                0.5 * sum(abs(float(a.weights[layer, h, i, j]) - float(b.weights[layer, h, i, j])) for j in range(7))
                for i in range(7)
            ]
            expected[layer, h] = sum(rows) / 7
    np.testing.assert_allclose(view.summary(), expected, atol=1e-6)
    assert np.all(aw.widgets.AttentionDiff(a, a).summary() == 0)
    assert total_variation(np.eye(3)[None], np.eye(3)[::-1][None], np.ones((3, 3), bool))[0] == pytest.approx(2 / 3)


def test_pairs_by_position_across_layers_and_state_round_trips():
    att = random_attention(2, L=4)
    view = aw.widgets.AttentionDiff(att.select(layers=[1]), att.select(layers=[3]), names=("layer 1", "layer 3"))
    assert view.held_maps[0] == "1/mean"  # the selection (heads fused) comes first
    pair = view.pair(1, 2)
    np.testing.assert_array_equal(pair[0], att.head(1, 2))
    np.testing.assert_array_equal(pair[1], att.head(3, 2))
    state = view.get_state()
    assert state["_view_kind"] == "diff" and state["_names"] == ["layer 1", "layer 3"]
    assert state["_b_layer_ids"] == [3]
    maps = np.frombuffer(state["_maps"]["data"], np.float16).reshape(state["_maps"]["shape"])
    i = state["_maps"]["keys"].index("1/2")
    np.testing.assert_allclose(maps[i].astype(np.float32), pair, atol=1e-3)
    summary = np.frombuffer(state["_summary"]["data"], np.float32).reshape(state["_summary"]["shape"])
    np.testing.assert_allclose(summary, view.summary())


def test_selection_brings_missing_pairs_within_the_budget():
    a, b = random_attention(3, L=3, n=16), random_attention(4, L=3, n=16)
    pair_bytes = 2 * 16 * 16 * 2
    view = aw.widgets.AttentionDiff(a, b, max_bytes=2 * pair_bytes, layer=0, head=0)
    assert len(view.held_maps) == 2 and "0/0" in view.held_maps
    view.selection.layer, view.selection.head = 2, 1
    assert "2/1" in view.held_maps and len(view.held_maps) == 2
    view.selection.head = None
    assert "2/mean" in view.held_maps


def test_linked_to_other_views_of_a():
    a, b = random_attention(5), random_attention(6)
    heat = aw.AttentionHeatmap(a)
    view = aw.widgets.AttentionDiff(a, b, selection=heat.selection)
    view.hovered_token = 3
    assert heat.hovered_token == 3


def test_bad_pairs_are_named():
    a = random_attention(7)
    with pytest.raises(AttentionError, match="pairs layers and heads by position; a has 2 layers, b has 3"):
        aw.widgets.AttentionDiff(a, random_attention(8, L=3))
    with pytest.raises(AttentionError, match="a has 3 heads, b has 4"):
        aw.widgets.AttentionDiff(a, random_attention(8, H=4))
    with pytest.raises(AttentionError, match="visible-key mask"):
        aw.widgets.AttentionDiff(a, random_attention(8, causal=False))
    with pytest.raises(ValueError, match="no log scale"):
        aw.widgets.AttentionDiff(a, a, scale="log")
    with pytest.raises(TypeError, match="needs an attnwidget.Attention"):
        aw.widgets.AttentionDiff(a, a.weights)


def test_bad_alignments_are_named():
    a, b = random_attention(7), random_attention(8, n=5)
    with pytest.raises(
        AttentionIndexError, match=r"align\[1\] = \(2, 5\): position 5 is out of range for b's 5 tokens"
    ):
        aw.widgets.AttentionDiff(a, b, align=[(0, 0), (2, 5)])
    with pytest.raises(AttentionIndexError, match="position 7 is out of range for a's 7 tokens"):
        aw.widgets.AttentionDiff(a, b, align=[(7, 0)])
    with pytest.raises(AttentionError, match=r"not one-to-one: position 1 of b is in align\[0\] and align\[1\]"):
        aw.widgets.AttentionDiff(a, b, align=[(0, 1), (2, 1)])
    with pytest.raises(AttentionError, match="not one-to-one: position 3 of a"):
        aw.widgets.AttentionDiff(a, b, align=[(3, 1), (3, 2)])
    with pytest.raises(ArgumentTypeError, match=r"align\[0\] must be a pair"):
        aw.widgets.AttentionDiff(a, b, align=[(0, 1, 2)])
    with pytest.raises(ArgumentTypeError, match=r"align\[0\] must be a pair"):
        aw.widgets.AttentionDiff(a, b, align=[("0", 1)])
    with pytest.raises(AttentionError, match="holds no pairs"):
        aw.widgets.AttentionDiff(a, b, align=[])
    with pytest.raises(AttentionError, match="align must be one of"):
        aw.widgets.AttentionDiff(a, b, align="letters")
    with pytest.raises(AttentionError, match='align="positions" needs token lists of the same length; a has 7'):
        aw.widgets.AttentionDiff(a, b, align="positions")
    # A causal pair whose alignment reorders positions would compare keys one side cannot see.
    with pytest.raises(AttentionError, match="reorders the positions of a causal model"):
        aw.widgets.AttentionDiff(a, b, align=[(0, 1), (1, 0)])


def aligned_reference(a, b, pairs, layer, head):
    """b - a at aligned positions, by a loop over the pairs (rows: pairs that are queries of both)."""
    wa, wb = a.head(layer, head), b.head(layer, head)
    off_a, off_b = a.n_key - a.n_query, b.n_key - b.n_query
    rows = [(i, j) for i, j in pairs if i >= off_a and j >= off_b]
    out = np.zeros((len(rows), len(pairs)))
    for r, (qi, qj) in enumerate(rows):
        for c, (ki, kj) in enumerate(pairs):
            out[r, c] = float(wb[qj - off_b, kj]) - float(wa[qi - off_a, ki])
    return out


def test_equal_length_prompts_compare_position_by_position(tiny_llama, word_tokenizer):
    a = aw.extract(tiny_llama, word_tokenizer, "w1 w2 w3 w4 w5 w6")
    b = aw.extract(tiny_llama, word_tokenizer, "w1 w9 w3 w4 w5 w6")
    view = aw.widgets.AttentionDiff(a, b)
    al = view.alignment
    assert al.method == "positions" and al.pairs == tuple((i, i) for i in range(6))
    assert al.only_a == al.only_b == ()
    for layer, head in [(0, 0), (2, 5)]:
        np.testing.assert_allclose(view.difference(layer, head), b.head(layer, head) - a.head(layer, head), atol=1e-7)
        np.testing.assert_allclose(
            view.difference(layer, head), aligned_reference(a, b, al.pairs, layer, head), atol=1e-6
        )
    state = view.get_state()
    assert state["_b_tokens"] == list(b.tokens) and state["_align"]["only_b"] == []
    assert state["_align"]["a"] == list(range(6))


def test_unequal_prompts_align_by_words(tiny_gpt2, word_tokenizer):
    a = aw.extract(tiny_gpt2, word_tokenizer, "w1 w2 w3 w4")
    b = aw.extract(tiny_gpt2, word_tokenizer, "w1 w7 w2 w3 w4 w8")
    view = aw.widgets.AttentionDiff(a, b)
    al = view.alignment
    assert al.method == "words"
    assert al.pairs == ((0, 0), (1, 2), (2, 3), (3, 4)) and al.only_a == () and al.only_b == (1, 5)
    for layer, head in [(0, 1), (2, 3)]:
        got = view.difference(layer, head)
        assert got.shape == (4, 4)
        np.testing.assert_allclose(got, aligned_reference(a, b, al.pairs, layer, head), atol=1e-6)
    ta = a.layer(1)[:, [0, 1, 2, 3]][:, :, [0, 1, 2, 3]]
    tb = b.layer(1)[:, [0, 2, 3, 4]][:, :, [0, 2, 3, 4]]
    tv = 0.5 * np.abs(ta - tb).sum(-1).mean(-1)
    np.testing.assert_allclose(view.summary()[1], tv, atol=1e-6)
    state = view.get_state()
    assert state["_align"]["only_b"] == [1, 5] and state["_align"]["b"] == [0, 2, 3, 4]
    maps = np.frombuffer(state["_maps"]["data"], np.float16).reshape(state["_maps"]["shape"])
    assert maps.shape[-2:] == (4, 4)


def test_given_pairs_and_token_runs(tiny_gpt2, word_tokenizer):
    a = aw.extract(tiny_gpt2, word_tokenizer, "w1 w2 w3 w4")
    b = aw.extract(tiny_gpt2, word_tokenizer, "w5 w2 w3")
    view = aw.widgets.AttentionDiff(a, b, align=[(3, 2), (0, 0), (2, 1)])
    assert view.alignment.pairs == ((0, 0), (2, 1), (3, 2)) and view.alignment.method == "given"
    assert view.alignment.only_a == (1,) and view.alignment.only_b == ()
    np.testing.assert_allclose(view.difference(1, 2), aligned_reference(a, b, view.alignment.pairs, 1, 2), atol=1e-6)
    runs = aw.widgets.AttentionDiff(a, b, align="tokens").alignment
    # w1 -> w5 is a changed run as long on both sides: it pairs; w4 has no partner.
    assert runs.pairs == ((0, 0), (1, 1), (2, 2)) and runs.only_a == (3,) and runs.only_b == ()


@pytest.mark.slow
def test_two_prompts_on_the_bundled_model(smollm2):
    model, tok = smollm2
    a = aw.extract(model, tok, "The cat sat on the mat.")
    b = aw.extract(model, tok, "The dog sat on the mat.")
    view = aw.widgets.AttentionDiff(a, b)
    assert view.alignment.method == "positions" and len(view.alignment.pairs) == len(a.tokens)
    assert [i for i, (x, y) in enumerate(zip(a.tokens, b.tokens, strict=True)) if x != y] == [1]
    np.testing.assert_allclose(view.difference(20, 4), b.head(20, 4) - a.head(20, 4), atol=1e-6)

    a, b = aw.extract(model, tok, "The cat sat."), aw.extract(model, tok, "The big cat sat.")
    view = aw.widgets.AttentionDiff(a, b)
    assert [b.tokens[j] for j in view.alignment.only_b] == [" big"] and view.alignment.only_a == ()
    pairs = [(i, b.tokens.index(t)) for i, t in enumerate(a.tokens)]  # every token of a appears once in b
    assert list(view.alignment.pairs) == pairs
    for layer, head in [(0, 0), (29, 8)]:
        np.testing.assert_allclose(view.difference(layer, head), aligned_reference(a, b, pairs, layer, head), atol=1e-6)
