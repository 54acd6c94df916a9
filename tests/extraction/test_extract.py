"""Extraction: captured SDPA attention equals eager output_attentions; fallbacks; bad input."""

import numpy as np
import pytest
import torch
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.errors import ModelError


def eager_reference(model, tokenizer, text, **tok_kwargs):
    """Attention from an independent eager run: output_attentions on a model loaded as eager."""
    import copy

    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    enc = tokenizer(text, return_tensors="pt", **tok_kwargs)
    with torch.no_grad():
        out = ref(**enc, output_attentions=True)
    return torch.stack([a[0] for a in out.attentions]).numpy()


@pytest.mark.parametrize("name", ["llama", "gpt2", "bert"])
def test_capture_equals_eager(name, request, word_tokenizer, bert_tokenizer):
    model = request.getfixturevalue(f"tiny_{name}")
    tok = bert_tokenizer if name == "bert" else word_tokenizer
    text = words(40)
    att = aw.extract(model, tok, text)
    assert att.meta["method"] == "capture"
    assert model.config._attn_implementation == "sdpa"  # restored after the capture
    ref = eager_reference(model, tok, text)
    assert att.weights.shape == ref.shape
    np.testing.assert_allclose(att.weights, ref, atol=1e-5, rtol=0)
    assert att.is_causal == (name != "bert")


def test_grouped_query_heads_read_their_kv_head(tiny_llama, word_tokenizer):
    att = aw.extract(tiny_llama, word_tokenizer, words(12))
    assert (att.num_heads, att.num_kv_heads) == (8, 2)
    assert [att.kv_head_of(h) for h in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]
    # Capture runs SDPA with grouped kv heads; its probabilities still match eager per query head,
    # which is only possible if each query head used the right kv head.
    np.testing.assert_allclose(att.weights, eager_reference(tiny_llama, word_tokenizer, words(12)), atol=1e-5)


def test_only_requested_layers_and_heads(tiny_llama, word_tokenizer):
    text = words(20)
    full = aw.extract(tiny_llama, word_tokenizer, text)
    part = aw.extract(tiny_llama, word_tokenizer, text, layers=[0, 2], heads=[1, 5])
    assert part.shape == (2, 2, 20, 20)
    assert part.layer_ids == [0, 2] and part.head_ids == [1, 5]
    np.testing.assert_array_equal(part.head(2, 5), full.head(2, 5))
    np.testing.assert_array_equal(part.layer(0), full.layer(0)[[1, 5]])


def test_eager_fallback_matches_capture(tiny_gpt2, word_tokenizer):
    text = words(16)
    a = aw.extract(tiny_gpt2, word_tokenizer, text, method="capture")
    b = aw.extract(tiny_gpt2, word_tokenizer, text, method="eager")
    assert b.meta["method"] == "eager"
    assert tiny_gpt2.config._attn_implementation == "sdpa"
    np.testing.assert_allclose(a.weights, b.weights, atol=1e-5)


def test_padding_is_removed_from_batched_left_padded_input(tiny_llama, word_tokenizer):
    short, long_ = words(6, start=3), words(11)
    single = aw.extract(tiny_llama, word_tokenizer, short)
    word_tokenizer.padding_side = "left"
    try:
        batch = aw.extract(tiny_llama, word_tokenizer, [short, long_])
    finally:
        word_tokenizer.padding_side = "right"
    assert [a.n_key for a in batch] == [6, 11]
    assert batch[0].tokens == single.tokens
    np.testing.assert_array_equal(batch[0].mask, single.mask)
    # Left padding shifts absolute positions, but RoPE scores depend only on relative positions, so
    # with the padding masked out the padded text's attention equals its unpadded run.
    np.testing.assert_allclose(batch[0].weights, single.weights, atol=1e-5)
    np.testing.assert_allclose(batch[1].weights, aw.extract(tiny_llama, word_tokenizer, long_).weights, atol=1e-5)


def test_bert_padding_mask_and_pairs(tiny_bert, bert_tokenizer):
    att = aw.extract(tiny_bert, bert_tokenizer, words(4), text_pair=words(3, start=1))
    assert att.tokens[0] == "[CLS]" and att.tokens.count("[SEP]") == 2
    assert att.special[0] and att.special[-1] and not att.special[1]
    ref = eager_reference(tiny_bert, bert_tokenizer, words(4), text_pair=words(3, start=1))
    np.testing.assert_allclose(att.weights, ref, atol=1e-5)
    # Batched with padding: the padded text's attention equals its unpadded run (BERT has absolute
    # positions and right padding, so nothing else changes).
    batch = aw.extract(tiny_bert, bert_tokenizer, [words(3), words(9)])
    np.testing.assert_allclose(batch[0].weights, aw.extract(tiny_bert, bert_tokenizer, words(3)).weights, atol=1e-5)


def test_hooks_on_plain_torch_module():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, batch_first=True, dropout=0.0)
    enc = torch.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
    x = torch.randn(1, 6, 16)
    att = aw.extraction.extract_hooks(enc, lambda: enc(x), [f"t{i}" for i in range(6)])
    assert att.shape == (2, 4, 6, 6) and att.meta["method"] == "hooks"
    # Independent: recompute layer 0's softmax(QK^T/sqrt(d)) from its in-projection.
    mha = enc.layers[0].self_attn
    with torch.no_grad():
        q, k, _ = torch.nn.functional.linear(x[0], mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        q = q.reshape(6, 4, 4).transpose(0, 1)
        k = k.reshape(6, 4, 4).transpose(0, 1)
        ref = torch.softmax(q @ k.transpose(-1, -2) / 2.0, dim=-1).numpy()
    np.testing.assert_allclose(att.layer(0), ref, atol=1e-5)


def test_hooks_without_attention_modules_is_an_error():
    lin = torch.nn.Linear(4, 4)
    with pytest.raises(ModelError, match="no torch.nn.MultiheadAttention"):
        aw.extraction.extract_hooks(lin, lambda: lin(torch.zeros(1, 4)), ["a"])
    with pytest.raises(ModelError, match="not called or returned no weights"):
        aw.extraction.extract_hooks(lin, lambda: lin(torch.zeros(1, 4)), ["a"], modules=[lin])


class NoAttentionModel(torch.nn.Module):
    """A model that takes input_ids but exposes attention neither way."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(100, 8)

    def forward(self, input_ids, attention_mask=None, **kwargs):
        return {"last_hidden_state": self.emb(input_ids)}


def test_model_without_attention_is_an_error(word_tokenizer):
    with pytest.raises(ModelError, match="returned no attention weights"):
        aw.extract(NoAttentionModel(), word_tokenizer, words(3))


def test_bad_text_and_selection(tiny_llama, word_tokenizer):
    with pytest.raises(ValueError, match="text is empty"):
        aw.extract(tiny_llama, word_tokenizer, "   ")
    with pytest.raises(ValueError, match="accepts at most 128 positions"):
        aw.extract(tiny_llama, word_tokenizer, words(129))
    with pytest.raises(IndexError, match="layer 3 out of range: the model has 3 layers"):
        aw.extract(tiny_llama, word_tokenizer, words(3), layers=[3])
    with pytest.raises(IndexError, match="head 8 out of range"):
        aw.extract(tiny_llama, word_tokenizer, words(3), heads=[8])
    with pytest.raises(TypeError, match="text must be a str"):
        aw.extract(tiny_llama, word_tokenizer, 42)
    with pytest.raises(ValueError, match="method must be"):
        aw.extract(tiny_llama, word_tokenizer, words(3), method="magic")


def test_every_refusal_of_extract_is_an_attention_error(tiny_llama, word_tokenizer):
    """``except aw.AttentionError`` catches what extract refuses, and the builtin a caller expects too."""
    from helpers.tiny_seq2seq import tiny_seq2seq

    from attnwidget.errors import ArgumentTypeError, AttentionIndexError

    with pytest.raises(AttentionIndexError, match="layer 99 out of range: the model has 3 layers") as e:
        aw.extract(tiny_llama, word_tokenizer, words(3), layers=[99])
    assert isinstance(e.value, aw.AttentionError) and isinstance(e.value, IndexError)
    with pytest.raises(AttentionIndexError, match="head 8 out of range"):
        aw.extract(tiny_llama, word_tokenizer, words(3), heads=[8])
    # A seq2seq model checks layer numbers against each tower once it has run.
    with pytest.raises(AttentionIndexError, match=r"layers \[9\] out of range: the encoder has"):
        aw.extract(tiny_seq2seq("t5"), word_tokenizer, words(3), target=words(2), layers=[9])
    for bad in ("3", [1.5], True):
        with pytest.raises(ArgumentTypeError, match="layers must be a list of ints"):
            aw.extract(tiny_llama, word_tokenizer, words(3), layers=bad)
    with pytest.raises(ArgumentTypeError, match="text must be a str"):
        aw.extract(tiny_llama, word_tokenizer, 42)
    for kwargs, message in [
        ({"layers": []}, "layers is empty"),
        ({"heads": [1, 1]}, "heads names the same head twice"),
        ({"method": "magic"}, "method must be"),
        ({"lazy": True, "method": "eager"}, "lazy=True needs method='capture'"),
        ({"tokens": ["a"]}, "tokens= goes with inputs="),
        ({"text_pair": ["a", "b"]}, "got 2 text_pair entries for 1 texts"),
    ]:
        with pytest.raises(aw.AttentionError, match=message):
            aw.extract(tiny_llama, word_tokenizer, words(3), **kwargs)
    with pytest.raises(aw.AttentionError, match="pass the model's tokenizer"):
        aw.extract(tiny_llama, None, words(3))
    with pytest.raises(ArgumentTypeError, match="model must be a loaded model"):
        aw.extract("smollm2", word_tokenizer, words(3))


def test_readable_tokens_for_byte_level_and_wordpiece():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    # Byte-level BPE over a tiny vocabulary: raw tokens carry 'Ġ', readable ones a space.
    vocab = {"The": 0, "Ġcat": 1, "Ċ": 2, "Ġ": 3}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk)
    assert aw.extraction.readable_tokens(tok, [0, 1, 2]) == ["The", " cat", "\n"]
    wp = Tokenizer(models.WordPiece({"play": 0, "##ing": 1, "[UNK]": 2}, unk_token="[UNK]"))
    wp.decoder = decoders.WordPiece()
    tok2 = PreTrainedTokenizerFast(tokenizer_object=wp, unk_token="[UNK]")
    assert aw.extraction.readable_tokens(tok2, [0, 1]) == ["play", "ing"]


@pytest.mark.slow
def test_bundled_smollm2_capture_equals_eager(smollm2):
    model, tok = smollm2
    text = "The cat sat on the mat. It was warm, and the cat was happy."
    att = aw.extract(model, tok, text)
    assert att.meta["method"] == "capture" and "note" not in att.meta  # the self-check passed
    assert att.shape[:2] == (30, 9) and att.num_kv_heads == 3
    assert att.tokens == [t.replace("Ġ", " ") for t in tok.convert_ids_to_tokens(tok(text)["input_ids"])]
    assert "".join(att.tokens) == text
    np.testing.assert_allclose(att.weights, eager_reference(model, tok, text), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_bundled_smollm2_chat_template(smollm2):
    model, tok = smollm2
    att = aw.extract(model, tok, messages=[{"role": "user", "content": "Hi there"}])
    assert "<|im_start|>" in att.tokens and att.special[att.tokens.index("<|im_start|>")]
    assert att.text.endswith("<|im_start|>assistant\n")


@pytest.mark.slow
def test_bundled_minilm_capture_equals_eager(minilm):
    model, tok = minilm
    text = "A man is playing a guitar."
    att = aw.extract(model, tok, text)
    assert att.meta["method"] == "capture" and "note" not in att.meta
    assert att.shape[:2] == (6, 12) and not att.is_causal
    assert att.tokens[0] == "[CLS]" and att.tokens[-1] == "[SEP]"
    np.testing.assert_allclose(att.weights, eager_reference(model, tok, text), atol=1e-5, rtol=0)


def test_sliding_window_and_softcap_layers_match_eager(word_tokenizer):
    """Gemma-2 alternates sliding-window and full layers and soft-caps logits; Mistral slides."""
    from transformers import Gemma2Config, Gemma2ForCausalLM, MistralConfig, MistralForCausalLM

    torch.manual_seed(0)
    gemma = Gemma2ForCausalLM(
        Gemma2Config(
            vocab_size=100,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=16,
            sliding_window=5,
            attn_logit_softcapping=5.0,
            final_logit_softcapping=None,
            max_position_embeddings=128,
            attn_implementation="eager",
        )
    ).eval()
    mistral = MistralForCausalLM(
        MistralConfig(
            vocab_size=100,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            sliding_window=5,
            max_position_embeddings=128,
        )
    ).eval()
    text = words(20)
    for model in (gemma, mistral):
        att = aw.extract(model, word_tokenizer, text)
        assert att.meta["method"] == "capture"
        ref = eager_reference(model, word_tokenizer, text)
        np.testing.assert_allclose(att.weights, ref, atol=1e-5)
        # Each sliding-window layer sees at most 5 keys; the mask keeps what any layer sees.
        assert (att.weights[0, 0] > 0).sum(1).max() == 5
        assert att.mask.sum(1).max() == (20 if model is gemma else 5)


@pytest.mark.slow
def test_split_characters_are_named_by_their_character(smollm2):
    _, tok = smollm2
    ids = tok("北京 cat")["input_ids"]
    assert aw.extraction.readable_tokens(tok, ids) == ["北[1/2]", "北[2/2]", "京[1/2]", "京[2/2]", " cat"]
    # An incomplete character at the end shows its bytes.
    assert aw.extraction.readable_tokens(tok, ids[:1]) == ["\\xe5\\x8c"]
