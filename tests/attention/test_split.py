"""What the split of attention/ settled: the float16 coarse-row rule, the one rule for token
positions, the errors the type raises, and that the type imports nothing above it."""

import ast
import pathlib

import numpy as np
import pytest

import attnwidget as aw
from attnwidget import _validate as V
from attnwidget.attention.arrays import FLOAT16_NORMAL, coarse_float16_rows
from attnwidget.attention.core import causal_mask


def test_coarse_float16_rows_against_a_sum_by_hand():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(6), size=(2, 3, 6)).astype(np.float16)
    w[0, 1, 4] = [1 - 1e-5, 5e-6, 5e-6, 0, 0, 0]  # keeps 1e-5 of its weight once key 0 is hidden
    keep = np.ones((6, 6), bool)
    keep[:, 0] = False
    keep[5] = False  # a row that sees nothing is empty, not coarse
    got = coarse_float16_rows(w, keep)
    expected = np.zeros((2, 3, 6), bool)
    for idx in np.ndindex(2, 3, 6):
        row = idx[-1]
        left = sum(float(w[idx][k]) for k in range(6) if keep[row, k])
        expected[idx] = keep[row].any() and left < FLOAT16_NORMAL
    np.testing.assert_array_equal(got, expected)
    assert got[0, 1, 4] and got.sum() == 1


def test_token_positions_count_from_the_end_everywhere():
    w = np.full((1, 1, 4, 4), 0.25, np.float32)
    att = aw.Attention(w, list("abcd"), np.ones((4, 4), bool))
    np.testing.assert_array_equal(att.hide_tokens([-1]).weights, att.hide_tokens([3]).weights)
    assert V.positions("hide", [-1, 3, 0], 4) == [0, 3]
    assert V.positions("hide", {2, -4}, 4) == [0, 2]
    with pytest.raises(aw.errors.AttentionIndexError, match=r"hide: token position -5 is out of range for 4"):
        att.hide_tokens([-5])
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"hide must hold integer token positions"):
        att.hide_tokens(["0"])


def test_seq2seq_and_words_refuse_with_the_library_errors():
    w = np.full((1, 1, 2, 2), 0.5, np.float32)
    enc = aw.Attention(w, ["a", "b"], np.ones((2, 2), bool))
    dec = aw.Attention(np.tril(np.ones((2, 2)))[None, None] / [[1], [2]], ["<s>", "x"], causal_mask(2, 2))
    cross = aw.Attention(w, ["a", "b"], query_tokens=["<s>", "x"])
    s2s = aw.Seq2SeqAttention(enc, dec, cross)
    with pytest.raises(aw.errors.AttentionKeyError, match="part must be one of") as err:
        s2s["nope"]
    assert isinstance(err.value, KeyError)
    with pytest.raises(aw.errors.ArgumentTypeError, match="cross must be an Attention"):
        aw.Seq2SeqAttention(enc, dec, "cross")
    with pytest.raises(aw.AttentionError, match="cross-attention keys must be the encoder's tokens"):
        aw.Seq2SeqAttention(dec, dec, cross)
    with pytest.raises(aw.errors.ArgumentTypeError, match="groups must be a list of lists"):
        enc.merge(3)
    with pytest.raises(aw.AttentionError, match="fusion must be one of"):
        aw.attention.arrays.fuse_heads(w[0], "median", np.ones((2, 2), bool))


def test_the_type_imports_nothing_above_it():
    allowed = ("attnwidget.attention", "attnwidget.errors", "attnwidget._validate")
    for path in pathlib.Path(aw.attention.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("attnwidget"):
                names = (
                    [node.module + "." + a.name for a in node.names] if node.module == "attnwidget" else [node.module]
                )
                assert all(n.startswith(allowed) for n in names), (path.name, names)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("attnwidget") and not a.name.startswith(allowed) for a in node.names)
    assert not hasattr(aw.Attention, "from_transformer_lens")  # aw.extraction.from_transformer_lens
