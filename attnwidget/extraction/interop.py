"""Attention recorded by other toolkits, turned into an `Attention`.

TransformerLens keeps each layer's attention probabilities in its activation cache under
``blocks.{layer}.attn.hook_pattern``, shape ``(batch, heads, n_query, n_key)`` (or without the batch
axis after ``remove_batch_dim``). `from_transformer_lens` reads those names from an
``ActivationCache`` or any mapping, without importing TransformerLens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attnwidget.attention.core import Attention, _as_numpy
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = ["from_transformer_lens", "PATTERN_HOOK"]

PATTERN_HOOK = re.compile(r"^blocks\.(\d+)\.attn\.hook_pattern$")


def _keys(cache: Any) -> list[str]:
    if isinstance(cache, Mapping) or hasattr(cache, "keys"):
        return [str(k) for k in cache.keys()]
    raise ArgumentTypeError(
        f"cache must be a TransformerLens ActivationCache or a mapping of hook names to tensors; "
        f"got {type(cache).__name__}"
    )


def from_transformer_lens(
    cache: Any,
    tokens: Sequence[Any],
    *,
    batch_index: int = 0,
    layers: Sequence[int] | None = None,
    tokenizer: Any = None,
    mask: Any = None,
    **kwargs: Any,
) -> Attention:
    """An `Attention` from a TransformerLens activation cache.

    Parameters
    ----------
    cache : ActivationCache or mapping
        Holds ``blocks.{l}.attn.hook_pattern`` tensors ``(batch, heads, n_query, n_key)`` (or
        ``(heads, n_query, n_key)`` when the batch axis was removed). Other entries are ignored.
    tokens : sequence of str, or of int with `tokenizer`
        One string per position, as ``model.to_str_tokens(text)`` gives; token ids (a list or a
        ``(n,)`` / ``(1, n)`` tensor) are turned into strings with `tokenizer`.
    batch_index : int
        Which batch element to take.
    layers : list of int, optional
        Layer numbers to keep (default every layer the cache holds).
    tokenizer : optional
        Needed only when `tokens` are ids.
    mask : bool array ``(n_query, n_key)``, optional
        Visible keys; inferred as `Attention` does when omitted (causal when the upper triangle is zero).
    **kwargs
        Passed to `Attention` (``num_kv_heads``, ``text``, ``meta``, ...).

    Raises
    ------
    AttentionError
        No pattern hooks in the cache, a layer missing, shapes that disagree, or a token count
        that does not match.
    """
    names = {int(m.group(1)): k for k in _keys(cache) if (m := PATTERN_HOOK.match(k))}
    if not names:
        raise AttentionError(
            "the cache holds no attention patterns (expected keys like 'blocks.0.attn.hook_pattern'; "
            "run model.run_with_cache(...) without a names_filter that drops them)"
        )
    lids = sorted(names) if layers is None else [int(x) for x in layers]
    missing = [x for x in lids if x not in names]
    if missing:
        raise AttentionError(f"the cache has no pattern for layers {missing}; it holds layers {sorted(names)}")
    arrays = []
    for layer in lids:
        a = _as_numpy(cache[names[layer]])
        if a.ndim == 4:
            if not -a.shape[0] <= batch_index < a.shape[0]:
                raise AttentionIndexError(f"batch_index {batch_index} out of range for a batch of {a.shape[0]}")
            a = a[batch_index]
        elif a.ndim != 3:
            raise AttentionError(
                f"{names[layer]} has shape {a.shape}; expected (batch, heads, n_query, n_key) or (heads, n_query, n_key)"
            )
        arrays.append(a)
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise AttentionError(f"pattern hooks have different shapes: {sorted(shapes)}")
    tokens = _token_strings(tokens, tokenizer, batch_index)
    meta = dict(kwargs.pop("meta", None) or {})
    meta.setdefault("method", "transformer_lens")
    return Attention(np.stack(arrays), tokens, mask, layer_ids=lids, meta=meta, **kwargs)


def _token_strings(tokens: Any, tokenizer: Any, batch_index: int) -> list[str]:
    if hasattr(tokens, "detach") or isinstance(tokens, np.ndarray):
        tokens = _as_numpy(tokens)
        if tokens.ndim == 2:
            tokens = tokens[batch_index]
        tokens = tokens.tolist()
    tokens = list(tokens)
    if tokens and all(isinstance(t, str) for t in tokens):
        return tokens
    if tokens and all(isinstance(t, (int, np.integer)) for t in tokens):
        if tokenizer is None:
            raise AttentionError(
                "tokens are ids; pass tokenizer= (model.tokenizer) or strings from model.to_str_tokens(text)"
            )
        from attnwidget.extraction.tokens import readable_tokens

        return readable_tokens(tokenizer, [int(t) for t in tokens])
    raise AttentionError("tokens must be a sequence of strings (model.to_str_tokens(text)) or of token ids")
