"""Lazy attention: a source read block by block stays lazy; queries-and-keys sources and their files.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from helpers.refusal_data import TOKS, Source, W, att
from helpers.refusal_data import write_npz as _write_npz

import attnwidget as aw
from attnwidget.attention.arrays import causal_mask


def test_saving_lazy_attention_leaves_it_lazy(tmp_path):
    source = Source(W)
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=source)
    lazy.save(tmp_path / "lazy.npz")
    assert lazy.is_lazy and lazy._weights is None and source.calls > 0
    back = aw.Attention.load(tmp_path / "lazy.npz")
    np.testing.assert_array_equal(back.weights, W)


def test_hide_tokens_returns_an_attention_that_stays_lazy():
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=Source(W))
    hidden = lazy.hide_tokens([0])
    assert hidden.is_lazy and not hidden.mask[:, 0].any()
    keep = causal_mask(4, 4)
    keep[:, 0] = False
    expected = np.where(keep, W, 0)
    s = expected.sum(-1, keepdims=True)
    expected = np.divide(expected, s, out=np.zeros_like(expected), where=s > 0)
    np.testing.assert_allclose(hidden.weights, expected, rtol=1e-6)
    np.testing.assert_allclose(hidden.layer(1), expected[1], rtol=1e-6)


# ------------------------------------------------------------------------------ lazy files: queries and keys


def qk_reference(q, k, mask, scaling, group, softcap=None, window=0):
    """softmax(q k^T * scaling) over visible keys, one head and row at a time in float64."""
    L, H, Q, d = q.shape
    K = k.shape[2]
    out = np.zeros((L, H, Q, K))
    for li in range(L):
        for h in range(H):
            for r in range(Q):
                i = K - Q + r
                vis = [bool(mask[r, j]) and (window == 0 or j > i - window) for j in range(K)]
                s = [
                    float(np.dot(q[li, h, r].astype(float), k[li, h // group, j].astype(float))) * scaling
                    for j in range(K)
                ]
                if softcap:
                    s = [softcap * math.tanh(x / softcap) for x in s]
                m = max((x for x, v in zip(s, vis, strict=True) if v), default=0.0)
                e = [math.exp(x - m) if v else 0.0 for x, v in zip(s, vis, strict=True)]
                tot = sum(e)
                out[li, h, r] = [x / tot if tot else 0.0 for x in e]
    return out


def qk_attention(dtype=np.float32, window=0, softcap=None, n=6, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(2, 4, n, 8)).astype(dtype)
    k = rng.normal(size=(2, 2, n, 8)).astype(dtype)
    mask = causal_mask(n, n)
    src = aw.attention.QKSource(q, k, mask, softcap=None if softcap is None else [softcap] * 2, window=[window, 0])
    att = aw.Attention(None, [f"w{i}" for i in range(n)], mask, num_kv_heads=2, _source=src)
    return att, q, k, mask


@pytest.mark.parametrize("window, softcap", [(0, None), (3, None), (0, 2.0)])
def test_queries_and_keys_source_computes_softmax(window, softcap):
    att, q, k, mask = qk_attention(window=window, softcap=softcap)
    ref = qk_reference(q, k, mask, 8**-0.5, 2, softcap=softcap, window=0)
    if window:
        ref[0] = qk_reference(q[:1], k[:1], mask, 8**-0.5, 2, window=window)[0]
    np.testing.assert_allclose(att.weights, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(att.select(layers=[1], heads=[3]).weights[0, 0], ref[1, 3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_lazy_save_keeps_queries_and_keys_and_loads_lazy(tmp_path, dtype):
    att, q, k, _ = qk_attention(dtype=dtype, window=3)
    att.meta["model"] = "m"
    att.save(tmp_path / "qk.attn", lazy=True)
    with np.load(tmp_path / "qk.attn", allow_pickle=False) as f:
        assert "weights" not in f.files and json.loads(str(f["format"]))["kind"] == "qk"
        assert f["queries"].dtype == dtype  # the queries' own precision, not float32 weights
    back = aw.Attention.load(tmp_path / "qk.attn")
    assert back.is_lazy and back.meta == {"model": "m"} and back.num_kv_heads == 2
    assert back._source.queries.dtype == dtype
    np.testing.assert_array_equal(back.weights, att.weights)
    back.save(tmp_path / "again.attn", lazy=True)  # a loaded lazy file saves lazily again
    assert aw.Attention.load(tmp_path / "again.attn").is_lazy


def test_lazy_save_needs_a_source_that_exports_queries_and_keys(tmp_path):
    with pytest.raises(aw.AttentionError, match=r"save\(lazy=True\) needs lazy attention .*holds its weights"):
        att().save(tmp_path / "x.npz", lazy=True)
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=Source(W))
    with pytest.raises(aw.AttentionError, match=r"its source, Source, does not"):
        lazy.save(tmp_path / "x.npz", lazy=True)
    assert not (tmp_path / "x.npz").exists()


def test_damaged_queries_and_keys_files_are_format_errors(tmp_path):
    att_, q, k, mask = qk_attention()
    att_.save(tmp_path / "qk.npz", lazy=True)
    with np.load(tmp_path / "qk.npz") as f:
        members = {name: f[name] for name in f.files}
    bad = dict(members, queries=np.full_like(members["queries"], np.nan))
    _write_npz(tmp_path / "nan.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"invalid queries and keys: queries contains NaN"):
        aw.Attention.load(tmp_path / "nan.npz")
    bad = {name: v for name, v in members.items() if name != "keys"}
    _write_npz(tmp_path / "nokeys.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"missing \['keys'\]"):
        aw.Attention.load(tmp_path / "nokeys.npz")
    bad = dict(members, weights=np.zeros((1, 1, 1, 1), np.float32))
    _write_npz(tmp_path / "both.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"unknown \['weights'\]"):
        aw.Attention.load(tmp_path / "both.npz")
    bad = dict(members, kv_index=np.array([0, 1, 2, 9]))
    _write_npz(tmp_path / "kv.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"kv_index must hold one kv head in \[0, 2\)"):
        aw.Attention.load(tmp_path / "kv.npz")
