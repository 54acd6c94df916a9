"""Entropy and sink mass of lazy captured attention, reduced in torch (a fused attention kernel on
plain layers, blocks of rows otherwise), equal the numpy pass over the same blocks and the
materialised weights."""

import numpy as np
import pytest
from helpers.tiny_models import words

import attnwidget as aw
import attnwidget.metrics.rows as metrics_module
from attnwidget.extraction.capture import CapturedQK

CASES = [
    ("entropy", {}),
    ("entropy", {"normalized": True}),
    ("sink_mass", {}),
    ("sink_mass", {"k": 3}),
]


def numpy_pass(att, name, kwargs, monkeypatch):
    """The same metric through the numpy blocks (the device reduction switched off)."""
    with monkeypatch.context() as m:
        m.setattr(metrics_module, "_stream_row_stats", lambda maps, accs: False)
        return getattr(aw.metrics, name)(att, **kwargs)


def counted(monkeypatch):
    calls = []
    real = CapturedQK.row_stats

    def spy(self, *a, **k):
        calls.append(a)
        return real(self, *a, **k)

    monkeypatch.setattr(CapturedQK, "row_stats", spy)
    return calls


def fused_calls(monkeypatch, enabled=True):
    """Record what the fused path returned (None: not applicable), or switch it off."""
    results = []
    real = CapturedQK._fused_row_stats

    def spy(self, *a, **k):
        out = real(self, *a, **k) if enabled else None
        results.append(out)
        return out

    monkeypatch.setattr(CapturedQK, "_fused_row_stats", spy)
    return results


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("model_name", ["tiny_llama", "tiny_gpt2", "tiny_bert"])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_device_reduction_equals_numpy_and_materialised(model_name, name, kwargs, fused, request, monkeypatch):
    model = request.getfixturevalue(model_name)
    tok = request.getfixturevalue("bert_tokenizer" if model_name == "tiny_bert" else "word_tokenizer")
    lazy = aw.extract(model, tok, words(60), lazy=True)
    full = aw.extract(model, tok, words(60))
    calls = counted(monkeypatch)
    paths = fused_calls(monkeypatch, enabled=fused)
    fast = getattr(aw.metrics, name)(lazy, **kwargs)
    assert calls, "the lazy source's own reduction was not used"
    # One text's self-attention is plain in these models: every layer took the fused kernel.
    assert len(paths) == lazy.num_layers
    assert all(p is not None for p in paths) if fused else not any(paths)
    slow = numpy_pass(lazy, name, kwargs, monkeypatch)
    assert fast.shape == (lazy.num_layers, lazy.num_heads)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fast, getattr(aw.metrics, name)(full, **kwargs), rtol=0, atol=1e-6)


def test_padded_batch_selection_and_compute(tiny_llama, word_tokenizer, monkeypatch):
    texts = [words(40), words(13, start=5)]
    lazies = aw.extract(tiny_llama, word_tokenizer, texts, lazy=True)
    fulls = aw.extract(tiny_llama, word_tokenizer, texts)
    specs = {"h": "entropy", "hn": ("entropy", {"normalized": True}), "s": ("sink_mass", {"k": 2})}
    for lazy, full in zip(lazies, fulls, strict=True):
        for att, ref in ((lazy, full), (lazy.select(layers=[2, 0], heads=[7, 1, 4]), full.select([2, 0], [7, 1, 4]))):
            calls = counted(monkeypatch)
            got = aw.metrics.compute(att, specs)
            assert calls
            want = aw.metrics.compute(ref, specs)
            for key in specs:
                np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-6, err_msg=key)


def test_blocks_longer_than_one_chunk(tiny_llama, word_tokenizer, monkeypatch):
    # More query rows than the capture's row chunk and than one metrics fetch, on the block path.
    fused_calls(monkeypatch, enabled=False)
    monkeypatch.setattr("attnwidget.extraction.capture.ROW_CHUNK", 7)
    monkeypatch.setattr(metrics_module, "LAZY_BLOCK_ELEMENTS", 8 * 100 * 9)
    lazy = aw.extract(tiny_llama, word_tokenizer, words(100), lazy=True)
    full = aw.extract(tiny_llama, word_tokenizer, words(100))
    np.testing.assert_allclose(aw.metrics.entropy(lazy), aw.metrics.entropy(full), rtol=0, atol=1e-6)
    np.testing.assert_allclose(aw.metrics.sink_mass(lazy), aw.metrics.sink_mass(full), rtol=0, atol=1e-6)


def test_other_metrics_and_hidden_tokens_keep_the_numpy_pass(tiny_llama, word_tokenizer, monkeypatch):
    lazy = aw.extract(tiny_llama, word_tokenizer, words(30), lazy=True)
    full = aw.extract(tiny_llama, word_tokenizer, words(30))
    calls = counted(monkeypatch)
    got = aw.metrics.compute(lazy, {"h": "entropy", "c": "confidence"})
    hidden = aw.metrics.entropy(lazy.hide_tokens([0]))
    assert not calls  # a metric the device path does not reduce, and a wrapped source
    np.testing.assert_allclose(got["h"], aw.metrics.entropy(full), rtol=0, atol=1e-6)
    np.testing.assert_allclose(hidden, aw.metrics.entropy(full.hide_tokens([0])), rtol=0, atol=1e-6)


def test_fused_path_gives_way_where_a_layer_is_not_plain(tiny_llama, word_tokenizer, monkeypatch):
    # A padded batch (positions removed) and a sliding window take the block path, and agree.
    texts = [words(30), words(11, start=3)]
    lazies = aw.extract(tiny_llama, word_tokenizer, texts, lazy=True)
    fulls = aw.extract(tiny_llama, word_tokenizer, texts)
    paths = fused_calls(monkeypatch)
    for lazy, full in zip(lazies, fulls, strict=True):
        np.testing.assert_allclose(aw.metrics.entropy(lazy), aw.metrics.entropy(full), rtol=0, atol=1e-6)
    assert paths and not any(p is not None for p in paths[tiny_llama.config.num_hidden_layers :])
    lazy = aw.extract(tiny_llama, word_tokenizer, words(25), lazy=True)
    for rec in lazy._source.layers:
        rec["sliding_window"] = 4
    paths.clear()
    windowed = aw.metrics.entropy(lazy)
    assert paths and not any(p is not None for p in paths)
    np.testing.assert_allclose(windowed, aw.metrics.entropy(lazy.materialize()), rtol=0, atol=1e-6)
