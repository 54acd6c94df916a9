"""TransformerLens caches (a mapping built here with its hook names) turned into Attention."""

import numpy as np
import pytest
import torch
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.attention.core import AttentionError


def softmax_patterns(rng, batch, layers, heads, n, causal=True):
    s = rng.normal(size=(layers, batch, heads, n, n))
    if causal:
        s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


class FakeActivationCache:
    """What the converter relies on from ActivationCache: keys() and item access, not a Mapping."""

    def __init__(self, d):
        self._d = d

    def keys(self):
        return self._d.keys()

    def __getitem__(self, k):
        return self._d[k]


def test_cache_mapping_gives_the_patterns_layer_by_layer():
    rng = np.random.default_rng(0)
    p = softmax_patterns(rng, batch=2, layers=12, heads=3, n=6)
    # Inserted out of order, with other hooks beside them: layer 10 must not sort before layer 2.
    cache = {
        f"blocks.{layer}.attn.hook_pattern": torch.tensor(p[layer], dtype=torch.float32)
        for layer in (10, 2, 0, 1, 11, 3, 4, 5, 6, 7, 8, 9)
    }
    cache["blocks.0.hook_resid_pre"] = torch.zeros(2, 6, 8)
    cache["blocks.0.attn.hook_attn_scores"] = torch.zeros(2, 3, 6, 6)
    tokens = [f"t{i}" for i in range(6)]
    att = aw.extraction.from_transformer_lens(FakeActivationCache(cache), tokens, batch_index=1)
    assert att.shape == (12, 3, 6, 6) and att.layer_ids == list(range(12))
    for layer in (0, 2, 10):
        np.testing.assert_allclose(att.layer(layer), p[layer, 1], atol=1e-6)
    assert att.is_causal and att.meta["method"] == "transformer_lens"
    part = aw.extraction.from_transformer_lens(cache, tokens, layers=[10, 3])
    assert part.layer_ids == [10, 3]
    np.testing.assert_allclose(part.head(10, 2), p[10, 0, 2], atol=1e-6)


def test_batch_axis_removed_and_token_ids(word_tokenizer, tiny_gpt2):
    # Real patterns: a tiny GPT-2 run eagerly, laid out under TransformerLens hook names.
    text = words(9)
    enc = word_tokenizer(text, return_tensors="pt")
    import copy

    ref = copy.deepcopy(tiny_gpt2)  # its own config: the shared fixture stays on SDPA
    ref.set_attn_implementation("eager")
    with torch.no_grad():
        atts = ref(**enc, output_attentions=True).attentions
    cache = {f"blocks.{layer}.attn.hook_pattern": a[0] for layer, a in enumerate(atts)}  # remove_batch_dim
    att = aw.extraction.from_transformer_lens(cache, enc["input_ids"], tokenizer=word_tokenizer)
    assert att.tokens == text.split()
    np.testing.assert_allclose(att.weights, aw.extract(tiny_gpt2, word_tokenizer, text).weights, atol=1e-5)


def test_bad_caches_are_named():
    rng = np.random.default_rng(1)
    p = softmax_patterns(rng, 1, 2, 2, 4)
    good = {f"blocks.{layer}.attn.hook_pattern": p[layer] for layer in range(2)}
    toks = list("abcd")
    with pytest.raises(AttentionError, match="no attention patterns"):
        aw.extraction.from_transformer_lens({"blocks.0.hook_resid_pre": p[0]}, toks)
    with pytest.raises(AttentionError, match="no pattern for layers \\[5\\]"):
        aw.extraction.from_transformer_lens(good, toks, layers=[0, 5])
    with pytest.raises(AttentionError, match="4 tokens|got 3 tokens"):
        aw.extraction.from_transformer_lens(good, toks[:3])
    with pytest.raises(AttentionError, match="tokenizer="):
        aw.extraction.from_transformer_lens(good, [1, 2, 3, 4])
    with pytest.raises(AttentionError, match="different shapes"):
        aw.extraction.from_transformer_lens({**good, "blocks.1.attn.hook_pattern": p[1, :, :1]}, toks)
    with pytest.raises(AttentionError, match="expected \\(batch, heads"):
        aw.extraction.from_transformer_lens({"blocks.0.attn.hook_pattern": p[0, 0, 0]}, toks)
    with pytest.raises(IndexError, match="batch_index 3"):
        aw.extraction.from_transformer_lens(good, toks, batch_index=3)
    with pytest.raises(TypeError, match="ActivationCache"):
        aw.extraction.from_transformer_lens([p], toks)
    with pytest.raises(AttentionError, match="scores before softmax"):  # logits, not patterns
        aw.extraction.from_transformer_lens({"blocks.0.attn.hook_pattern": p[0] * 5}, toks)


def test_nnsight_recipe_from_the_readme(tiny_llama, word_tokenizer):
    nnsight = pytest.importorskip("nnsight")
    import copy

    hf_model = copy.deepcopy(tiny_llama)
    hf_model.set_attn_implementation("eager")
    text = words(11)
    enc = word_tokenizer(text, return_tensors="pt")
    model = nnsight.NNsight(hf_model)
    with model.trace(**enc):
        patterns = nnsight.save([])
        for layer in model.model.layers:
            patterns.append(layer.self_attn.output[1])
    att = aw.Attention.from_hf(patterns, aw.extraction.readable_tokens(word_tokenizer, enc["input_ids"][0].tolist()))
    np.testing.assert_allclose(att.weights, aw.extract(tiny_llama, word_tokenizer, text).weights, atol=1e-5)


def test_a_bfloat16_cache_is_accepted_within_its_rounding():
    # A half-precision run caches bf16 patterns whose rows sum to 1 only within 2^-8: a float32
    # tolerance refused them. They are converted to float32 and renormalised.
    rng = np.random.default_rng(3)
    p = softmax_patterns(rng, batch=1, layers=2, heads=2, n=7)
    # A bf16 softmax's rows as reported: summing to about 1.0022 once rounded.
    cache = {f"blocks.{i}.attn.hook_pattern": torch.tensor(p[i] * 1.0022, dtype=torch.bfloat16) for i in range(2)}
    sums = torch.stack(list(cache.values())).float().sum(-1)
    assert (sums - 1).abs().max() > 2e-3  # past the float32 tolerance: the case that was refused
    att = aw.extraction.from_transformer_lens(cache, [f"t{i}" for i in range(7)])
    assert att.weights.dtype == np.float32 and att.is_causal
    np.testing.assert_allclose(att.weights.sum(-1), 1, atol=1e-6)
    np.testing.assert_allclose(att.weights, p[:, 0], atol=2**-7)
    half = {f"blocks.{i}.attn.hook_pattern": torch.tensor(p[i], dtype=torch.float16) for i in range(2)}
    np.testing.assert_allclose(
        aw.extraction.from_transformer_lens(half, [f"t{i}" for i in range(7)]).weights.sum(-1), 1, atol=1e-6
    )


def test_a_bfloat16_cache_far_from_rows_of_one_is_refused():
    p = np.full((1, 2, 3, 3), 0.4)  # rows sum to 1.2: no rounding explains that
    cache = {"blocks.0.attn.hook_pattern": torch.tensor(p, dtype=torch.bfloat16)}
    with pytest.raises(
        AttentionError, match=r"blocks.0.attn.hook_pattern holds bfloat16 rows that do not sum to 1: a row sums to 1.2"
    ):
        aw.extraction.from_transformer_lens(cache, ["a", "b", "c"])
