"""aw.generate: attention of every generated token, against a step-by-step eager run with a cache."""

import copy
import inspect

import numpy as np
import pytest
import torch
from helpers.tiny_models import words

import attnwidget as aw


def stepwise_eager_rows(model, ids, n_prompt):
    """Row of each generation step from an eager run that feeds one token at a time into its cache."""
    ref = copy.deepcopy(model)
    ref.set_attn_implementation("eager")
    ids = torch.tensor([ids])
    # transformers renamed past_key_values to cache; use whichever this version's forward takes.
    cache_arg = "cache" if "cache" in inspect.signature(ref.forward).parameters else "past_key_values"
    rows = []
    with torch.no_grad():
        out = ref(input_ids=ids[:, :n_prompt], use_cache=True, output_attentions=True)
        rows.append(torch.stack([a[0, :, -1, :] for a in out.attentions]).numpy())
        for t in range(n_prompt, ids.shape[1]):
            cache = getattr(out, "cache", None) or out.past_key_values
            out = ref(input_ids=ids[:, t : t + 1], use_cache=True, output_attentions=True, **{cache_arg: cache})
            rows.append(torch.stack([a[0, :, 0, :] for a in out.attentions]).numpy())
    return rows  # rows[s]: (layers, heads, n_prompt + s) for the query at position n_prompt - 1 + s


def check_against_stepwise(model, att):
    P = att.meta["prompt_length"]
    rows = stepwise_eager_rows(model, att.token_ids, P)
    assert len(rows) == att.n_key - P + 1
    for s, ref in enumerate(rows):
        row = P - 1 + s
        np.testing.assert_allclose(att.weights[:, :, row, : row + 1], ref, atol=1e-5, err_msg=f"step {s}")
        assert not att.weights[:, :, row, row + 1 :].any()


def test_generation_matches_stepwise_eager(tiny_llama, word_tokenizer):
    att = aw.generate(tiny_llama, word_tokenizer, words(7), max_new_tokens=6, lazy=False)
    P = att.meta["prompt_length"]
    assert P == 7 and att.n_key == 13
    assert att.generated.tolist() == [False] * 7 + [True] * 6
    assert aw.extraction.generation_step_row(att, 0) == 6 and aw.extraction.generation_step_row(att, 5) == 11
    with pytest.raises(IndexError, match="6 tokens were generated"):
        aw.extraction.generation_step_row(att, 6)
    check_against_stepwise(tiny_llama, att)


def test_generation_lazy_and_selected(tiny_llama, word_tokenizer):
    a = aw.generate(tiny_llama, word_tokenizer, words(5), max_new_tokens=4, lazy=False)
    b = aw.generate(tiny_llama, word_tokenizer, words(5), max_new_tokens=4, lazy=True, layers=[1], heads=[2, 7])
    assert b.is_lazy and b.token_ids == a.token_ids
    np.testing.assert_allclose(b.head(1, 7), a.head(1, 7), atol=1e-6)


def test_generation_bad_input(tiny_llama, word_tokenizer, tiny_bert, bert_tokenizer):
    with pytest.raises(ValueError, match="max_new_tokens must be a positive int"):
        aw.generate(tiny_llama, word_tokenizer, words(3), max_new_tokens=0)
    with pytest.raises(ValueError, match="text is empty"):
        aw.generate(tiny_llama, word_tokenizer, "")
    with pytest.raises(aw.ModelError, match="exceeds the model's 128 positions"):
        aw.generate(tiny_llama, word_tokenizer, words(120), max_new_tokens=20)


@pytest.mark.slow
def test_generation_on_bundled_smollm2_chat(smollm2):
    model, tok = smollm2
    att = aw.generate(
        model, tok, messages=[{"role": "user", "content": "What is the capital of France?"}], max_new_tokens=6
    )
    assert "Paris" in att.meta["generated_text"]
    assert att.generated.sum() == att.n_key - att.meta["prompt_length"]
    check_against_stepwise(model, att)
