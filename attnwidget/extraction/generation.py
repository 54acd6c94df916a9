"""Generation with per-step attention: generate with the KV cache, then one capture pass over the
whole sequence gives every step's attention row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from attnwidget._optional import require_models
from attnwidget.attention.core import Attention, step_row
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError, ModelError
from attnwidget.extraction.facts import input_device, is_encoder_decoder, layers_heads, model_meta, position_limit
from attnwidget.extraction.request import Request
from attnwidget.extraction.run import Part, Side, run
from attnwidget.extraction.tokens import encode, readable_tokens

__all__ = ["generate", "generation_step_row"]


def generate(
    model: Any,
    tokenizer: Any,
    text: str | None = None,
    *,
    messages: list[dict] | None = None,
    max_new_tokens: int = 20,
    layers: Sequence[int] | int | None = None,
    heads: Sequence[int] | int | None = None,
    lazy: bool | None = None,
    check: bool = True,
    **generate_kwargs: Any,
) -> Attention:
    """Generate from `text` (or chat `messages`) and return the attention of every token.

    The model generates with its KV cache as usual; then one capture pass over the whole sequence
    records every position's attention. For a causal decoder the row of position ``t`` in that pass
    is exactly the attention the model computed at step ``t`` with its cache (each step's query
    sees the same cached keys), which the tests check against a step-by-step eager run.

    The result covers the prompt and all generated tokens. ``att.generated[i]`` is True for query
    rows whose token was generated; ``att.meta["prompt_length"]`` is the number of prompt tokens.
    Step ``s`` (0-based) produced token ``prompt_length + s`` while reading row
    ``prompt_length - 1 + s`` (`generation_step_row`).

    Parameters
    ----------
    text : str
        The prompt.
    max_new_tokens : int
        At most this many tokens are generated (fewer if the model ends the sequence).
    lazy : bool, optional
        Keep q/k and compute maps on demand. Default: lazy when the full weights would exceed 1 GiB.
    generate_kwargs
        Passed to ``model.generate`` (``do_sample``, ``temperature``...). Greedy by default.
    """
    require_models("aw.generate")
    import torch

    if is_encoder_decoder(model):
        raise ModelError(
            f"{type(model).__name__} is an encoder-decoder model; generate its output with "
            "model.generate and pass it to aw.extract(model, tokenizer, text, target=...)"
        )
    if not hasattr(model, "generate"):
        raise ModelError(f"{type(model).__name__} cannot generate (no .generate method); use aw.extract")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise AttentionError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")
    add_special = messages is None
    limit = position_limit(model)
    if text is None and messages is None:
        raise ArgumentTypeError("text must be the prompt, a str (or pass messages=[...]); got None")
    texts, enc = encode(tokenizer, None if text is None else [text], None, messages, add_special)
    n_prompt = enc["input_ids"].shape[1]
    if limit is not None and n_prompt + max_new_tokens > limit:
        raise ModelError(
            f"prompt ({n_prompt} tokens) + max_new_tokens ({max_new_tokens}) exceeds the model's {limit} positions"
        )
    device = input_device(model)
    gen_kwargs = {"do_sample": False, "max_new_tokens": max_new_tokens}
    if tokenizer.pad_token_id is not None:
        gen_kwargs["pad_token_id"] = tokenizer.pad_token_id
    gen_kwargs.update(generate_kwargs)
    with torch.no_grad():
        seq = model.generate(
            input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device), **gen_kwargs
        )
    ids = seq[0].tolist()
    n_total = len(ids)
    prompt_text = texts[0]
    generated_text = tokenizer.decode(ids[n_prompt:], skip_special_tokens=False)
    n_layers, n_heads, n_kv = layers_heads(model)
    # Generated attention is held at float32, always by the capture (its rows are the steps').
    req = Request(layers, heads, method="capture", check=check).select(n_layers, n_heads)
    inputs = {"input_ids": seq, "attention_mask": torch.ones_like(seq)}
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    side = Side(
        None,
        lambda b, n: dict(
            tokens=readable_tokens(tokenizer, ids),
            token_ids=ids,
            special=[i in special_ids for i in ids],
            text=prompt_text + generated_text,
            generated=[i >= n_prompt for i in range(n_total)],
        ),
    )
    meta = dict(model_meta(model), prompt_length=n_prompt, generated_text=generated_text)
    if lazy is None:
        L, H = req.counts(n_layers or 1, n_heads or 1)
        lazy = bool(L and H and L * H * n_total * n_total * 4 > 2**30)
    req = replace(req, lazy=lazy)

    def forward(eager: bool):
        return model(**inputs, use_cache=False)

    part = Part("main", side, side, "attentions", kv_heads=n_kv)
    return run(model, forward, [part], meta, req)["main"][0]


def generation_step_row(att: Attention, step: int) -> int:
    """The query row whose attention produced generated token number `step` (0-based)."""
    n_prompt = att.meta.get("prompt_length")
    if n_prompt is None:
        raise AttentionError("this attention did not come from aw.generate")
    n_steps = att.n_key - n_prompt
    if not 0 <= step < n_steps:
        raise AttentionIndexError(f"step {step} out of range: {n_steps} tokens were generated")
    return step_row(n_prompt, step)
