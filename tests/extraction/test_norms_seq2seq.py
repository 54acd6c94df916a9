"""Value-weighted norms ||alpha_ij f_h(x_j)|| per part of encoder-decoder models, against a direct
computation: eager weights times the value vectors read by forward hooks, carried through each
head's slice of the output projection."""

import copy

import numpy as np
import pytest
import torch
from helpers.tiny_models import words
from helpers.tiny_multimodal import tiny_whisper, tone
from helpers.tiny_seq2seq import tiny_seq2seq

import attnwidget as aw
from attnwidget.extraction.norms import raw_norms, value_norms_of

FIELDS = {"encoder": "encoder_attentions", "decoder": "decoder_attentions", "cross": "cross_attentions"}


def attention_modules(model, part):
    """The attention modules of one part, in layer order, with their value and output projections' names."""
    if hasattr(model, "model"):  # Whisper, Marian: the encoder-decoder sits in .model
        model = model.model if hasattr(model.model, "encoder") else model
    if hasattr(model.encoder, "block"):  # T5
        stack = model.encoder.block if part == "encoder" else model.decoder.block
        mods = [b.layer[1].EncDecAttention if part == "cross" else b.layer[0].SelfAttention for b in stack]
        return mods, "v", "o"
    stack = model.encoder.layers if part == "encoder" else model.decoder.layers
    mods = [layer.encoder_attn if part == "cross" else layer.self_attn for layer in stack]
    return mods, "v_proj", "out_proj"


def direct_norm_maps(model, **inputs):
    """part -> (layers, heads, Q, K) rows of alpha_ij ||f_h(x_j)|| divided by their sum, and the
    value norms (layers, heads, K), from an eager copy with hooks on the value projections."""
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    values, handles = {}, []
    for part in FIELDS:
        mods, v_name, _ = attention_modules(ref, part)
        for i, m in enumerate(mods):
            hook = lambda mod, args, out, key=(part, i): values.__setitem__(key, out.detach())  # noqa: E731
            handles.append(getattr(m, v_name).register_forward_hook(hook))
    with torch.no_grad():
        out = ref(**inputs, output_attentions=True, use_cache=False)
    for h in handles:
        h.remove()
    maps, norms = {}, {}
    for part, field in FIELDS.items():
        mods, _, o_name = attention_modules(ref, part)
        per_layer, per_norm = [], []
        for i, m in enumerate(mods):
            alpha = getattr(out, field)[i][0].double()  # (H, Q, K)
            heads = alpha.shape[0]
            v = values[(part, i)][0].double()  # (K, H*d): x W_V + b_V
            d = v.shape[-1] // heads
            w_o = getattr(m, o_name).weight.detach().double().t()  # (H*d, hidden)
            fx = torch.stack([v[:, h * d : (h + 1) * d] @ w_o[h * d : (h + 1) * d] for h in range(heads)])
            vn = fx.norm(dim=-1)  # (H, K)
            raw = alpha * vn[:, None, :]
            per_layer.append((raw / raw.sum(-1, keepdim=True)).numpy())
            per_norm.append(vn.numpy())
        maps[part], norms[part] = np.stack(per_layer), np.stack(per_norm)
    return maps, norms, out


@pytest.mark.parametrize("kind", ["bart", "t5"])
@pytest.mark.parametrize("lazy", [False, True])
def test_seq2seq_norms_equal_a_direct_computation(kind, lazy, word_tokenizer):
    model = tiny_seq2seq(kind)
    source, target = words(8), words(5, start=3)
    s = aw.extract(model, word_tokenizer, source, target=target, measure="norms", lazy=lazy)
    weights = aw.extract(model, word_tokenizer, source, target=target)
    maps, norms, out = direct_norm_maps(
        model, **word_tokenizer(source, return_tensors="pt"), decoder_input_ids=torch.tensor([s.decoder.token_ids])
    )
    assert s.meta["measure"] == "norm"
    for part in FIELDS:
        att = s[part]
        assert att.meta["measure"] == "norm" and att.is_lazy == lazy and att.tokens == weights[part].tokens
        np.testing.assert_allclose(att.weights, maps[part], atol=1e-5, rtol=0, err_msg=f"{kind} {part}")
        np.testing.assert_allclose(value_norms_of(att), norms[part], rtol=1e-4, err_msg=f"{kind} {part}")
        # Unnormalised: alpha_ij ||f_h(x_j)|| with the model's own alpha.
        alpha = getattr(out, FIELDS[part])[1][0, 1].numpy()
        np.testing.assert_allclose(raw_norms(att, 1, 1), alpha * norms[part][1, 1][None], rtol=1e-4, atol=1e-6)
    # The norms are not the weights: value vectors differ in size across keys.
    assert np.abs(s.cross.weights - weights.cross.weights).max() > 1e-3


def test_norms_of_selected_layers_and_a_padded_encoder_batch(word_tokenizer):
    model = tiny_seq2seq("bart")
    s = aw.extract(model, word_tokenizer, words(6), target=words(4), measure="norms", layers=[1], heads=[0])
    full = aw.extract(model, word_tokenizer, words(6), target=words(4), measure="norms")
    for part in FIELDS:
        assert s[part].layer_ids == [1] and s[part].head_ids == [0]
        np.testing.assert_allclose(s[part].weights, full[part].weights[1:2, :1], atol=1e-6)
    t5 = tiny_seq2seq("t5")
    batch = aw.extract(t5, word_tokenizer, [words(3), words(7)], measure="norms")
    for text, att in zip([words(3), words(7)], batch, strict=True):
        alone = aw.extract(t5, word_tokenizer, text, measure="norms")
        assert att.shape == alone.shape == (2, 4, len(text.split()), len(text.split()))
        np.testing.assert_allclose(att.weights, alone.weights, atol=1e-5)
        np.testing.assert_allclose(value_norms_of(att), value_norms_of(alone), rtol=1e-4)


def test_whisper_norms_per_part():
    model, processor = tiny_whisper()
    audio = tone(0.4)
    s = aw.extract(model, processor, audio=audio, sampling_rate=16000, target_ids=[94, 3, 9], measure="norms")
    features = processor.feature_extractor(audio, sampling_rate=16000, return_tensors="pt")["input_features"]
    maps, _, _ = direct_norm_maps(model, input_features=features, decoder_input_ids=torch.tensor([[94, 3, 9]]))
    for part in FIELDS:
        np.testing.assert_allclose(s[part].weights, maps[part], atol=1e-5, rtol=0, err_msg=part)
