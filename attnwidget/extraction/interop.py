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

from attnwidget import _validate as V
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

    Notes
    -----
    Patterns cached in bfloat16 or float16 (a model run at half precision) are converted to
    float32. Their rows sum to 1 only within that dtype's rounding (bfloat16 keeps 8 significant
    bits: each weight is off by up to 2^-8 of itself, so a row sum by up to about 2^-8; float16
    keeps 11). Each row is checked against that tolerance (twice the rounding, for the softmax's own
    rounding in that dtype) and then renormalised in float32 to sum to 1, so metrics read
    distributions; a row further off is refused.

    Raises
    ------
    AttentionError
        No pattern hooks in the cache, rows of a half-precision cache that do not sum to 1 within
        its rounding, a layer missing, shapes that disagree, or a token count
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
        raw = cache[names[layer]]
        a = _half_rows(_as_numpy(raw), _source_dtype(raw), names[layer])
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


# Significant bits of the half-precision dtypes a cache may hold: the rounding of one weight.
_HALF_BITS = {"bfloat16": 8, "float16": 11}


def _source_dtype(x: Any) -> str:
    """The dtype's name as the cache holds it ("bfloat16" for ``torch.bfloat16``), before any
    conversion widens it."""
    return str(getattr(x, "dtype", "")).replace("torch.", "")


def _half_rows(a: np.ndarray, dtype: str, hook: str) -> np.ndarray:
    """Float32 patterns with every row renormalised, for a half-precision cache whose rows sum to 1
    within the dtype's rounding; other caches are returned as they are (the `Attention` checks
    them at float32's tolerance)."""
    bits = _HALF_BITS.get(dtype)
    if bits is None or a.size == 0:
        return a
    a = a.astype(np.float32)
    sums = a.sum(axis=-1, dtype=np.float64, keepdims=True)
    live = sums > 0  # rows with nothing visible stay zero
    tol = max(V.ROW_SUM_ATOL, 2.0 * 2.0**-bits)  # never stricter than float32's own tolerance
    err = np.where(live, np.abs(sums - 1), 0)
    if err.max() > tol:
        idx = tuple(int(i) for i in np.unravel_index(err.argmax(), err.shape)[:-1])
        raise AttentionError(
            f"{hook} holds {dtype} rows that do not sum to 1: a row sums to {float(sums[idx][0]):.5g} "
            f"(at index {idx}), past the {tol:.2g} that {dtype} rounding ({bits} significant bits) "
            "explains; expected softmax probabilities (hook_pattern, not hook_attn_scores)"
        )
    return np.where(live, a / np.where(live, sums, 1), 0).astype(np.float32)
