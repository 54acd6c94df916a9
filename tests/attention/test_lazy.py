"""Lazy attention: captured q/k, maps computed on demand, equal to materialised attention."""

import numpy as np
import pytest
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.attention.core import max_pool


@pytest.fixture(scope="module")
def pair(tiny_llama, word_tokenizer):
    text = words(50)
    return aw.extract(tiny_llama, word_tokenizer, text), aw.extract(tiny_llama, word_tokenizer, text, lazy=True)


def test_lazy_equals_materialised(pair):
    full, lazy = pair
    assert lazy.is_lazy and not full.is_lazy
    assert lazy.shape == full.shape
    np.testing.assert_array_equal(lazy.mask, full.mask)
    np.testing.assert_allclose(lazy.head(2, 5), full.head(2, 5), atol=1e-6)
    np.testing.assert_allclose(lazy.layer(1), full.layer(1), atol=1e-6)
    np.testing.assert_allclose(lazy.rows(0, 10, 17, heads=[3]), full.weights[0, [3], 10:17], atol=1e-6)
    np.testing.assert_allclose(lazy.weights, full.weights, atol=1e-6)


def test_lazy_blocks_and_pooled_overview(pair):
    full, lazy = pair
    blocks = list(lazy.iter_row_blocks(block=16))
    assert [b[:2] for b in blocks] == [(0, 16), (16, 32), (32, 48), (48, 50)]
    np.testing.assert_allclose(np.concatenate([b[2] for b in blocks], axis=2), full.weights, atol=1e-6)
    np.testing.assert_allclose(lazy.pooled(1, 4), max_pool(full.layer(1), 4), atol=1e-6)
    assert lazy.pooled(1, 4).shape == (8, 13, 13)


def test_lazy_metrics_and_rollout_match(pair):
    full, lazy = pair
    for name in ("entropy", "sparsity", "locality", "confidence"):
        fn = getattr(aw.metrics, name)
        np.testing.assert_allclose(fn(lazy), fn(full), atol=1e-5, err_msg=name)
    np.testing.assert_allclose(aw.metrics.rollout(lazy), aw.metrics.rollout(full), atol=1e-5)


def test_lazy_selection_and_save(pair, tmp_path):
    full, lazy = pair
    sub = lazy.select(layers=[2], heads=[1, 6])
    assert sub.is_lazy and sub.shape == (1, 2, 50, 50)
    np.testing.assert_allclose(sub.head(2, 6), full.head(2, 6), atol=1e-6)
    lazy.save(tmp_path / "lazy.npz")
    np.testing.assert_allclose(aw.Attention.load(tmp_path / "lazy.npz").weights, full.weights, atol=1e-6)


def test_impossible_materialisation_says_how_big(tiny_llama, word_tokenizer, monkeypatch):
    lazy = aw.extract(tiny_llama, word_tokenizer, words(50), lazy=True)
    with pytest.raises(MemoryError, match=r"needs .* GiB \(3 layers x 8 heads x 50 x 50 float32\).*att.head\(l, h\)"):
        lazy.materialize(max_bytes=1000)
    # .weights asks for the same within the memory actually available.
    import attnwidget.attention.core as attention_module

    monkeypatch.setattr(attention_module, "_memory_budget", lambda: 1000)
    with pytest.raises(MemoryError, match="over the 0.0 GiB limit"):
        _ = lazy.weights
    assert lazy.head(0, 0).shape == (50, 50)  # what it suggests still works


def test_bfloat16_model_gets_float32_softmax(word_tokenizer):
    import copy

    import torch
    from helpers.tiny_models import tiny_model as _tiny

    model = _tiny("llama").to(torch.bfloat16)
    att = aw.extract(model, word_tokenizer, words(30))
    assert att.weights.dtype == np.float32
    # Softmax ran in float32: rows sum to 1 far tighter than bfloat16's 8-bit mantissa allows.
    np.testing.assert_allclose(att.weights.sum(-1), 1, atol=1e-5)
    ref = copy.deepcopy(model).float()
    np.testing.assert_allclose(att.weights, aw.extract(ref, word_tokenizer, words(30)).weights, atol=3e-2)
