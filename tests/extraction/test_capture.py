"""The capture path's self-check, layer identity, additive masks and fallbacks that say so."""

import copy

import numpy as np
import pytest
import torch
from helpers.tiny_models import words
from helpers.tiny_seq2seq import tiny_seq2seq

import attnwidget as aw
from attnwidget.extraction import capture


def eager_weights(model, **inputs):
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    with torch.no_grad():
        return torch.stack([a[0] for a in ref(**inputs, output_attentions=True).attentions]).numpy()


@pytest.fixture
def drop_bias(monkeypatch):
    """A deliberately broken capture: T5's relative position bias is not recorded."""
    real = capture.Recorder.__call__

    def broken(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        if self.records:
            self.records[-1]["bias"] = None
        return out

    monkeypatch.setattr(capture.Recorder, "__call__", broken)


def test_self_check_catches_a_dropped_bias(drop_bias, word_tokenizer):
    model = tiny_seq2seq("t5")
    with pytest.raises(
        aw.ModelError,
        match=r"encoder layer 0 \(encoder\.block\.\*\.layer\.0\.SelfAttention\), query "
        r"row \d+: captured weights x values differ .* by [0-9.e-]+",
    ):
        aw.extract(model, word_tokenizer, words(8), method="capture")
    # "auto" falls back to eager, says why, and is exact.
    att = aw.extract(model, word_tokenizer, words(8))
    assert att.meta["method"] == "eager" and "did not reproduce the model's attention output" in att.meta["note"]
    ref = eager_weights(model.get_encoder(), **word_tokenizer(words(8), return_tensors="pt"))
    np.testing.assert_allclose(att.weights, ref, atol=1e-5)
    # Without the check the broken capture would have been returned: the check is what caught it.
    wrong = aw.extract(model, word_tokenizer, words(8), method="capture", check=False)
    assert np.abs(wrong.weights - ref).max() > 1e-3


def test_self_check_catches_a_wrong_scaling(monkeypatch, tiny_llama, word_tokenizer):
    real = capture.Recorder.__call__

    def broken(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        self.records[-1]["scaling"] = 0.5 * (self.records[-1]["scaling"] or 1.0)
        return out

    monkeypatch.setattr(capture.Recorder, "__call__", broken)
    with pytest.raises(aw.ModelError, match="main layer 0"):
        aw.extract(tiny_llama, word_tokenizer, words(12), method="capture")


def test_check_passes_and_costs_no_kept_memory(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(30), lazy=True)
    assert att.meta["method"] == "capture" and "note" not in att.meta
    # Values and sampled outputs are dropped once checked: a lazy attention keeps q, k and masks.
    assert all("v" not in r and "check_out" not in r for r in att._source.layers)


def test_float_mask_with_a_distance_bias_is_exact(tiny_llama):
    """A custom additive 4-D mask (causal, minus 0.3 per token of distance, as ALiBi adds) goes
    through the capture path with its values, not just its visibility."""
    n = 11
    i = torch.arange(n)
    dist = (i[:, None] - i[None, :]).float()
    mask = torch.where(dist >= 0, -0.3 * dist, torch.tensor(torch.finfo(torch.float32).min))[None, None]
    ids = torch.arange(3, 3 + n)[None]
    att = aw.extract(
        tiny_llama, inputs={"input_ids": ids, "attention_mask": mask}, tokens=[f"t{j}" for j in range(n)], lazy=True
    )
    assert att.meta["method"] == "capture"
    ref = eager_weights(tiny_llama, input_ids=ids, attention_mask=mask)
    np.testing.assert_allclose(att.weights, ref, atol=1e-5)
    plain = eager_weights(tiny_llama, input_ids=ids)
    assert np.abs(plain - ref).max() > 1e-2  # the bias matters, so equality above means it was applied


def test_layer_place_and_tower_kind():
    assert capture.layer_place("model.decoder.layers.12.encoder_attn") == ("model.decoder.layers.*.encoder_attn", 12)
    assert capture.layer_place("attn") == ("attn", None)
    kinds = {
        "decoder.block.*.layer.1.EncDecAttention": "cross",
        "decoder.block.*.layer.0.SelfAttention": "decoder",
        "encoder.layers.*.self_attn": "encoder",
        "model.layers.*.self_attn": "main",
        "model.vision_tower.vision_model.encoder.layers.*.self_attn": "vision",
        "bert.encoder.layer.*.crossattention.self": "cross",
    }
    for tower, kind in kinds.items():
        assert capture.tower_kind(tower) == kind, tower


def test_shared_layers_are_numbered_by_call(word_tokenizer):
    """ALBERT runs one shared layer module several times: each call is its own layer."""
    from transformers import AlbertConfig, AlbertModel

    torch.manual_seed(0)
    model = AlbertModel(
        AlbertConfig(
            vocab_size=100,
            embedding_size=16,
            hidden_size=32,
            num_hidden_layers=3,
            num_attention_heads=4,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    ).eval()
    att = aw.extract(model, word_tokenizer, words(6))
    assert att.layer_ids == [0, 1, 2] and att.meta["method"] == "capture"
    np.testing.assert_allclose(
        att.weights, eager_weights(model, **word_tokenizer(words(6), return_tensors="pt")), atol=1e-5
    )
    assert aw.extract(model, word_tokenizer, words(6), layers=[2]).layer_ids == [2]


def test_self_check_on_the_attention_source_protocol(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(5), lazy=True)
    assert isinstance(att._source, capture.AttentionSource)


# ---------------------------------------------------------------------------------- fallbacks


def test_models_outside_the_interface_fall_back_with_a_note(word_tokenizer):
    from transformers import MptConfig, MptForCausalLM

    torch.manual_seed(0)
    model = MptForCausalLM(MptConfig(vocab_size=100, d_model=32, n_layers=2, n_heads=4, max_seq_len=64)).eval()
    att = aw.extract(model, word_tokenizer, words(6))
    assert att.meta["method"] == "eager" and "output_attentions under eager attention" in att.meta["note"]
    np.testing.assert_allclose(
        att.weights, eager_weights(model, **word_tokenizer(words(6), return_tensors="pt")), atol=1e-5
    )
    with pytest.warns(UserWarning, match="lazy=True is not available for MptForCausalLM"):
        lazy = aw.extract(model, word_tokenizer, words(6), lazy=True)
    assert not lazy.is_lazy and "lazy=True was ignored" in lazy.meta["note"]
    with pytest.raises(aw.ModelError, match="use method='eager'"):
        aw.extract(model, word_tokenizer, words(6), method="capture")


def test_hooks_on_an_sdpa_model_name_the_fix(tiny_bert):
    mods = [layer.attention.self for layer in tiny_bert.encoder.layer]
    with pytest.raises(aw.ModelError, match="attn_implementation='eager'"):
        aw.extraction.extract_hooks(
            tiny_bert, lambda: tiny_bert(input_ids=torch.tensor([[1, 2, 3]])), ["a", "b", "c"], modules=mods
        )


def test_full_extraction_too_big_says_how_big_and_what_works(tiny_llama, word_tokenizer, monkeypatch):
    import sys

    extract_module = sys.modules["attnwidget.extraction.api"]  # the attribute aw.extract is the function
    monkeypatch.setattr(extract_module, "_memory_budget", lambda: 10_000)
    with pytest.raises(MemoryError, match=r"3 layers x 8 heads x 40 x 40 tokens take 0.0 GiB .* pass lazy=True"):
        aw.extract(tiny_llama, word_tokenizer, words(40))
    lazy = aw.extract(tiny_llama, word_tokenizer, words(40), lazy=True)
    assert lazy.head(0, 0).shape == (40, 40)


def test_lazy_capture_saves_as_queries_and_keys(tiny_llama, word_tokenizer, tmp_path):
    word_tokenizer.padding_side = "left"
    try:
        lazy = aw.extract(tiny_llama, word_tokenizer, [words(5), words(9)], lazy=True, heads=[1, 6])[0]
    finally:
        word_tokenizer.padding_side = "right"
    lazy.save(tmp_path / "qk.npz", lazy=True)
    back = aw.Attention.load(tmp_path / "qk.npz")
    assert back.is_lazy and back.head_ids == [1, 6]
    np.testing.assert_allclose(back.weights, lazy.weights, atol=1e-6)
    # T5's position bias cannot be recomputed from queries and keys alone: saying so beats a wrong file.
    t5 = aw.extract(tiny_seq2seq("t5"), word_tokenizer, words(5), lazy=True)
    with pytest.raises(aw.AttentionError, match="position bias or float mask"):
        t5.save(tmp_path / "t5.npz", lazy=True)
