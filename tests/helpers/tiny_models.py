"""Tiny random-weight models built from configs, a word-level tokenizer, and texts for them.

Imported by tests as ``from tiny_models import ...``; fixtures wrapping these live in conftest.py.
"""

from __future__ import annotations


def word_level_tokenizer():
    """A fast word-level tokenizer over w0..w89 with BERT-style specials, so tiny models get real offsets."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {f"w{i}": i for i in range(90)}
    vocab.update({"[UNK]": 90, "[CLS]": 91, "[SEP]": 92, "[PAD]": 93, "<s>": 94})
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    return tk


def tiny_model(kind: str):
    import torch
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "llama":  # grouped-query attention: 8 query heads over 2 kv heads
        cfg = LlamaConfig(
            vocab_size=100,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=3,
            num_attention_heads=8,
            num_key_value_heads=2,
            max_position_embeddings=128,
            pad_token_id=93,
            bos_token_id=94,
            eos_token_id=92,
        )
        model = LlamaForCausalLM(cfg)
    elif kind == "gpt2":
        cfg = GPT2Config(
            vocab_size=100,
            n_embd=64,
            n_layer=3,
            n_head=4,
            n_positions=128,
            bos_token_id=94,
            eos_token_id=92,
            pad_token_id=93,
        )
        model = GPT2LMHeadModel(cfg)
    elif kind == "bert":
        cfg = BertConfig(
            vocab_size=100,
            hidden_size=64,
            num_hidden_layers=3,
            num_attention_heads=4,
            intermediate_size=128,
            max_position_embeddings=128,
            pad_token_id=93,
        )
        model = BertModel(cfg)
    else:
        raise ValueError(kind)
    return model.eval()


def words(n: int, start: int = 0, step: int = 7) -> str:
    """A text of `n` in-vocabulary words for the tiny tokenizer."""
    return " ".join(f"w{(start + i * step) % 90}" for i in range(n))


def eager_outputs(model, **inputs):
    """output_attentions of a copy of `model` switched to eager attention: the reference."""
    import copy

    import torch

    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    with torch.no_grad():
        return ref(**inputs, output_attentions=True)


def stacked(attentions, b=0):
    """An HF attentions tuple as one (layers, heads, Q, K) array of batch row `b`."""
    import torch

    return torch.stack([a[b] for a in attentions]).numpy()
