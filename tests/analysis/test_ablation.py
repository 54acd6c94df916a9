"""head_effects against independent computations: TransformerLens's own ``hook_z`` on a tiny GPT-2, a
one-forward-per-head loop with a hook written here on tiny Llama (grouped kv heads) and on the bundled
SmolLM2, finite differences for the attribution estimate; and its refusals of bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers.tiny_models import words

from attnwidget.analysis.ablation import _output_projections, head_effects
from attnwidget.analysis.table import Table
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError, ModelError

PROMPT = words(9, start=3)
TARGET = "w11 w40 w5"


def _logp(logits, ids, n_prompt):
    """Summed log P of ids[n_prompt:] from logits over all positions (batch row 0), in float64."""
    import torch

    logp = torch.log_softmax(logits[0].double(), -1)
    return sum(float(logp[n_prompt - 1 + i, t]) for i, t in enumerate(ids[n_prompt:]))


def _ids(tokenizer, prompt=PROMPT, target=TARGET):
    p = tokenizer(prompt)["input_ids"]
    return p, p + tokenizer(target, add_special_tokens=False)["input_ids"]


def _loop_effects(model, ids, n_prompt, modules, n_heads, ablation, layers, heads):
    """One plain forward per (layer, head), a pre-hook on the output projection's input: no batching."""
    import torch

    inputs = torch.tensor([ids])
    clean_z = {}

    def record(i):
        def hook(module, args):
            clean_z[i] = args[0].detach().clone()

        return hook

    hs = [m.register_forward_pre_hook(record(i)) for i, m in enumerate(modules)]
    with torch.no_grad():
        clean = _logp(model(inputs).logits, ids, n_prompt)
    for h in hs:
        h.remove()
    out = np.zeros((len(layers), len(heads)))
    for a, layer in enumerate(layers):
        z = clean_z[layer][0]
        d = z.shape[-1] // n_heads
        mean = z[:n_prompt].mean(0)
        for b, head in enumerate(heads):

            def ablate(module, args, head=head, mean=mean, d=d):
                x = args[0].clone()
                x[..., head * d : (head + 1) * d] = 0 if ablation == "zero" else mean[head * d : (head + 1) * d]
                return (x,)

            h = modules[layer].register_forward_pre_hook(ablate)
            with torch.no_grad():
                out[a, b] = _logp(model(inputs).logits, ids, n_prompt) - clean
            h.remove()
    return clean, out


# ------------------------------------------------------------------------------------- GPT-2 / TransformerLens


def _bridge(model, tokenizer):
    """A TransformerLens bridge over a copy of `model` (TransformerLens 4 wraps the HF model itself)."""
    import torch

    pytest.importorskip("transformer_lens")
    from transformer_lens import TransformerBridge
    from transformer_lens.factories import architecture_adapter_factory
    from transformer_lens.model_bridge.sources._bridge_builder import build_bridge_config_from_hf
    from transformer_lens.model_bridge.sources._hf_format import determine_architecture_from_hf_config
    from transformer_lens.utilities.attn_implementation import force_eager_attention

    hf = copy.deepcopy(model)
    arch = determine_architecture_from_hf_config(hf.config)
    cfg = build_bridge_config_from_hf(hf.config, arch, "tiny-gpt2", torch.float32)
    adapter = architecture_adapter_factory.ArchitectureAdapterFactory.select_architecture_adapter(cfg)
    adapter.cfg.device = "cpu"
    force_eager_attention(hf)
    adapter.prepare_model(hf)
    return TransformerBridge(hf, adapter, tokenizer)


@pytest.mark.parametrize("ablation", ["zero", "mean"])
def test_gpt2_matches_transformer_lens_hook_z(tiny_gpt2, word_tokenizer, ablation):
    import torch

    bridge = _bridge(tiny_gpt2, word_tokenizer)
    prompt, ids = _ids(word_tokenizer)
    n = len(prompt)
    tokens = torch.tensor([ids])
    with torch.no_grad():
        hf_logits = tiny_gpt2(tokens).logits
        tl_logits, cache = bridge.run_with_cache(tokens, return_type="logits")
    # The bridge must be the same model before its hooks can say anything about ours.
    assert torch.allclose(tl_logits, hf_logits, atol=1e-4, rtol=0)
    clean = _logp(tl_logits, ids, n)
    L, H = bridge.cfg.n_layers, bridge.cfg.n_heads
    expected = np.zeros((L, H))
    for layer in range(L):
        mean = cache[f"blocks.{layer}.attn.hook_z"][0, :n].mean(0)  # (heads, d_head)
        for head in range(H):

            def hook(z, hook, head=head, mean=mean):
                z = z.clone()
                z[:, :, head] = 0 if ablation == "zero" else mean[head]
                return z

            with torch.no_grad():
                logits = bridge.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", hook)])
            expected[layer, head] = _logp(logits, ids, n) - clean

    # batch_size 5 puts heads of two layers in one batch.
    result = head_effects(tiny_gpt2, word_tokenizer, PROMPT, target=TARGET, ablation=ablation, batch_size=5)
    assert result.delta.shape == (L, H)
    assert abs(result.clean - clean) < 1e-4
    assert np.abs(result.delta - expected).max() < 1e-4
    assert np.abs(expected).max() > 1e-3  # the heads do matter, so agreement is not agreement on zeros


# ------------------------------------------------------------------------------------- Llama, grouped kv heads


@pytest.mark.parametrize("ablation", ["zero", "mean"])
def test_llama_grouped_kv_matches_a_loop_per_head(tiny_llama, word_tokenizer, ablation):
    prompt, ids = _ids(word_tokenizer)
    modules = [layer.self_attn.o_proj for layer in tiny_llama.model.layers]
    H = tiny_llama.config.num_attention_heads
    assert tiny_llama.config.num_key_value_heads < H
    layers, heads = [2, 0], [7, 1, 3, 4]  # unsorted subsets: rows must land where they were asked
    clean, expected = _loop_effects(tiny_llama, ids, len(prompt), modules, H, ablation, layers, heads)

    result = head_effects(
        tiny_llama, word_tokenizer, PROMPT, target=TARGET, ablation=ablation, layers=layers, heads=heads, batch_size=3
    )
    assert result.layers == layers and result.heads == heads
    assert abs(result.clean - clean) < 1e-5
    assert np.abs(result.delta - expected).max() < 1e-5
    assert np.abs(expected).max() > 1e-3

    every = head_effects(tiny_llama, word_tokenizer, PROMPT, target=TARGET, ablation=ablation, batch_size=64)
    assert every.delta.shape == (3, H)
    assert np.abs(every.delta[np.ix_(layers, heads)] - expected).max() < 1e-5


def test_target_as_token_ids_is_the_same_target(tiny_llama, word_tokenizer):
    ids = word_tokenizer(TARGET, add_special_tokens=False)["input_ids"]
    a = head_effects(tiny_llama, word_tokenizer, PROMPT, target=TARGET, layers=[1])
    b = head_effects(tiny_llama, word_tokenizer, PROMPT, target=ids, layers=[1])
    assert a.target_ids == b.target_ids == ids
    assert np.array_equal(a.delta, b.delta) and a.clean == b.clean


def test_result_table_and_text(tiny_llama, word_tokenizer):
    r = head_effects(tiny_llama, word_tokenizer, PROMPT, target=TARGET)
    t = r.table
    assert isinstance(t, Table) and len(t) == r.delta.size
    assert list(t.columns) == ["layer", "head", "delta", "p_ratio"]
    assert np.all(np.diff(np.abs(t["delta"])) <= 0)  # largest effect first
    top = t[0]
    assert r.delta[r.layers.index(top["layer"]), r.heads.index(top["head"])] == top["delta"]
    assert np.allclose(t["p_ratio"], np.exp(t["delta"]))
    name = f"L{top['layer']}H{top['head']}"
    assert name in repr(r) and name in r._repr_html_()
    assert r.strongest(2)[0] == (top["layer"], top["head"], top["delta"])


def test_model_is_left_as_it_was(tiny_gpt2, word_tokenizer):
    """Hooks removed, blocks run their own forward again, train/eval mode restored."""
    import torch

    tokens = torch.tensor([_ids(word_tokenizer)[1]])
    with torch.no_grad():
        before = tiny_gpt2(tokens).logits
    tiny_gpt2.train()
    try:
        head_effects(tiny_gpt2, word_tokenizer, PROMPT, target=TARGET, layers=[2], ablation="mean")
        assert tiny_gpt2.training
    finally:
        tiny_gpt2.eval()
    for block in tiny_gpt2.transformer.h:
        assert "forward" not in vars(block)
        assert not block.attn.c_proj._forward_pre_hooks
    with torch.no_grad():
        assert torch.equal(tiny_gpt2(tokens).logits, before)


# ------------------------------------------------------------------------------------- attribution


@pytest.mark.parametrize("ablation", ["zero", "mean"])
def test_attribution_is_the_directional_derivative(tiny_gpt2, word_tokenizer, ablation):
    """grad . (ablated - clean) per head equals a central finite difference along that direction.

    On GPT-2 in float64: Llama's RMSNorm computes in float32 whatever the model's dtype, and its rounding
    would swamp a finite difference.
    """
    import torch

    model = copy.deepcopy(tiny_gpt2).double()
    prompt, ids = _ids(word_tokenizer)
    n = len(prompt)
    tokens = torch.tensor([ids])
    modules = [block.attn.c_proj for block in model.transformer.h]
    H = model.config.n_head
    eps = 1e-5
    expected = np.zeros((3, H))
    for layer in range(3):
        zs = {}
        h = modules[layer].register_forward_pre_hook(lambda m, a: zs.setdefault("z", a[0].detach().clone()))
        with torch.no_grad():
            model(tokens)
        h.remove()
        z = zs["z"][0]
        d = z.shape[-1] // H
        mean = z[:n].mean(0)
        for head in range(H):
            s = slice(head * d, (head + 1) * d)
            direction = torch.zeros_like(z)
            direction[:, s] = (0 if ablation == "zero" else mean[s]) - z[:, s]
            values = []
            for sign in (1, -1):
                hook = modules[layer].register_forward_pre_hook(
                    lambda m, a, sign=sign, direction=direction: (a[0] + sign * eps * direction,)
                )
                with torch.no_grad():
                    values.append(_logp(model(tokens).logits, ids, n))
                hook.remove()
            expected[layer, head] = (values[0] - values[1]) / (2 * eps)
    result = head_effects(model, word_tokenizer, PROMPT, target=TARGET, ablation=ablation, method="attribution")
    assert result.method == "attribution"
    assert np.abs(result.delta - expected).max() < 1e-7
    assert np.abs(expected).max() > 1e-3


# ------------------------------------------------------------------------------------- refusals


def test_refusals(tiny_llama, word_tokenizer):
    def call(**kw):
        args = {"text": PROMPT, "target": TARGET} | kw
        return head_effects(tiny_llama, word_tokenizer, args.pop("text"), **args)

    for text in ("", "   "):
        with pytest.raises(AttentionError, match="text"):
            call(text=text)
    with pytest.raises(ArgumentTypeError, match="text"):
        call(text=None)
    with pytest.raises(AttentionError, match="gives no tokens"):
        call(target="")
    with pytest.raises(AttentionError, match="target"):
        call(target=[])
    with pytest.raises(AttentionIndexError, match="vocabulary"):
        call(target=[5, 100])
    with pytest.raises(ArgumentTypeError, match="target"):
        call(target=None)
    with pytest.raises(AttentionIndexError, match="3 layers"):
        call(layers=[0, 3])
    with pytest.raises(AttentionIndexError, match="8 heads"):
        call(heads=[8])
    with pytest.raises(AttentionIndexError, match="heads"):
        call(heads=[-1])
    with pytest.raises(ArgumentTypeError, match="layers"):
        call(layers=[1.0])
    with pytest.raises(AttentionError, match="ablation"):
        call(ablation="max")
    with pytest.raises(AttentionError, match="method"):
        call(method="gradient")
    with pytest.raises(AttentionError, match="batch_size"):
        call(batch_size=0)
    with pytest.raises(ModelError, match="positions"):
        call(text=words(130))


def test_a_model_without_separable_head_outputs_is_refused(tiny_llama, word_tokenizer):
    model = copy.deepcopy(tiny_llama)
    for layer in model.model.layers:  # the projection under a name no architecture uses
        layer.self_attn.mixer = layer.self_attn.o_proj
        del layer.self_attn.o_proj
    with pytest.raises(ModelError, match=r"no separable head outputs.*self_attn\.o_proj"):
        head_effects(model, word_tokenizer, PROMPT, target=TARGET)


def test_bert_heads_are_found_but_a_model_without_lm_head_is_refused(tiny_bert, word_tokenizer):
    projections, blocks = _output_projections(tiny_bert)
    assert projections == [layer.attention.output.dense for layer in tiny_bert.encoder.layer]
    assert blocks == list(tiny_bert.encoder.layer)
    with pytest.raises(ModelError, match="not a causal language model"):
        head_effects(tiny_bert, word_tokenizer, PROMPT, target=TARGET)


# ------------------------------------------------------------------------------------- the bundled model


@pytest.mark.slow
def test_smollm2_all_heads_match_a_hook_on_o_proj(smollm2):
    model, tok = smollm2
    text, target = "The capital of France is", " Paris"
    result = head_effects(model, tok, text, target=target, batch_size=64)
    assert result.delta.shape == (30, 9) and np.isfinite(result.delta).all()
    prompt = tok(text)["input_ids"]
    ids = prompt + tok(target, add_special_tokens=False)["input_ids"]
    modules = [layer.self_attn.o_proj for layer in model.model.layers]
    top = result.strongest(1)[0]
    for layer, heads in ((0, [0, 8]), (top[0], [top[1]]), (29, [4])):
        clean, expected = _loop_effects(model, ids, len(prompt), modules, 9, "zero", [layer], heads)
        assert abs(result.clean - clean) < 1e-4
        got = result.delta[layer, heads]
        assert np.abs(got - expected[0]).max() < 1e-4, (layer, heads, got, expected)
