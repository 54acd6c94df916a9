"""Weights held at float16: the same weights as float32 rounded once, read back as float32 by every
accessor and metric, kept through slicing, saving and loading."""

import importlib

import numpy as np
import pytest
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.errors import ArgumentTypeError

extract_module = importlib.import_module("attnwidget.extraction.api")  # the module, not aw.extract

# float16 rounds to nearest: at most half a unit in the last place, 2^-11 of a normal weight and
# 2^-25 absolute below 2^-14, where float16 is subnormal.
REL, ABS = 2.0**-11, 2.0**-25


def assert_rounded_once(w16: np.ndarray, w32: np.ndarray) -> None:
    assert w16.dtype == np.float16 and w32.dtype == np.float32
    # The float32 weights, rounded: the float16 path computes the same numbers before storing them.
    np.testing.assert_array_equal(w16, w32.astype(np.float16))
    err = np.abs(w16.astype(np.float32) - w32)
    assert np.all(err <= np.maximum(REL * w32, ABS) * (1 + 1e-6))


@pytest.mark.parametrize("model_name", ["tiny_llama", "tiny_gpt2", "tiny_bert"])
def test_extract_float16_is_float32_rounded(model_name, request):
    model = request.getfixturevalue(model_name)
    tok = request.getfixturevalue("bert_tokenizer" if model_name == "tiny_bert" else "word_tokenizer")
    full = aw.extract(model, tok, words(40))
    half = aw.extract(model, tok, words(40), dtype="float16")
    assert half.dtype == np.float16 and full.dtype == np.float32
    assert_rounded_once(half.weights, full.weights)
    assert half.nbytes * 2 == full.nbytes
    # Accessors read float32, equal to the stored weights.
    assert half.layer(1).dtype == np.float32 and half.head(1, 2).dtype == np.float32
    np.testing.assert_array_equal(half.head(1, 2), half.weights[1, 2].astype(np.float32))
    np.testing.assert_array_equal(half.rows(0, 3, 9), half.weights[0, :, 3:9].astype(np.float32))
    for start, stop, block in half.iter_row_blocks(block=16):
        assert block.dtype == np.float32
        np.testing.assert_array_equal(block, half.weights[:, :, start:stop].astype(np.float32))
    # Lazy attention asked for float16 materialises at float16.
    lazy = aw.extract(model, tok, words(40), lazy=True, dtype="float16")
    assert lazy.is_lazy and lazy.dtype == np.float16
    np.testing.assert_array_equal(lazy.weights, half.weights)


def test_eager_path_and_selections_keep_float16(tiny_llama, word_tokenizer):
    eager32 = aw.extract(tiny_llama, word_tokenizer, words(20), method="eager")
    eager16 = aw.extract(tiny_llama, word_tokenizer, words(20), method="eager", dtype="float16")
    assert eager16.meta["method"] == "eager"
    assert_rounded_once(eager16.weights, eager32.weights)
    part = aw.extract(tiny_llama, word_tokenizer, words(20), layers=[2], heads=[1, 5], dtype="float16")
    np.testing.assert_array_equal(part.weights, eager16.select(layers=[2], heads=[1, 5]).weights)
    assert eager16.select(layers=[0]).dtype == np.float16
    hidden = eager16.hide_tokens([0])
    assert hidden.dtype == np.float16
    np.testing.assert_allclose(hidden.layer(1), eager32.hide_tokens([0]).layer(1), rtol=2 * REL, atol=2 * ABS)


def test_metrics_read_float16_in_float32(tiny_llama, word_tokenizer):
    full = aw.extract(tiny_llama, word_tokenizer, words(50))
    half = full._replace(dtype="float16")
    assert half.weights.dtype == np.float16
    h32, h16 = aw.metrics.entropy(full), aw.metrics.entropy(half)
    # d(-sum p ln p) = -sum (ln p + 1) dp with |dp| <= p 2^-11 (plus subnormal rounding):
    # |H16 - H32| <= 2^-11 (H + 1) per row, so for the mean as well.
    assert np.all(np.abs(h16 - h32) <= REL * (h32 + 1) + 1e-6)
    assert np.any(h16 != h32)  # the float16 weights were measured, not the float32 ones
    specs = {
        "s": "sink_mass",
        "loc": "locality",
        "conf": "confidence",
        "prev": ("pattern_match", {"pattern": "previous_token"}),
    }
    got, want = aw.metrics.compute(half, specs), aw.metrics.compute(full, specs)
    for key in specs:
        np.testing.assert_allclose(got[key], want[key], rtol=4 * REL, atol=1e-5, err_msg=key)
    # A float16 array is measured the same way as an Attention held at float16.
    np.testing.assert_array_equal(aw.metrics.entropy(half.weights, half.mask), h16)


def test_save_and_load_keep_float16(tiny_llama, word_tokenizer, tmp_path):
    half = aw.extract(tiny_llama, word_tokenizer, words(30), dtype="float16")
    half.save(tmp_path / "half.npz")
    back = aw.Attention.load(tmp_path / "half.npz")
    assert back.dtype == np.float16 and back.weights.dtype == np.float16
    np.testing.assert_array_equal(back.weights, half.weights)
    assert back.tokens == half.tokens and back.layer_ids == half.layer_ids
    # Lazy attention at float16 saves the float16 weights too.
    lazy = aw.extract(tiny_llama, word_tokenizer, words(30), lazy=True, dtype="float16")
    lazy.save(tmp_path / "lazy.npz")
    np.testing.assert_array_equal(aw.Attention.load(tmp_path / "lazy.npz").weights, half.weights)
    full = aw.extract(tiny_llama, word_tokenizer, words(30))
    full.save(tmp_path / "full.npz")
    assert aw.Attention.load(tmp_path / "full.npz").dtype == np.float32


def test_bad_dtypes_are_named(tiny_llama, word_tokenizer):
    with pytest.raises(ArgumentTypeError, match="'bfloat16' is not offered.*pass dtype='float16'"):
        aw.extract(tiny_llama, word_tokenizer, words(5), dtype="bfloat16")
    with pytest.raises(ArgumentTypeError, match=r"dtype must be one of \['float32', 'float16'\]"):
        aw.extract(tiny_llama, word_tokenizer, words(5), dtype="float64")
    with pytest.raises(ArgumentTypeError, match="dtype must be one of"):
        aw.Attention(np.full((1, 1, 2, 2), 0.5), ["a", "b"], np.ones((2, 2), bool), dtype="int8")
    att = aw.Attention(np.full((1, 1, 2, 2), 0.5), ["a", "b"], np.ones((2, 2), bool), dtype=np.float16)
    assert att.dtype == np.float16 and "dtype=float16" in repr(att)


def test_size_guard_counts_float16_bytes(tiny_llama, word_tokenizer, monkeypatch):
    cfg = tiny_llama.config
    n = len(word_tokenizer(words(9))["input_ids"])
    cells = cfg.num_hidden_layers * cfg.num_attention_heads * n * n
    # A budget between the float16 and the float32 size.
    monkeypatch.setattr(extract_module, "_memory_budget", lambda: 3 * cells)
    with pytest.raises(MemoryError, match="as float32"):
        aw.extract(tiny_llama, word_tokenizer, words(9))
    assert aw.extract(tiny_llama, word_tokenizer, words(9), dtype="float16").dtype == np.float16


def test_every_input_kind_honours_float16(word_tokenizer):
    from helpers.tiny_multimodal import tiny_llava, tiny_whisper, tone
    from helpers.tiny_seq2seq import test_image as make_image
    from helpers.tiny_seq2seq import tiny_seq2seq, tiny_vision

    def both(call):
        full, half = call("float32"), call("float16")
        if isinstance(full, aw.Seq2SeqAttention):
            for part in ("encoder", "decoder", "cross"):
                assert_rounded_once(half[part].weights, full[part].weights)
        else:
            assert_rounded_once(half.weights, full.weights)

    t5 = tiny_seq2seq("t5")
    both(lambda d: aw.extract(t5, word_tokenizer, words(6), target=words(4), dtype=d))
    both(lambda d: aw.extract(t5, word_tokenizer, words(6), dtype=d))  # the encoder alone
    whisper, processor = tiny_whisper()
    both(lambda d: aw.extract(whisper, processor, audio=tone(0.2), sampling_rate=16000, target=words(3), dtype=d))
    llava, llava_processor = tiny_llava()
    both(lambda d: aw.extract(llava, llava_processor, "w1 <image> w2", image=make_image(), dtype=d))
    vit, vit_processor = tiny_vision("vit")
    both(lambda d: aw.extract(vit, vit_processor, image=make_image(), dtype=d))


def test_hiding_keys_warns_where_float16_rows_keep_too_little_weight():
    # Row 2 puts all but 1e-7 of its weight on token 0: at float16 the rest is subnormal, so hiding
    # token 0 leaves a row renormalised from a few bits. Rows that keep ordinary weight are not named.
    w = np.array(
        [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1.0 - 2e-7, 1e-7, 1e-7]],
        np.float64,
    )[None, None]
    tokens = ["a", "b", "c"]
    with pytest.warns(UserWarning, match=r"(?s)1 of 3 \(layer, head, row\) rows keep under 6.1e-05.*dtype='float32'"):
        coarse = aw.Attention(w, tokens, dtype="float16").hide_tokens([0])
    assert coarse.weights.dtype == np.float16
    full = aw.Attention(w, tokens).hide_tokens([0])  # float32 keeps the small weights: no warning
    np.testing.assert_allclose(full.weights[0, 0, 2], [0, 0.5, 0.5], rtol=1e-3)
    fine = np.array([[1.0, 0.0], [0.3, 0.7]], np.float64)[None, None]
    aw.Attention(fine, ["a", "b"], dtype="float16").hide_tokens([0])  # warnings are errors in the tests


def test_analysis_leaves_out_float16_rows_too_coarse_to_renormalise():
    # With token 0 apart, row 1 keeps one key (entropy 0) and row 2 keeps 2e-7 split over two keys:
    # float32 measures it (ln 2), float16 cannot and leaves it out, saying so.
    w = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1.0 - 2e-7, 1e-7, 1e-7]], np.float64)[None, None]
    tokens = ["a", "b", "c"]
    full = aw.analyze(aw.Attention(w, tokens), hide=[0]).to_dicts()[0]
    assert full["entropy"] == pytest.approx(np.log(2) / 2, rel=1e-5)
    with pytest.warns(UserWarning, match=r"(?s)1 \(layer, head, row\) rows keep under 6.1e-05.*left out"):
        half = aw.analyze(aw.Attention(w, tokens, dtype="float16"), hide=[0]).to_dicts()[0]
    assert half["entropy"] == pytest.approx(0.0, abs=1e-6)
    assert half["sink_share"] == pytest.approx(full["sink_share"], abs=1e-3)
