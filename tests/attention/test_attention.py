"""The Attention type: validation, slicing, fusion, persistence."""

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.attention.core import AttentionError, causal_mask


def softmax_rows(logits, mask):
    x = np.where(mask, logits, -np.inf)
    x = np.exp(x - x.max(-1, keepdims=True))
    return (x / x.sum(-1, keepdims=True)).astype(np.float32)


def random_attention(L=2, H=4, n=5, causal=True, seed=0):
    rng = np.random.default_rng(seed)
    mask = causal_mask(n, n) if causal else np.ones((n, n), bool)
    return softmax_rows(rng.normal(size=(L, H, n, n)), mask), [f"t{i}" for i in range(n)], mask


def test_shapes_and_facts():
    w, toks, mask = random_attention()
    att = aw.Attention(w, toks, num_kv_heads=2)
    assert att.shape == (2, 4, 5, 5)
    assert (att.num_layers, att.num_heads, att.num_kv_heads) == (2, 4, 2)
    assert att.is_causal
    np.testing.assert_array_equal(att.mask, mask)  # inferred from the zero upper triangle
    np.testing.assert_array_equal(att.layer(1), w[1])
    np.testing.assert_array_equal(att.head(1, 3), w[1, 3])
    assert att.weights.dtype == np.float32


def test_bidirectional_mask_inferred():
    w, toks, _ = random_attention(causal=False)
    att = aw.Attention(w, toks)
    assert not att.is_causal and att.mask.all()


def test_kv_groups_follow_grouped_query_layout():
    w, toks, _ = random_attention(H=6)
    att = aw.Attention(w, toks, num_kv_heads=2)
    assert [att.kv_head_of(h) for h in range(6)] == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(att.kv_group(0, 1), w[0, 3:6])
    with pytest.raises(IndexError, match="kv head 2"):
        att.kv_group(0, 2)


def test_selected_layers_are_indexed_by_model_numbers():
    w, toks, _ = random_attention(L=2)
    att = aw.Attention(w, toks, layer_ids=[3, 7], head_ids=[0, 2, 4, 6], total_heads=8, num_kv_heads=4)
    np.testing.assert_array_equal(att.layer(7), w[1])
    np.testing.assert_array_equal(att.head(3, 4), w[0, 2])
    with pytest.raises(IndexError, match="layer 5 is not in this attention"):
        att.layer(5)
    with pytest.raises(IndexError, match="head 1 is not"):
        att.head(3, 1)
    sub = att.select(layers=[7], heads=[6])
    assert sub.shape == (1, 1, 5, 5) and sub.layer_ids == [7] and sub.head_ids == [6]
    np.testing.assert_array_equal(sub.head(7, 6), w[1, 3])


def test_head_fusion():
    w, toks, mask = random_attention()
    att = aw.Attention(w, toks)
    np.testing.assert_allclose(att.fuse("mean"), w.mean(1), rtol=1e-6)
    mx = att.fuse("max", layer=0)
    expected = w[0].max(0) / w[0].max(0).sum(-1, keepdims=True)
    np.testing.assert_allclose(mx, expected, rtol=1e-6)
    np.testing.assert_allclose(mx.sum(-1), 1, atol=1e-6)
    with pytest.raises(ValueError, match="fusion must be one of"):
        att.fuse("median")


def test_hide_tokens_renormalises_rows():
    w, toks, mask = random_attention(causal=False)
    att = aw.Attention(w, toks)
    hidden_att = att.hide_tokens([0])
    assert isinstance(hidden_att, aw.Attention) and not hidden_att.mask[:, 0].any()
    hidden = hidden_att.weights
    assert np.all(hidden[..., 0] == 0)
    np.testing.assert_allclose(hidden.sum(-1), 1, atol=1e-6)
    # Ratios between the remaining keys are unchanged.
    np.testing.assert_allclose(hidden[0, 0, 2, 1] / hidden[0, 0, 2, 2], w[0, 0, 2, 1] / w[0, 0, 2, 2], rtol=1e-5)


def test_from_hf_tuple():
    w, toks, _ = random_attention()
    hf = tuple(w[li][None] for li in range(w.shape[0]))  # (1, heads, Q, K) per layer
    att = aw.Attention(hf, toks)
    np.testing.assert_array_equal(att.weights, w)
    att2 = aw.Attention.from_hf(hf, toks)
    np.testing.assert_array_equal(att2.weights, w)


def test_save_load_round_trip(tmp_path):
    w, _, _ = random_attention(H=4)
    toks = ["<s>", " caf\u00e9", "\n", "<img src=x>", "日本"]
    att = aw.Attention(
        w,
        toks,
        layer_ids=[2, 5],
        num_kv_heads=2,
        token_ids=[1, 2, 3, 4, 5],
        offsets=[(0, 0), (0, 5), (5, 6), (6, 17), (17, 19)],
        special=[True] + [False] * 4,
        text="x",
        meta={"model": "m"},
    )
    path = tmp_path / "a.npz"
    att.save(path)
    back = aw.Attention.load(path)
    np.testing.assert_array_equal(back.weights, att.weights)
    np.testing.assert_array_equal(back.mask, att.mask)
    assert back.tokens == toks
    assert back.layer_ids == [2, 5] and back.num_kv_heads == 2
    assert back.offsets == att.offsets and back.special == att.special and back.meta == {"model": "m"}


@pytest.mark.parametrize(
    "weights, match",
    [
        (np.full((2, 2, 3), 1 / 3, np.float32), r"4 dimensions .* pass weights\[None\]"),
        (np.full((3, 3), 1 / 3, np.float32), r"4 dimensions .* weights\[None, None\]"),
        (np.ones((1, 1, 3, 3), np.int64), "floating point"),
    ],
)
def test_wrong_rank_or_dtype(weights, match):
    with pytest.raises(AttentionError, match=match):
        aw.Attention(weights, ["a", "b", "c"])


def test_nan_is_rejected_with_its_position():
    w, toks, _ = random_attention()
    w[1, 2, 3, 0] = np.nan
    with pytest.raises(AttentionError, match="NaN .*layer index 1, head index 2, query 3"):
        aw.Attention(w, toks)


def test_token_count_must_match():
    w, toks, _ = random_attention()
    with pytest.raises(AttentionError, match="got 4 tokens for attention over 5 keys"):
        aw.Attention(w, toks[:4])


def test_rows_must_sum_to_one():
    w, toks, mask = random_attention(causal=False)
    with pytest.raises(AttentionError, match="rows must sum to 1"):
        aw.Attention(w * 0.5, toks)
    with pytest.raises(AttentionError, match=r"lie in \[0, 1\].*before softmax"):
        aw.Attention(w * 3 - 1, toks)


def test_mass_on_hidden_keys_is_rejected():
    w, toks, _ = random_attention(causal=False)
    with pytest.raises(AttentionError, match="mass on keys the mask hides"):
        aw.Attention(w, toks, mask=causal_mask(5, 5))


def test_mask_shape_checked():
    w, toks, _ = random_attention()
    with pytest.raises(AttentionError, match=r"mask must have shape \(n_query, n_key\) = \(5, 5\)"):
        aw.Attention(w, toks, mask=np.ones((4, 5), bool))


def test_empty_hf_tuple_names_missing_attention():
    with pytest.raises(AttentionError, match="returned no attention"):
        aw.Attention((), ["a"])
    with pytest.raises(AttentionError, match="exposes no attention"):
        aw.Attention((None, None), ["a"])


def test_generated_rows_marker():
    w, toks, _ = random_attention()
    att = aw.Attention(w, toks, generated=[False, False, False, True, True])
    assert att.generated.tolist() == [False, False, False, True, True]
    with pytest.raises(AttentionError, match="one bool per query row"):
        aw.Attention(w, toks, generated=[True])


def test_load_of_a_damaged_archive_closes_its_file(tmp_path, monkeypatch):
    # np.load can give up part-way through an archive; the file it was reading must still be closed.
    import gc
    import sys
    import warnings

    aw.Attention(np.full((1, 1, 2, 2), 0.5, np.float32), ["a", "b"]).save(tmp_path / "ok.npz")
    raw = (tmp_path / "ok.npz").read_bytes()
    unclosed = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unclosed.append(u.exc_value))
    refused = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # an unclosed file then reaches the hook
        for n in range(2, len(raw), 29):
            (tmp_path / "cut.npz").write_bytes(raw[:n])
            with pytest.raises(aw.errors.FileFormatError):
                aw.Attention.load(tmp_path / "cut.npz")
            refused += 1
        # Once, still inside the filter: a handle left in a reference cycle by any of the loads is finalised
        # here (a collection per cut took ~0.3 s each once torch's objects are in the process).
        gc.collect()
    assert refused > 10
    assert [e for e in unclosed if isinstance(e, ResourceWarning)] == []
