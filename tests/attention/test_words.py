"""Merging tokens into words and other groups, against a direct loop over the definition."""

import numpy as np
import pytest
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.attention.core import AttentionError
from attnwidget.attention.words import word_groups


def loop_merge(w, mask, groups, n_query):
    """W'[a, b] = mean over live query rows i in group a of sum over j in group b of W[i, j]."""
    K = w.shape[-1]
    q0 = K - n_query
    qgroups = [g for g in groups if any(i >= q0 for i in g)]
    out = np.zeros(w.shape[:2] + (len(qgroups), len(groups)))
    for a, ga in enumerate(qgroups):
        rows = [i - q0 for i in ga if i >= q0 and mask[i - q0].any()]
        for b, gb in enumerate(groups):
            for i in rows:
                for j in gb:
                    out[:, :, a, b] += w[:, :, i, j] / len(rows)
    return out


def random_attention(rng, L, H, Q, K, causal=True):
    s = rng.normal(size=(L, H, Q, K)) * 2
    mask = np.ones((Q, K), bool)
    if causal:
        mask = np.arange(K)[None] <= np.arange(Q)[:, None] + (K - Q)
    s = np.where(mask, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)).astype(np.float32), mask


@pytest.mark.parametrize("Q", [9, 6])
def test_merge_matches_the_definition(Q):
    rng = np.random.default_rng(3)
    w, mask = random_attention(rng, 2, 3, Q, 9)
    att = aw.Attention(w, [f"t{i}" for i in range(9)], mask)
    groups = [[0], [1, 2], [3, 4, 5], [6], [7, 8]]
    merged = att.merge(groups)
    np.testing.assert_allclose(merged.weights, loop_merge(w, mask, groups, Q), atol=1e-6)
    np.testing.assert_allclose(merged.weights.sum(-1), 1, atol=1e-5)
    assert merged.tokens == ["t0", "t1t2", "t3t4t5", "t6", "t7t8"]
    assert merged.is_causal and merged.meta["groups"] == groups


def test_non_contiguous_groups_and_labels():
    rng = np.random.default_rng(4)
    w, mask = random_attention(rng, 1, 2, 6, 6, causal=False)
    att = aw.Attention(w, list("abcdef"), mask)
    groups = [[0, 2, 4], [1, 3, 5]]  # e.g. all mentions of two entities
    merged = att.merge(groups, labels=["even", "odd"])
    np.testing.assert_allclose(merged.weights, loop_merge(w, mask, groups, 6), atol=1e-6)
    assert merged.tokens == ["even", "odd"]


def test_lazy_merge_reads_blocks_and_matches(tiny_llama, word_tokenizer):
    text = words(20)
    lazy = aw.extract(tiny_llama, word_tokenizer, text, lazy=True)
    full = aw.extract(tiny_llama, word_tokenizer, text)
    groups = [list(range(i, min(20, i + 3))) for i in range(0, 20, 3)]
    np.testing.assert_allclose(lazy.merge(groups).weights, loop_merge(full.weights, full.mask, groups, 20), atol=1e-5)


def test_chinese_characters_split_across_tokens_merge_back(smollm2):
    model, tok = smollm2
    att = aw.extract(model, tok, "北京是中国的首都。 The unbelievable tokenization, isn't it?")
    assert att.tokens[:2] == ["北[1/2]", "北[2/2]"]  # byte-level BPE splits these characters
    merged = att.to_words()
    # With jieba (the zh extra, installed for the tests) characters join into its words.
    assert merged.tokens == [
        "北京",
        "是",
        "中国",
        "的",
        "首都",
        "。",
        " The",
        " unbelievable",
        " tokenization",
        ",",
        " isn't",
        " it",
        "?",
    ]
    groups = word_groups(att)
    np.testing.assert_allclose(merged.weights, loop_merge(att.weights, att.mask, groups, att.n_query), atol=1e-5)
    np.testing.assert_allclose(merged.weights.sum(-1), 1, atol=1e-4)
    assert merged.offsets[0] == (0, 2) and merged.offsets[7] == (13, 26)


def test_wordpiece_words_from_offsets(minilm):
    model, tok = minilm
    att = aw.extract(model, tok, "The unbelievable tokenization, isn't it? 北京")
    merged = att.to_words()
    assert merged.tokens == [
        "[CLS]",
        "the",
        "unbelievable",
        "tokenization",
        ",",
        "isn't",
        "it",
        "?",
        "北京",
        "[SEP]",
    ]
    assert merged.special == [True] + [False] * 8 + [True]
    np.testing.assert_allclose(merged.weights.sum(-1), 1, atol=1e-4)


def test_bad_groups_are_named():
    rng = np.random.default_rng(5)
    w, mask = random_attention(rng, 1, 1, 4, 4)
    att = aw.Attention(w, ["a", "b", "c", "d"], mask)
    with pytest.raises(AttentionError, match="leave out token positions \\[3\\]"):
        att.merge([[0, 1], [2]])
    with pytest.raises(AttentionError, match="repeats"):
        att.merge([[0, 1], [1, 2, 3]])
    with pytest.raises(AttentionError, match="out of range"):
        att.merge([[0, 1, 2, 3, 4]])
    with pytest.raises(AttentionError, match="empty"):
        att.merge([[0, 1, 2, 3], []])
    with pytest.raises(AttentionError, match="2 labels for 1 groups"):
        att.merge([[0, 1, 2, 3]], labels=["x", "y"])
    with pytest.raises(TypeError, match="list of lists"):
        att.merge("abcd")
    with pytest.raises(AttentionError, match="cannot tell where words begin"):
        att.to_words()  # no offsets, no leading spaces: WordPiece-like text without its marks


def cross_attention(generated=None):
    """Cross-attention over 4 source tokens (keys) from 5 target tokens (query rows), from arrays."""
    rng = np.random.default_rng(5)
    w = rng.random((2, 3, 5, 4)).astype(np.float32)
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(
        w,
        ["<s>", " Hel", "lo", " world"],
        query_tokens=["<pad>", " Bon", "jour", " le", " monde"],
        generated=generated,
    )


def test_cross_attention_words_keep_query_and_key_sides_apart():
    att = cross_attention()
    words = att.to_words()
    # Keys are source words, query rows target words: neither side labelled by the other's tokens.
    assert words.tokens == ["<s>", " Hello", " world"]
    assert words.query_tokens == ["<pad>", " Bonjour", " le", " monde"]
    assert words.shape == (2, 3, 4, 3)
    qgroups, kgroups = [[0], [1, 2], [3], [4]], [[0], [1, 2], [3]]
    want = np.stack([np.stack([att.weights[:, :, a][..., b].sum(-1) for b in kgroups], -1).mean(2) for a in qgroups], 2)
    np.testing.assert_allclose(words.weights, want, atol=1e-6)
    np.testing.assert_allclose(words.weights.sum(-1), 1, atol=1e-5)
    assert words.meta["query_groups"] == qgroups and words.meta["groups"] == kgroups


def test_cross_attention_with_fewer_target_than_source_tokens_labels_rows_by_the_target():
    rng = np.random.default_rng(2)
    w = rng.random((1, 2, 2, 4)).astype(np.float32)
    att = aw.Attention(w / w.sum(-1, keepdims=True), ["<s>", " Hel", "lo", " world"], query_tokens=[" Bon", "jour"])
    words = att.to_words()
    # Before, the rows were the last source words (' Hello', ' world') and the target rows were folded.
    assert words.query_tokens == [" Bonjour"] and words.tokens == ["<s>", " Hello", " world"]
    np.testing.assert_allclose(words.weights[:, :, 0, 1], att.weights[:, :, :, 1:3].sum(-1).mean(-1), atol=1e-6)


def test_cross_attention_merge_groups_keys_only_unless_query_groups_given():
    att = cross_attention(generated=[False, False, True, True, True])
    merged = att.merge([[0, 1], [2, 3]])
    assert merged.tokens == ["<s> Hel", "lo world"]
    assert merged.query_tokens == att.query_tokens and merged.n_query == 5  # target rows untouched
    np.testing.assert_allclose(merged.weights[..., 0], att.weights[..., :2].sum(-1), atol=1e-6)
    both = att.merge([[0, 1], [2, 3]], query_groups=[[0, 1], [2, 3, 4]], query_labels=["a", "b"])
    assert both.query_tokens == ["a", "b"] and both.generated.tolist() == [False, True]
    with pytest.raises(AttentionError, match="query_groups\\[1\\] has positions \\[5\\]"):
        att.merge([[0, 1, 2, 3]], query_groups=[[0, 1, 2, 3], [4, 5]])
    with pytest.raises(AttentionError, match="query_groups and query_labels are for cross-attention"):
        aw.Attention(att.weights[:, :, :4], att.tokens).merge([[0, 1], [2, 3]], query_groups=[[0]])


def test_cross_attention_words_of_a_seq2seq_built_from_arrays():
    cross = cross_attention()
    rng = np.random.default_rng(1)
    enc = rng.random((1, 2, 4, 4)).astype(np.float32)
    dec = np.tril(rng.random((1, 2, 5, 5))).astype(np.float32)
    s = aw.Seq2SeqAttention(
        aw.Attention(enc / enc.sum(-1, keepdims=True), cross.tokens),
        aw.Attention(dec / dec.sum(-1, keepdims=True), cross.query_tokens),
        cross,
    )
    assert s.cross.to_words().query_tokens == ["<pad>", " Bonjour", " le", " monde"]


@pytest.mark.parametrize("groups", [[["0", "1"], [2, 3]], [[0.0, 1], [2, 3]], [[True], [0, 2, 3]], ["01", [2, 3]]])
def test_merge_refuses_positions_that_are_not_ints(groups):
    with pytest.raises(aw.AttentionError, match="must be a list of token positions \\(ints\\)"):
        cross_attention().merge(groups)


def test_read_offsets_spells_split_characters_and_skips_unfinished_bytes():
    from attnwidget.attention.words import read_offsets

    toks = ["a", " ###", " 北[1/2]", "北[2/2]", "京", "\\xe4", "\\xba"]
    assert read_offsets(toks, "a ### 北京\ufffd") == [(0, 1), (1, 5), (5, 7), (5, 7), (7, 8), (8, 8), (8, 8)]
    assert read_offsets(["a", "#", " b"], "a ### b") is None  # "##" of the text is in no token


def test_wordpiece_prefix_is_dropped_only_for_wordpiece():
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    from attnwidget.extraction.tokens import continuation_prefix

    wp = Tokenizer(models.WordPiece({"play": 0, "##ing": 1, "[UNK]": 2}, unk_token="[UNK]"))
    wp.decoder = decoders.WordPiece()
    assert continuation_prefix(PreTrainedTokenizerFast(tokenizer_object=wp, unk_token="[UNK]")) == "##"
    bpe = Tokenizer(models.BPE(vocab={"#": 0, "##": 1, "###": 2}, merges=[("#", "#"), ("##", "#")]))
    bpe.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe)
    assert continuation_prefix(tok) is None
    assert aw.extraction.readable_tokens(tok, [2, 1]) == ["###", "##"]
