"""Shared fixtures: tiny random-weight models built from configs, and the bundled real models."""

from __future__ import annotations

import pytest


def _word_tokenizer():
    """A fast word-level tokenizer over w0..w89 with BERT-style specials, so tiny models get real offsets."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {f"w{i}": i for i in range(90)}
    vocab.update({"[UNK]": 90, "[CLS]": 91, "[SEP]": 92, "[PAD]": 93, "<s>": 94})
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    return tk


@pytest.fixture(scope="session")
def word_tokenizer():
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=_word_tokenizer(), unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", bos_token="<s>")


@pytest.fixture(scope="session")
def bert_tokenizer():
    """Word-level tokenizer that adds [CLS] ... [SEP] (and pairs) like BERT's."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tk = _word_tokenizer()
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 91), ("[SEP]", 92)])
    return PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]")


def _tiny(kind: str):
    import torch
    from transformers import (BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig,
                              LlamaForCausalLM)

    torch.manual_seed(0)
    if kind == "llama":  # grouped-query attention: 8 query heads over 2 kv heads
        cfg = LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                          num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=128,
                          pad_token_id=93, bos_token_id=94, eos_token_id=92)
        model = LlamaForCausalLM(cfg)
    elif kind == "gpt2":
        cfg = GPT2Config(vocab_size=100, n_embd=64, n_layer=3, n_head=4, n_positions=128,
                         bos_token_id=94, eos_token_id=92, pad_token_id=93)
        model = GPT2LMHeadModel(cfg)
    elif kind == "bert":
        cfg = BertConfig(vocab_size=100, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                         intermediate_size=128, max_position_embeddings=128, pad_token_id=93)
        model = BertModel(cfg)
    else:
        raise ValueError(kind)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_llama():
    return _tiny("llama")


@pytest.fixture(scope="session")
def tiny_gpt2():
    return _tiny("gpt2")


@pytest.fixture(scope="session")
def tiny_bert():
    return _tiny("bert")


@pytest.fixture(params=["llama", "gpt2", "bert"])
def tiny_model(request):
    """Each tiny architecture in turn, as (name, model)."""
    return request.param, _tiny(request.param)


@pytest.fixture(scope="session")
def smollm2():
    import attnwidget as aw

    return aw.load_model()


@pytest.fixture(scope="session")
def minilm():
    import attnwidget as aw

    return aw.load_model("minilm")


def words(n: int, start: int = 0, step: int = 7) -> str:
    """A text of `n` in-vocabulary words for the tiny tokenizer."""
    return " ".join(f"w{(start + i * step) % 90}" for i in range(n))
