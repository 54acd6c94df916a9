"""NeuronView: the query and key vectors it shows give the model's own attention (eager, independent),
grouped-query heads read their kv head's keys, rotary pairs are the ones the model rotates, and
attention without vectors is refused."""

import copy

import numpy as np
import pytest
import torch
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.widgets.neuron import query_key_vectors, rotary_style


def eager_weights(model, tokenizer, text):
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    with torch.no_grad():
        out = ref(**tokenizer(text, return_tensors="pt"), output_attentions=True)
    return torch.stack([a[0] for a in out.attentions]).numpy()


@pytest.mark.parametrize("kind", ["llama", "gpt2", "bert"])
def test_vectors_reproduce_the_models_attention(kind, request, word_tokenizer, bert_tokenizer):
    model = request.getfixturevalue(f"tiny_{kind}")
    tok = bert_tokenizer if kind == "bert" else word_tokenizer
    text = words(13, start=2)
    att = aw.extract(model, tok, text, lazy=True)
    ref = eager_weights(model, tok, text)
    for layer, head in [(0, 0), (1, 2), (2, att.num_heads - 1)]:
        q, k, facts = query_key_vectors(att, layer, head)
        assert facts["exact"]
        s = (q @ k.T) * facts["scaling"]
        s = np.where(att.mask, s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        np.testing.assert_allclose(p, ref[layer, head], atol=1e-5)


def test_grouped_heads_share_keys_and_the_state_holds_them(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(9), lazy=True)
    k0 = [query_key_vectors(att, 1, h)[1] for h in range(4)]  # heads 0-3 read kv head 0
    for k in k0[1:]:
        np.testing.assert_array_equal(k, k0[0])
    assert not np.array_equal(query_key_vectors(att, 1, 4)[1], k0[0])
    view = aw.widgets.NeuronView(att, layer=1, head=5)
    assert view.held_heads[0] == "1/5"
    state = view.get_state()
    assert state["_view_kind"] == "neuron" and state["layer_shown"] == 1 and state["head_shown"] == 5
    p = state["_heads"]
    q = np.frombuffer(p["q"]["data"], np.float32).reshape(p["q"]["shape"])
    np.testing.assert_array_equal(q[0], query_key_vectors(att, 1, 5)[0])
    assert p["facts"][0]["kv_head"] == 1


def test_follows_the_selection_within_its_budget(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(9), lazy=True)
    q, k, _ = query_key_vectors(att, 0, 0)
    one = (q.size + k.size) * 4 + 9 * 9 * 2
    view = aw.widgets.NeuronView(att, max_bytes=2 * one)
    assert len(view.held_heads) == 2
    heat = aw.AttentionHeatmap(att, selection=view.selection)
    heat.layer, heat.head = 2, 7
    assert (view.layer_shown, view.head_shown) == (2, 7) and "2/7" in view.held_heads
    assert len(view.held_heads) == 2
    heat.head = None  # fused heads: the view keeps its head
    assert view.head_shown == 7


def test_selected_heads_and_refusals(tiny_llama, word_tokenizer):
    lazy = aw.extract(tiny_llama, word_tokenizer, words(9), lazy=True)
    part = lazy.select(layers=[2], heads=[6])
    np.testing.assert_array_equal(query_key_vectors(part, 2, 6)[0], query_key_vectors(lazy, 2, 6)[0])
    with pytest.raises(ValueError, match="lazy=True"):
        aw.widgets.NeuronView(aw.extract(tiny_llama, word_tokenizer, words(9)))
    with pytest.raises(IndexError):
        query_key_vectors(lazy, 7, 0)


def test_rotary_pairs_are_the_ones_the_model_rotates(tiny_llama, tiny_gpt2, word_tokenizer):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    att = aw.extract(tiny_llama, word_tokenizer, words(9), lazy=True)
    assert rotary_style(att) == "half" and aw.widgets.NeuronView(att).get_state()["_rotary"] == "half"
    gpt2 = aw.extract(tiny_gpt2, word_tokenizer, words(9), lazy=True)
    assert rotary_style(gpt2) is None and aw.widgets.NeuronView(gpt2).get_state()["_rotary"] == ""
    # "half" claims dimension i turns with i + d/2: a vector with only dimensions i and i + d/2 set
    # stays in that pair under the model's own rotary embedding, with its length kept.
    d = tiny_llama.config.hidden_size // tiny_llama.config.num_attention_heads
    rope = tiny_llama.model.rotary_emb
    x = torch.zeros(1, 1, 5, d)
    cos, sin = rope(x, torch.arange(5)[None])
    for i in (0, 3, d // 2 - 1):
        v = torch.zeros(1, 1, 5, d)
        v[..., i], v[..., i + d // 2] = 1.0, 0.5
        out, _ = apply_rotary_pos_emb(v, v, cos, sin)
        moved = (out[0, 0].abs() > 1e-6).any(0).nonzero().flatten().tolist()
        assert set(moved) <= {i, i + d // 2} and len(moved) == 2, (i, moved)
        np.testing.assert_allclose(out[0, 0].norm(dim=-1), v[0, 0].norm(dim=-1), rtol=1e-5)
