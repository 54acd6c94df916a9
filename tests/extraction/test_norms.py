"""Value-weighted norms against an independent computation: eager weights, value projections read
by forward hooks, and the output projection's slices taken from the model's own parameters."""

import copy

import numpy as np
import pytest
import torch
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.extraction.norms import raw_norms, value_norms_of


def reference_norms(model, kind, tokenizer, text):
    """``||alpha_ij f_h(x_j)||`` (raw) per layer, head, query and key, from first principles."""
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    values, hooks = {}, []
    cfg = ref.config
    if kind == "llama":
        blocks = [layer.self_attn for layer in ref.model.layers]
        for i, a in enumerate(blocks):
            hooks.append(a.v_proj.register_forward_hook(lambda m, inp, out, i=i: values.__setitem__(i, out[0])))
        w_o = [a.o_proj.weight.T for a in blocks]  # (H*d, hidden)
        n_heads, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    elif kind == "gpt2":
        blocks = [blk.attn for blk in ref.transformer.h]
        hid = cfg.n_embd
        for i, a in enumerate(blocks):  # c_attn writes [q | k | v]
            hooks.append(
                a.c_attn.register_forward_hook(lambda m, inp, out, i=i: values.__setitem__(i, out[0][:, 2 * hid :]))
            )
        w_o = [a.c_proj.weight for a in blocks]  # Conv1D: already (in, out)
        n_heads = n_kv = cfg.n_head
    else:
        blocks = [layer.attention for layer in ref.encoder.layer]
        for i, a in enumerate(blocks):
            hooks.append(a.self.value.register_forward_hook(lambda m, inp, out, i=i: values.__setitem__(i, out[0])))
        w_o = [a.output.dense.weight.T for a in blocks]
        n_heads = n_kv = cfg.num_attention_heads
    enc = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        alphas = ref(**enc, output_attentions=True).attentions
    for h in hooks:
        h.remove()
    d = w_o[0].shape[0] // n_heads
    out = []
    with torch.no_grad():
        for li, alpha in enumerate(alphas):
            v = values[li]  # (n, n_kv * d)
            per_head = []
            for h in range(n_heads):
                kvh = h // (n_heads // n_kv)
                f = v[:, kvh * d : (kvh + 1) * d] @ w_o[li][h * d : (h + 1) * d]  # (n, hidden)
                weighted = alpha[0, h][:, :, None] * f[None, :, :]  # (q, k, hidden)
                per_head.append(torch.linalg.vector_norm(weighted, dim=-1))
            out.append(torch.stack(per_head))
    return torch.stack(out).numpy()


@pytest.mark.parametrize("kind", ["llama", "gpt2", "bert"])
def test_norm_maps_match_reference(kind, request, word_tokenizer, bert_tokenizer):
    model = request.getfixturevalue(f"tiny_{kind}")
    tok = bert_tokenizer if kind == "bert" else word_tokenizer
    text = words(24, start=3)
    raw = reference_norms(model, kind, tok, text)
    expected = raw / raw.sum(-1, keepdims=True)
    att = aw.extract(model, tok, text, measure="norms")
    assert att.meta["measure"] == "norm"
    np.testing.assert_allclose(att.weights, expected, atol=2e-5)
    weights = aw.extract(model, tok, text)
    assert np.abs(att.weights - weights.weights).max() > 1e-3  # norms are not the weights
    for layer, head in [(0, 0), (2, att.num_heads - 1)]:
        np.testing.assert_allclose(raw_norms(att, layer, head), raw[layer, head], rtol=1e-4, atol=1e-6)


def test_gqa_heads_share_their_kv_heads_values(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(10), measure="norms")
    vn = value_norms_of(att)  # (layers, heads, keys)
    # Heads 0-3 read kv head 0 but each has its own slice of W_O, so value norms differ within a group.
    assert not np.allclose(vn[0, 0], vn[0, 1])


def test_lazy_and_selected_norms_match_full(tiny_llama, word_tokenizer):
    text = words(30, start=5)
    full = aw.extract(tiny_llama, word_tokenizer, text, measure="norms")
    lazy = aw.extract(tiny_llama, word_tokenizer, text, measure="norms", lazy=True)
    assert lazy.is_lazy
    np.testing.assert_allclose(lazy.head(1, 3), full.head(1, 3), atol=1e-6)
    np.testing.assert_allclose(lazy.rows(2, 5, 9), full.rows(2, 5, 9), atol=1e-6)
    part = aw.extract(tiny_llama, word_tokenizer, text, measure="norms", layers=[2], heads=[1, 6])
    np.testing.assert_allclose(part.head(2, 6), full.head(2, 6), atol=1e-6)
    np.testing.assert_allclose(raw_norms(part, 2, 6), raw_norms(full, 2, 6), rtol=1e-4)
    sub = lazy.select(layers=[0], heads=[2])
    np.testing.assert_allclose(sub.head(0, 2), full.head(0, 2), atol=1e-6)


def test_batched_padding_removed(tiny_gpt2, word_tokenizer):
    texts = [words(12), words(5, start=40)]
    batch = aw.extract(tiny_gpt2, word_tokenizer, texts, measure="norms")
    one = aw.extract(tiny_gpt2, word_tokenizer, texts[1], measure="norms")
    assert batch[1].shape == one.shape
    np.testing.assert_allclose(batch[1].weights, one.weights, atol=1e-5)


def test_norm_attention_saves_and_loads(tmp_path, tiny_bert, bert_tokenizer):
    att = aw.extract(tiny_bert, bert_tokenizer, words(8), measure="norms")
    att.save(tmp_path / "n.npz")
    back = aw.Attention.load(tmp_path / "n.npz")
    np.testing.assert_allclose(raw_norms(back, 1, 2), raw_norms(att, 1, 2), rtol=1e-4)


def test_bad_measure_and_weights_only(tiny_gpt2, word_tokenizer):
    with pytest.raises(ValueError, match="measure must be 'weights' or 'norms'; got 'norm'"):
        aw.extract(tiny_gpt2, word_tokenizer, words(4), measure="norm")
    with pytest.raises(aw.AttentionError, match="measure must be"):
        aw.extract(tiny_gpt2, word_tokenizer, words(4), measure="weight")
    att = aw.extract(tiny_gpt2, word_tokenizer, words(4))
    with pytest.raises(ValueError, match="holds weights"):
        raw_norms(att, 0, 0)


def test_value_norms_follow_select(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(7), measure="norms")
    part = att.select(layers=[2, 0], heads=[5])
    np.testing.assert_array_equal(value_norms_of(part), value_norms_of(att)[[2, 0]][:, [5]])
