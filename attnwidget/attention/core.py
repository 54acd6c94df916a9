"""The `Attention` type: one model's attention over one text.

Everything in attnwidget reads or writes this type. It owns validation (shapes, NaN, row sums,
token counts), slicing by layer, head and kv-group, head fusion, and saving to a versioned
``.npz`` file (see `Attention.save` for the format).

Weights may be held in memory (an array of shape ``(layers, heads, n_query, n_key)``, float32 or,
when asked for, float16: see `STORAGE_DTYPES`) or computed on demand from captured queries and keys
(a *lazy* attention, see `extract(lazy=True)`). Every accessor goes through `layer`, `head` and
`rows`, which give float32 whatever the storage, so every kind behaves the same.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.arrays import (
    FLOAT16_NORMAL,
    FUSIONS,
    causal_mask,
    coarse_float16_rows,
    fuse_heads,
    hidden_keys_mask,
    infer_mask,
    lazy_zeros,
    max_pool,
    pooled_rows,
    renormalize,
)
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError, FileFormatError

__all__ = [
    "Attention",
    "AttentionError",
    "QKSource",
    "storage_dtype",
    "HEAD_FUSIONS",
    "STORAGE_DTYPES",
    "FORMAT_VERSION",
    "max_pool",
    "renormalize",
    "fuse_heads",
    "causal_mask",
    "infer_mask",
]

# The fusions `Attention.fuse` knows (the same list as `_arrays.FUSIONS`; kept under its old name).
HEAD_FUSIONS = FUSIONS

# Tolerance for "rows sum to 1": attention computed in fp16/bf16 and stored as float32 drifts by
# up to ~1e-3 on long rows; anything past this is not a probability distribution.
ROW_SUM_ATOL = V.ROW_SUM_ATOL

# How held weights may be stored. float16 halves the memory (and the time spent writing it) for a
# rounding of at most 2^-11 of each weight (2^-25 absolute below 2^-14, where float16 is subnormal;
# weights under 2^-25 become 0). bfloat16 is not offered: numpy has no such type, and its 8
# significant bits would round probabilities 8 times more coarsely than float16's 11.
STORAGE_DTYPES = ("float32", "float16")

# A materialised array larger than this is refused for lazy attention unless asked for explicitly.
DEFAULT_MAX_BYTES = 8 * 2**30

# The saved-file format (see `Attention.save`). Version 0 is the unversioned layout of earlier
# releases (the same members without the header); it is still read.
FORMAT_NAME = "attnwidget.Attention"
FORMAT_VERSION = 1
_INFO_FIELDS = (
    "layer_ids",
    "head_ids",
    "num_kv_heads",
    "total_heads",
    "token_ids",
    "offsets",
    "special",
    "text",
    "meta",
)
# Constructor arguments added to `info` after version 1, with the value a file without them means.
# A new Attention field goes here (and into `_meta_dict`); `_from_members` passes each by name.
_INFO_OPTIONAL: dict[str, Any] = {"query_tokens": None}
_MEMBERS = {"format", "weights", "mask", "tokens", "info", "generated"}
# A file of kind "qk" holds queries and keys instead of weights (see `QKSource`).
_QK_MEMBERS = ("queries", "keys", "kv_index", "scaling", "softcap", "window")


def _as_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach()
        if str(getattr(x, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.cpu().numpy()
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ArgumentTypeError(f"expected an array of numbers; got {V.show(x)} ({e})") from None


def storage_dtype(dtype: Any) -> np.dtype:
    """The numpy dtype for a storage name in `STORAGE_DTYPES` (or its numpy type), checked."""
    name = getattr(dtype, "name", None) if not isinstance(dtype, str) else dtype
    if name is None and isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    if name == "bfloat16" or "bfloat16" in str(dtype):
        raise ArgumentTypeError(
            "dtype='bfloat16' is not offered: numpy has no bfloat16, and float16 holds probabilities "
            "more precisely (11 significant bits against 8); pass dtype='float16'"
        )
    if name not in STORAGE_DTYPES:
        raise ArgumentTypeError(f"dtype must be one of {list(STORAGE_DTYPES)}; got {V.show(dtype)}")
    return np.dtype(name)


def _float32(w: np.ndarray) -> np.ndarray:
    """`w` as float32: itself when it is, a converted copy of a float16 block otherwise."""
    return w if w.dtype == np.float32 else w.astype(np.float32)


def _stack_layers(weights: Any) -> np.ndarray:
    """Accept an array or an HF-style tuple of per-layer ``(batch, heads, Q, K)`` tensors."""
    if weights is None or isinstance(weights, (str, bytes, dict, set)):
        raise ArgumentTypeError(
            f"weights must be an array (layers, heads, n_query, n_key) or a tuple of per-layer "
            f"tensors; got {V.show(weights)}"
        )
    if isinstance(weights, (tuple, list)):
        if len(weights) == 0:
            raise AttentionError(
                "got an empty sequence of attention layers; the model returned no attention "
                "(expected one (batch, heads, n_query, n_key) tensor per layer)"
            )
        if any(w is None for w in weights):
            raise AttentionError(
                "the model returned None for some layers' attention: it exposes no attention "
                "weights (load it with attn_implementation='eager' or use aw.extract)"
            )
        layers = [_as_numpy(w) for w in weights]
        if any(w.ndim != layers[0].ndim for w in layers):
            raise AttentionError("per-layer attention tensors have different ranks")
        if layers[0].ndim == 4:
            if layers[0].shape[0] != 1:
                raise AttentionError(
                    f"per-layer attention has batch size {layers[0].shape[0]}; pass one example "
                    "(use Attention.from_hf(attentions, tokens, batch_index=i))"
                )
            layers = [w[0] for w in layers]
        elif layers[0].ndim != 3:
            raise AttentionError(
                f"each layer's attention must be (batch, heads, n_query, n_key) or "
                f"(heads, n_query, n_key); got shape {layers[0].shape}"
            )
        shapes = {w.shape for w in layers}
        if len(shapes) != 1:
            raise AttentionError(f"layers have different shapes: {sorted(shapes)}")
        return np.stack(layers)
    return _as_numpy(weights)


class _Meta(dict):
    """`Attention.meta`: a dict whose entries are checked (and made JSON-safe) when they are set,
    so what is held is exactly what a save and load give back."""

    def __init__(self, value: Any = None):
        super().__init__()
        if value is None:
            return
        if not isinstance(value, dict):
            raise ArgumentTypeError(f"meta must be a dict with str keys; got {V.show(value)}")
        super().update(V.json_value("meta", value))

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, str):
            raise ArgumentTypeError(f"meta keys must be str (they are saved as JSON); got key {V.show(key)}")
        super().__setitem__(key, V.json_value("meta", value, f"[{key!r}]"))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> _Meta:  # type: ignore[override,misc]
        self.update(other)
        return self

    def copy(self) -> dict:
        return dict(self)


def _warn_coarse_float16_rows(weights: np.ndarray, keep: np.ndarray) -> None:
    """Warn when hiding keys leaves rows renormalised from weights below float16's normal range."""
    coarse = coarse_float16_rows(weights, keep)
    if coarse.any():
        warnings.warn(
            f"{int(coarse.sum())} of {coarse.size} (layer, head, row) rows keep under {FLOAT16_NORMAL:.1e} of "
            "their weight once these keys are hidden; held at float16 such small weights have few significant "
            "bits or are 0, so those rows are renormalised coarsely or stay 0. Extract with dtype='float32' "
            "to hide tokens precisely.",
            stacklevel=3,
        )


class _HiddenKeys:
    """A lazy source with some key columns hidden and rows renormalised over the rest."""

    def __init__(self, source: Any, keep: np.ndarray):
        self.source, self.keep = source, keep
        self.shape = tuple(source.shape)

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> _HiddenKeys:
        return _HiddenKeys(self.source.subset(layer_idx, head_idx), self.keep)

    def empty(self, shape: Sequence[int]) -> np.ndarray:
        empty = getattr(self.source, "empty", None)
        return empty(shape) if empty is not None else np.empty(tuple(shape), np.float32)

    def block(
        self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        w = renormalize(self.source.block(li, head_idx, start, stop), self.keep[start:stop])
        if out is None:
            return w
        out[...] = w
        return out


def step_row(prompt_length: int, step: int) -> int:
    """The query row whose attention produced generated token `step` (0-based) after a prompt of
    `prompt_length` tokens: the row of the token before it. The frontend's twin is
    ``generationStepRow`` in js/src/lib/selection.js."""
    return prompt_length - 1 + step


def _check_fields(what: str, missing: set, unknown: set, noun: str) -> None:
    """Refuse a saved file whose members or info fields differ from the format, naming both sides."""
    problems = [
        f"missing{noun} {sorted(missing)}" if missing else "",
        f"unknown{noun} {sorted(unknown)}" if unknown else "",
    ]
    if missing or unknown:
        raise FileFormatError(f"{what}: " + "; ".join(p for p in problems if p))


class Attention:
    """Attention of one model over one text.

    Parameters
    ----------
    weights : array-like or tuple of tensors
        ``(layers, heads, n_query, n_key)`` probabilities (each visible row sums to 1), or the
        ``attentions`` tuple a Hugging Face model returns (one ``(1, heads, Q, K)`` per layer).
    tokens : sequence of str
        One readable string per key position (``n_key`` of them). Queries are the last
        ``n_query`` tokens.
    mask : bool array ``(n_query, n_key)``, optional
        True where the key is visible to the query. When omitted it is inferred: causal when every
        weight above the diagonal is exactly zero, otherwise all keys are visible.
    layer_ids, head_ids : sequence of int, optional
        The model's layer and head numbers the weights hold (when only some were extracted).
        `layer` and `head` are indexed by these numbers.
    num_kv_heads : int, optional
        Key/value heads of a grouped-query model; query head ``h`` reads kv head
        ``h // (total_heads // num_kv_heads)``. Defaults to one kv head per query head.
    total_heads : int, optional
        Query heads per layer in the model (defaults to the number held).
    token_ids, offsets, special, generated : optional per-token data
        Token ids, ``(start, end)`` character spans in `text`, a bool per token marking special
        tokens, and a bool per query row marking tokens produced by generation.
    query_tokens : sequence of str, optional
        Tokens of the query rows when they are not the last `n_query` of `tokens`: the target
        tokens of cross-attention, whose keys are the source tokens. `n_query` may then exceed
        `n_key`, and the mask defaults to all keys visible.
    text : str, optional
        The text the tokens came from.
    meta : dict, optional
        Facts about the model (name, architecture, causal, ...), saved with the weights.
    validate : bool
        Check NaN, ranges and row sums (default True).
    dtype : {"float32", "float16"}
        How the weights are held (default float32). float16 takes half the memory and rounds each
        weight to 11 significant bits (see `STORAGE_DTYPES`); `layer`, `head`, `rows`,
        `iter_row_blocks` and every metric and view still read float32 (each block converted as it
        is read), so results differ from float32 storage by that rounding only. `weights` gives the
        stored array.
    """

    def __init__(
        self,
        weights: Any,
        tokens: Sequence[str],
        mask: Any = None,
        *,
        layer_ids: Sequence[int] | None = None,
        head_ids: Sequence[int] | None = None,
        num_kv_heads: int | None = None,
        total_heads: int | None = None,
        token_ids: Sequence[int] | None = None,
        offsets: Sequence[tuple[int, int]] | None = None,
        special: Sequence[bool] | None = None,
        generated: Sequence[bool] | None = None,
        query_tokens: Sequence[str] | None = None,
        text: str | None = None,
        meta: dict | None = None,
        validate: bool = True,
        dtype: Any = "float32",
        _source: Any = None,
    ):
        validate = V.boolean("validate", validate)
        self._dtype = storage_dtype(dtype)
        self._source = _source
        if _source is not None:
            self._weights: Any = None  # (layers, heads, n_query, n_key) in self._dtype once held
            shape = tuple(_source.shape)
        else:
            w = _stack_layers(weights)
            if w.ndim != 4:
                hint = ""
                if w.ndim == 3:
                    hint = " (for one layer, pass weights[None])"
                elif w.ndim == 2:
                    hint = " (for one head of one layer, pass weights[None, None])"
                raise AttentionError(
                    f"attention weights must have 4 dimensions (layers, heads, n_query, n_key); "
                    f"got shape {w.shape}{hint}"
                )
            if not np.issubdtype(w.dtype, np.floating):
                raise AttentionError(f"attention weights must be floating point, got dtype {w.dtype}")
            self._weights = np.ascontiguousarray(w, dtype=self._dtype)
            shape = self._weights.shape
        L, H, Q, K = shape
        if min(shape) == 0:
            raise AttentionError(f"attention weights are empty: shape {shape}")
        if Q > K and query_tokens is None:
            raise AttentionError(f"more query rows ({Q}) than keys ({K}); expected n_query <= n_key")

        if tokens is None:
            raise ArgumentTypeError(f"tokens must be a list of str, one per key position ({K}); got None")
        tokens = V.tokens("tokens", tokens)
        if len(tokens) != K:
            raise AttentionError(
                f"got {len(tokens)} tokens for attention over {K} keys; expected one token per "
                f"key position (weights shape {shape})"
            )
        self.tokens: list[str] = tokens
        self._query_tokens = None if query_tokens is None else list(query_tokens)
        if self._query_tokens is not None:
            if len(self._query_tokens) != Q or not all(isinstance(t, str) for t in self._query_tokens):
                raise AttentionError(
                    f"query_tokens must be {Q} strings (one per query row); got {len(self._query_tokens)}"
                )
            if mask is None:
                mask = np.ones((Q, K), dtype=bool)

        if mask is None:
            mask = infer_mask(self._weights) if self._weights is not None else causal_mask(Q, K)
        mask = V.bool_mask("mask", mask)
        if mask.shape != (Q, K):
            raise AttentionError(f"mask must have shape (n_query, n_key) = {(Q, K)}; got {mask.shape}")
        self.mask: np.ndarray = mask

        self.layer_ids = list(range(L)) if layer_ids is None else V.int_list("layer_ids", layer_ids, low=0)
        self.head_ids = list(range(H)) if head_ids is None else V.int_list("head_ids", head_ids, low=0)
        if len(self.layer_ids) != L:
            raise AttentionError(f"layer_ids has {len(self.layer_ids)} entries for {L} layers")
        if len(self.head_ids) != H:
            raise AttentionError(f"head_ids has {len(self.head_ids)} entries for {H} heads")
        need = max(self.head_ids) + 1
        self.total_heads = need if total_heads is None else V.integer("total_heads", total_heads, low=1)
        if self.total_heads < need:
            raise AttentionError(
                f"total_heads={self.total_heads} is fewer than the heads held (head ids up to {need - 1}); "
                f"expected total_heads >= {need}"
            )
        kv = self.total_heads if num_kv_heads is None else V.integer("num_kv_heads", num_kv_heads)
        if kv <= 0 or self.total_heads % kv:
            raise AttentionError(f"num_kv_heads={kv} must divide the number of query heads ({self.total_heads})")
        self.num_kv_heads = kv

        self.token_ids = None if token_ids is None else V.int_list("token_ids", token_ids, low=0, unique=False)
        self.offsets = None if offsets is None else _offsets(offsets)
        self.special = None if special is None else V.bool_mask("special", special).tolist()
        for name, seq in (("token_ids", self.token_ids), ("offsets", self.offsets), ("special", self.special)):
            if seq is not None and (not isinstance(seq, list) or len(seq) != K):
                n = len(seq) if isinstance(seq, list) else "not one per token"
                raise AttentionError(f"{name} has {n} entries; expected {K} (one per token)")
        self.generated = None if generated is None else V.bool_mask("generated", generated)
        if self.generated is not None and self.generated.shape != (Q,):
            raise AttentionError(f"generated must have one bool per query row ({Q}); got {self.generated.shape}")
        if text is not None and not isinstance(text, str):
            raise ArgumentTypeError(f"text must be a str or None; got {V.show(text)}")
        self.text = text
        self.meta = meta

        if validate and self._weights is not None:
            # Layer by layer: the checks' temporaries stay one layer in size.
            for li in range(L):
                self._validate(self._weights[li : li + 1], li)
        # Whether the weights are known to be distributions (lazy sources compute softmax);
        # metrics check unchecked weights themselves.
        self._checked = validate or _source is not None

    @property
    def meta(self) -> dict:
        """Facts about the model (a dict with str keys saved as JSON).

        Values are checked when set: numpy scalars become Python numbers and tuples become lists
        (as they would come back from a file); sets, arrays, bytes, NaN, non-str keys and other
        objects are refused with an `ArgumentTypeError`.
        """
        return self._meta

    @meta.setter
    def meta(self, value: Any) -> None:
        self._meta = _Meta(value)

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def from_hf(
        cls, attentions: Sequence[Any], tokens: Sequence[str], *, batch_index: int = 0, mask: Any = None, **kwargs
    ) -> Attention:
        """From the ``attentions`` tuple of a Hugging Face model output, for one batch element.

        Padding must be removed by the caller through `mask` or by slicing tokens; weights are
        taken as they are.
        """
        if attentions is None or len(attentions) == 0:
            raise AttentionError(
                "the model output has no attentions: pass output_attentions=True and load the model "
                "with attn_implementation='eager' (SDPA returns none), or use aw.extract"
            )
        if any(a is None for a in attentions):
            raise AttentionError("the model returned None attentions: it exposes no attention weights")
        layers = [_as_numpy(a) for a in attentions]
        if any(a.ndim != 4 for a in layers):
            raise AttentionError(
                f"from_hf expects one (batch, heads, n_query, n_key) tensor per layer; got shapes "
                f"{sorted({a.shape for a in layers})}"
            )
        batch = layers[0].shape[0]
        batch_index = V.integer("batch_index", batch_index, low=-batch, high=batch - 1)
        if len({a.shape for a in layers}) != 1:
            raise AttentionError(f"layers have different shapes: {sorted({a.shape for a in layers})}")
        return cls(np.stack([a[batch_index] for a in layers]), tokens, mask, **kwargs)

    @classmethod
    def from_transformer_lens(cls, cache: Any, tokens: Sequence[Any], **kwargs) -> Attention:
        """From a TransformerLens ``ActivationCache`` (or any mapping with ``blocks.{l}.attn.hook_pattern``
        tensors); see `attnwidget.extraction.interop.from_transformer_lens` for the arguments."""
        from attnwidget.extraction.interop import from_transformer_lens

        return from_transformer_lens(cache, tokens, **kwargs)

    def _validate(self, w: np.ndarray, layer_start: int) -> None:
        """Check ``w = weights[layer_start:layer_start + len(w)]``."""
        w = _float32(w)  # sums of float16 rows would drift by more than the tolerance
        if not np.all(np.isfinite(w)):
            bad = np.argwhere(~np.isfinite(w))[0]
            raise AttentionError(
                f"attention weights contain NaN or infinity (first at layer index {bad[0] + layer_start}, "
                f"head index {bad[1]}, query {bad[2]}, key {bad[3]})"
            )
        if w.min() < -1e-6 or w.max() > 1 + 1e-4:
            raise AttentionError(
                f"attention weights must lie in [0, 1]; got range [{w.min():.4g}, {w.max():.4g}] "
                "(did you pass scores before softmax?)"
            )
        mask = self.mask
        leak = np.where(mask[None, None], 0, w)
        if leak.max(initial=0) > 1e-4:
            raise AttentionError(
                "attention weights put mass on keys the mask hides (future tokens or padding); "
                "pass the model's mask or mask=np.ones((n_query, n_key), bool)"
            )
        live = mask.any(axis=1)
        sums = np.where(mask[None, None], w, 0).sum(axis=-1)[..., live]
        if sums.size and np.abs(sums - 1).max() > ROW_SUM_ATOL:
            idx = np.unravel_index(np.abs(sums - 1).argmax(), sums.shape)
            raise AttentionError(
                f"attention rows must sum to 1 over visible keys; row sum {sums[idx]:.4f} at layer "
                f"index {idx[0] + layer_start}, head index {idx[1]} (expected softmax probabilities, e.g. from "
                "output_attentions)"
            )

    # ------------------------------------------------------------------ shape and facts

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(layers, heads, n_query, n_key)``."""
        return tuple(self._source.shape) if self._source is not None else self._weights.shape

    @property
    def num_layers(self) -> int:
        return self.shape[0]

    @property
    def num_heads(self) -> int:
        return self.shape[1]

    @property
    def n_query(self) -> int:
        return self.shape[2]

    @property
    def n_key(self) -> int:
        return self.shape[3]

    @property
    def query_tokens(self) -> list[str]:
        """Tokens of the query rows (the last `n_query` tokens, or the `query_tokens` given)."""
        if self._query_tokens is not None:
            return list(self._query_tokens)
        return self.tokens[self.n_key - self.n_query :]

    @property
    def is_causal(self) -> bool:
        if self._query_tokens is not None:
            return False
        return bool(np.array_equal(self.mask, self.mask & causal_mask(self.n_query, self.n_key))) and self.n_query > 1

    @property
    def is_lazy(self) -> bool:
        return self._source is not None

    @property
    def dtype(self) -> np.dtype:
        """How the weights are held (or would be, for lazy attention): float32 or float16."""
        return self._dtype

    @property
    def nbytes(self) -> int:
        """Bytes the full weights take at `dtype` (or would take, for lazy attention)."""
        L, H, Q, K = self.shape
        return L * H * Q * K * self._dtype.itemsize

    @property
    def weights(self) -> np.ndarray:
        """All weights, ``(layers, heads, n_query, n_key)``, as stored: float32, or float16 for
        attention held at float16 (`dtype`).

        For lazy attention they are computed on first access and kept; a `MemoryError` that says
        how big they would be is raised when they would not fit.
        """
        if self._weights is None:
            self._weights = self.materialize(max_bytes=_memory_budget())._weights
        return self._weights

    def materialize(self, max_bytes: int = DEFAULT_MAX_BYTES) -> Attention:
        """A materialised copy (itself when already materialised).

        Raises
        ------
        MemoryError
            When the weights would take more than `max_bytes`.
        """
        max_bytes = V.integer("max_bytes", max_bytes, low=0)
        if self._source is None:
            return self
        if self._weights is not None:  # computed earlier through .weights
            return self._replace(_source=None)
        if self.nbytes > max_bytes:
            L, H, Q, K = self.shape
            raise MemoryError(
                f"materialising this attention needs {self.nbytes / 2**30:.1f} GiB "
                f"({L} layers x {H} heads x {Q} x {K} {self._dtype.name}), over the {max_bytes / 2**30:.1f} GiB "
                "limit; ask for att.head(l, h), att.layer(l), att.rows(l, start, stop), "
                "att.pooled(layer, factor) or att.select(layers=..., heads=...) instead, or pass max_bytes"
            )
        # One zeroed array for the whole stack, each layer written in place: no copies to stack,
        # and a source that can (`fill`) writes only the cells its rows may see.
        w = lazy_zeros(self.shape, self._dtype)
        fill = getattr(self._source, "fill", None)
        for li in range(self.num_layers):
            if fill is not None:
                fill(li, w[li])
            else:
                self._source.block(li, None, 0, self.n_query, out=w[li])
        return self._replace(weights=w, _source=None)

    # ------------------------------------------------------------------ indexing

    def _layer_index(self, layer: Any, name: str = "layer") -> int:
        layer = V.integer(name, layer)
        if layer in self.layer_ids:
            return self.layer_ids.index(layer)
        if layer < 0 and -len(self.layer_ids) <= layer:
            return len(self.layer_ids) + layer
        raise AttentionIndexError(f"layer {layer} is not in this attention; it holds layers {_short(self.layer_ids)}")

    def _head_index(self, head: Any, name: str = "head") -> int:
        head = V.integer(name, head)
        if head in self.head_ids:
            return self.head_ids.index(head)
        if head < 0 and -len(self.head_ids) <= head:
            return len(self.head_ids) + head
        raise AttentionIndexError(f"head {head} is not in this attention; it holds heads {_short(self.head_ids)}")

    def _head_indices(self, heads: Any, name: str = "heads") -> list[int] | None:
        if heads is None:
            return None
        hi = [self._head_index(h, name) for h in V.int_list(name, heads, nonempty=True)]
        if len(set(hi)) != len(hi):
            raise AttentionError(f"{name} names the same head twice: {V.show(heads)}")
        return hi

    def layer(self, layer: int) -> np.ndarray:
        """``(heads, n_query, n_key)`` for one model layer number."""
        li = self._layer_index(layer)
        if self._weights is None:
            return self._source.block(li, None, 0, self.n_query)
        return _float32(self._weights[li])

    def head(self, layer: int, head: int) -> np.ndarray:
        """``(n_query, n_key)`` for one model layer and head number."""
        li, hi = self._layer_index(layer), self._head_index(head)
        if self._weights is None:
            return self._source.block(li, [hi], 0, self.n_query)[0]
        return _float32(self._weights[li, hi])

    def rows(self, layer: int, start: int, stop: int, heads: Sequence[int] | None = None) -> np.ndarray:
        """``(heads, stop - start, n_key)``: a block of query rows of one layer (cheap when lazy).

        ``0 <= start <= stop``; a `stop` past the last row is cut to `n_query`.
        """
        li = self._layer_index(layer)
        hi = self._head_indices(heads)
        start = V.integer("start", start, low=0, high=self.n_query)
        stop = V.integer("stop", stop)
        if stop < start:
            raise AttentionError(f"stop must be >= start ({start}); got {stop}")
        stop = min(self.n_query, stop)
        if self._weights is None:
            return self._source.block(li, hi, start, stop)
        w = self._weights[li, :, start:stop]
        return _float32(w if hi is None else w[hi])

    def iter_row_blocks(self, block: int = 256) -> Iterable[tuple[int, int, np.ndarray]]:
        """Yield ``(start, stop, weights[:, :, start:stop, :])`` over all layers, block by block
        (float32 whatever the storage).

        Metrics stream over these so lazy attention never holds layers x heads x n^2 at once.
        """
        block = V.integer("block", block, low=1)
        for start in range(0, self.n_query, block):
            stop = min(self.n_query, start + block)
            if self._weights is not None:
                yield start, stop, _float32(self._weights[:, :, start:stop])
            else:
                L, H, _, K = self.shape
                empty = getattr(self._source, "empty", None)
                shape = (L, H, stop - start, K)
                buf = empty(shape) if empty is not None else np.empty(shape, np.float32)
                for li in range(L):  # written in place: no per-layer copies to stack
                    self._source.block(li, None, start, stop, out=buf[li])
                yield start, stop, buf

    def pooled(self, layer: int, factor: int, heads: Sequence[int] | None = None) -> np.ndarray:
        """``(heads, ceil(Q/factor), ceil(K/factor))``: one layer max-pooled by `factor`.

        Computed block by block (``factor`` x a few rows at a time), so for lazy attention an
        overview of a long input never holds the full ``n x n`` map.
        """
        factor = V.integer("factor", factor, low=1)
        self._layer_index(layer)
        self._head_indices(heads)
        return pooled_rows(lambda start, stop: self.rows(layer, start, stop, heads=heads), self.n_query, factor)

    def kv_head_of(self, head: int) -> int:
        """The kv head that query head number `head` reads (grouped-query attention)."""
        head = V.integer("head", head, low=0, high=self.total_heads - 1)
        return head // (self.total_heads // self.num_kv_heads)

    def kv_group(self, layer: int, kv_head: int) -> np.ndarray:
        """``(heads_in_group, n_query, n_key)``: the held query heads that share one kv head."""
        kv_head = V.integer("kv_head", kv_head)
        if not 0 <= kv_head < self.num_kv_heads:
            raise AttentionIndexError(f"kv head {kv_head} out of range; the model has {self.num_kv_heads} kv heads")
        heads = [h for h in self.head_ids if self.kv_head_of(h) == kv_head]
        if not heads:
            raise AttentionIndexError(f"no held query head reads kv head {kv_head}")
        return self.rows(layer, 0, self.n_query, heads=heads)

    def fuse(self, fusion: str = "mean", layer: int | None = None) -> np.ndarray:
        """Fuse heads with mean, max or min.

        Returns ``(layers, n_query, n_key)``, or ``(n_query, n_key)`` when `layer` is given. Max and
        min fusions are renormalised over visible keys so rows remain distributions.
        """
        fusion = V.choice("fusion", fusion, HEAD_FUSIONS)
        if layer is not None:
            return fuse_heads(self.layer(layer), fusion, self.mask)
        return np.stack([fuse_heads(self.layer(lid), fusion, self.mask) for lid in self.layer_ids])

    def select(self, layers: Sequence[int] | None = None, heads: Sequence[int] | None = None) -> Attention:
        """A new `Attention` holding only some model layers and heads (in the order given)."""
        if layers is None:
            li = list(range(self.num_layers))
        else:
            li = [self._layer_index(lid, "layers") for lid in V.int_list("layers", layers, nonempty=True)]
            if len(set(li)) != len(li):
                raise AttentionError(f"layers names the same layer twice: {V.show(layers)}")
        hi = list(range(self.num_heads)) if heads is None else (self._head_indices(heads) or [])
        lsel = [self.layer_ids[i] for i in li]
        hsel = [self.head_ids[i] for i in hi]
        if self._source is not None:
            return self._replace(_source=self._source.subset(li, hi), layer_ids=lsel, head_ids=hsel)
        return self._replace(
            weights=self._weights[np.ix_(np.asarray(li), np.asarray(hi))], layer_ids=lsel, head_ids=hsel
        )

    def hide_tokens(self, hide: Iterable[int], layer: int | None = None) -> Attention:
        """A new `Attention` with the given key positions hidden and rows renormalised over the rest.

        The hidden columns are 0 and masked out (``mask[:, hide]`` is False); the ratios between the
        remaining keys are unchanged. Rows with no visible key left stay 0, and so do rows whose
        weight on the keys left is 0 as stored (everything on the hidden keys, the rest below the
        storage type's smallest number: float16 keeps nothing under about 6e-8). With `layer`, only
        that layer is kept. Lazy attention stays lazy.
        """
        hide = V.positions("hide", hide, self.n_key)
        att = self if layer is None else self.select(layers=[layer])
        keep = hidden_keys_mask(att.mask, hide)
        if att._source is not None:
            return att._replace(_source=_HiddenKeys(att._source, keep), mask=keep)
        if att._weights.dtype == np.float16:
            _warn_coarse_float16_rows(att._weights, keep)
        return att._replace(weights=renormalize(att._weights, keep), mask=keep)

    def merge(self, groups: Sequence[Sequence[int]], labels: Sequence[str] | None = None) -> Attention:
        """Attention between groups of tokens (to a group summed, from a group averaged); see
        `attnwidget.attention.words.merge`."""
        from attnwidget.attention.words import merge

        return merge(self, groups, labels)

    def to_words(self) -> Attention:
        """Attention between words instead of subword tokens; see `attnwidget.attention.words.to_words`."""
        from attnwidget.attention.words import to_words

        return to_words(self)

    # ------------------------------------------------------------------ persistence

    def _meta_dict(self) -> dict:
        return {
            "layer_ids": self.layer_ids,
            "head_ids": self.head_ids,
            "num_kv_heads": self.num_kv_heads,
            "total_heads": self.total_heads,
            "token_ids": self.token_ids,
            "offsets": self.offsets,
            "special": self.special,
            "query_tokens": self._query_tokens,
            "text": self.text,
            "meta": dict(self.meta),
        }

    def _replace(self, **changes: Any) -> Attention:
        kwargs = self._meta_dict()
        kwargs.update(
            meta=self.meta,
            generated=self.generated,
            mask=self.mask,
            tokens=self.tokens,
            weights=self._weights,
            _source=self._source,
            validate=False,
            dtype=self._dtype,
        )
        kwargs.update(changes)
        out = Attention(**kwargs)
        out._checked = self._checked  # slices, renormalised and computed copies of checked weights stay valid
        return out

    def save(self, path: str | Path, *, lazy: bool = False) -> None:
        """Save to the exact path given, as a compressed numpy archive (``.npz`` layout).

        The file holds plain arrays only (never pickles): ``format`` (JSON: ``{"format":
        "attnwidget.Attention", "version": 1, "kind": "weights"}``), ``weights`` (``(layers,
        heads, n_query, n_key)``, float32, or float16 when `dtype` is; it loads at that dtype),
        ``mask`` (bool ``(n_query, n_key)``), ``tokens`` (a JSON list of str), ``info`` (JSON: the fields ``layer_ids, head_ids, num_kv_heads, total_heads,
        token_ids, offsets, special, text, meta``) and, for generated text, ``generated`` (bool
        ``(n_query,)``).

        Lazy attention is computed into a temporary copy for the file; the object stays lazy. With
        ``lazy=True`` a lazy attention whose source exports its queries and keys (`QKSource`, and
        attention loaded from such a file) is saved as them instead (``"kind": "qk"``, members
        ``queries, keys, kv_index, scaling, softcap, window`` in place of ``weights``, in the
        queries' own dtype): far smaller for long inputs, and it loads lazy again.

        The file is written beside `path` and moved into place, so a failed save leaves no half file.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
        lazy = V.boolean("lazy", lazy)
        path = Path(path)
        if path.is_dir():
            raise AttentionError(f"path {str(path)!r} is a directory; expected a file name")
        if not path.parent.is_dir():
            raise FileNotFoundError(f"cannot save to {str(path)!r}: directory {str(path.parent)!r} does not exist")
        header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": "weights"}
        arrays: dict[str, Any] = {}
        if lazy:
            export = getattr(self._source, "export_qk", None)
            if export is None:
                raise AttentionError(
                    "save(lazy=True) needs lazy attention whose source exports its queries and keys "
                    + (
                        "(this attention holds its weights)"
                        if self._source is None
                        else f"(its source, {type(self._source).__name__}, does not)"
                    )
                    + "; save(path) stores the weights"
                )
            header["kind"] = "qk"
            arrays.update(export())
        else:
            weights = self._weights
            if weights is None:  # lazy: compute for the file only
                weights = self.materialize(max_bytes=_memory_budget())._weights
            arrays["weights"] = weights
        arrays.update(
            {
                "format": np.array(json.dumps(header)),
                "mask": self.mask,
                # JSON keeps token text exact (no pickle, no fixed-width unicode truncation).
                "tokens": np.array(json.dumps(self.tokens)),
                "info": np.array(json.dumps(self._meta_dict())),
            }
        )
        if self.generated is not None:
            arrays["generated"] = self.generated
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True) -> Attention:
        """Load what `save` wrote, from the exact path given.

        The file is checked against the format: a file that is empty, truncated, corrupt, a single
        ``.npy`` array, another kind of archive, from a newer version, or with fields missing or
        unknown raises `FileFormatError`; weights that fail the checks of `Attention` (NaN, rows
        not summing to 1) are refused unless ``validate=False`` is passed here (a file cannot turn
        validation off).
        """
        validate = V.boolean("validate", validate)
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {str(path)!r}")
        if path.is_dir():
            raise FileFormatError(f"{str(path)!r} is a directory, not an attnwidget file")
        name = repr(str(path))
        with open(path, "rb") as f:
            magic = f.read(6)
        if not magic:
            raise FileFormatError(f"{name} is empty (0 bytes); it is not an attnwidget file")
        if magic == b"\x93NUMPY":
            raise FileFormatError(
                f"{name} is a single numpy array (.npy), not an attnwidget file; wrap it with "
                "aw.Attention(np.load(path), tokens) instead"
            )
        if magic[:2] != b"PK":
            raise FileFormatError(f"{name} is not an attnwidget file (not a numpy .npz archive)")
        try:
            # The file is opened here, not by np.load: a damaged archive that np.load refuses
            # part-way must still have its handle closed.
            with open(path, "rb") as raw, np.load(raw, allow_pickle=False) as f:
                members = set(f.files)
                data = {k: f[k] for k in members & (_MEMBERS | set(_QK_MEMBERS))}
        except ValueError as e:
            if "pickle" in str(e):
                raise FileFormatError(
                    f"{name} holds a pickled object array; attnwidget files never do, and "
                    "pickles are not loaded (they can run code)"
                ) from None
            raise FileFormatError(f"{name} is damaged or truncated; it cannot be read ({e})") from None
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            EOFError,
            OSError,
            KeyError,
            NotImplementedError,
            RuntimeError,
        ) as e:  # zipfile's unknown versions, methods, encryption
            raise FileFormatError(f"{name} is damaged or truncated; it cannot be read ({e})") from None
        return cls._from_members(data, members, name, validate)

    @classmethod
    def _from_members(cls, data: dict, members: set, name: str, validate: bool) -> Attention:
        """Check the archive's members against the format and build the `Attention`."""
        required = {"weights", "mask", "tokens", "info"}
        allowed = set(_MEMBERS)
        if "format" not in members:
            raise FileFormatError(
                f"{name} is not an attnwidget file: it holds {sorted(members)}; expected "
                f"{sorted(required | {'format'})}"
            )
        header = _json_member(data, "format", name)
        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise FileFormatError(f"{name} is not an attnwidget file (its format header is {V.show(header)})")
        version = header.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise FileFormatError(f"{name} has an invalid format version {V.show(version)}")
        if version > FORMAT_VERSION:
            raise FileFormatError(
                f"{name} was written by a newer attnwidget (format version {version}); this one "
                f"reads versions up to {FORMAT_VERSION}: upgrade attnwidget"
            )
        kind = header.get("kind", "weights")
        if kind not in ("weights", "qk") or set(header) - {"format", "version", "kind"}:
            raise FileFormatError(f"{name} has an unknown format header {V.show(header)}")
        if kind == "qk":
            required = required - {"weights"} | set(_QK_MEMBERS)
            allowed = allowed - {"weights"} | set(_QK_MEMBERS)
        _check_fields(f"{name} does not match the attnwidget format", required - members, members - allowed, "")
        info = _json_member(data, "info", name)
        if not isinstance(info, dict):
            raise FileFormatError(f"{name}: info must be a JSON object; got {V.show(info)}")
        fields = set(info)
        _check_fields(
            f"{name}: info does not match the format",
            set(_INFO_FIELDS) - fields,
            fields - set(_INFO_FIELDS) - set(_INFO_OPTIONAL),
            " fields",
        )
        tokens = _json_member(data, "tokens", name)
        for key in ("weights", "mask", "generated"):
            if key in data and data[key].dtype.kind not in ("f" if key == "weights" else "b"):
                raise FileFormatError(
                    f"{name}: {key} has dtype {data[key].dtype}; the format stores "
                    + ("float weights" if key == "weights" else "a bool array")
                )
        source = None
        stored = data.get("weights")
        dtype = "float16" if stored is not None and stored.dtype == np.float16 else "float32"
        if kind == "qk":
            try:
                source = QKSource(
                    data["queries"],
                    data["keys"],
                    data["mask"],
                    kv_index=data["kv_index"],
                    scaling=data["scaling"],
                    softcap=data["softcap"],
                    window=data["window"],
                    check_finite=validate,
                )
            except AttentionError as e:
                raise FileFormatError(f"{name} holds invalid queries and keys: {e}") from None
        try:
            # Each field is passed by name: nothing else in the file reaches the constructor. The
            # weights are checked below, by the caller's choice only.
            att = cls(
                data.get("weights"),
                tokens,
                data["mask"],
                generated=data.get("generated"),
                _source=source,
                layer_ids=info["layer_ids"],
                head_ids=info["head_ids"],
                num_kv_heads=info["num_kv_heads"],
                total_heads=info["total_heads"],
                token_ids=info["token_ids"],
                offsets=info["offsets"],
                special=info["special"],
                text=info["text"],
                meta=info["meta"],
                validate=False,
                dtype=dtype,
                **{k: info.get(k, default) for k, default in _INFO_OPTIONAL.items()},
            )
        except AttentionError as e:
            raise FileFormatError(f"{name} holds an invalid attention: {e}") from None
        if validate and source is None:
            try:
                for li in range(att.num_layers):
                    att._validate(att._weights[li : li + 1], li)
            except AttentionError as e:
                raise FileFormatError(
                    f"{name} holds an invalid attention: {e} (Attention.load(path, "
                    "validate=False) reads it without this check)"
                ) from None
        return att

    def __repr__(self) -> str:
        L, H, Q, K = self.shape
        name = self.meta.get("model", "")
        kind = "lazy " if self.is_lazy else ""
        gqa = f", kv_heads={self.num_kv_heads}" if self.num_kv_heads != self.total_heads else ""
        gqa += f", dtype={self._dtype.name}" if self._dtype != np.float32 else ""
        preview = " ".join(repr(t) for t in self.tokens[:6]) + (" ..." if K > 6 else "")
        return (
            f"<{kind}Attention {name + ' ' if name else ''}layers={L} heads={H}{gqa} "
            f"n_query={Q} n_key={K} {'causal' if self.is_causal else 'bidirectional'}: {preview}>"
        )


def _memory_budget() -> int:
    """Bytes a full materialisation may take: half the memory now available, at most 8 GiB."""
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return DEFAULT_MAX_BYTES
    return min(DEFAULT_MAX_BYTES, avail // 2)


class QKSource:
    """Lazy attention from queries and keys held as numpy arrays (what ``save(lazy=True)`` writes).

    Layer ``l``, head ``h`` is ``softmax(cap(q_h k_(kv_index[h])^T * scaling[l]))`` over the keys
    that `mask` shows, limited to the last ``window[l]`` positions when ``window[l] > 0``, where
    ``cap(x) = softcap * tanh(x / softcap)`` when ``softcap[l]`` is not NaN. Computed in float32;
    a query row that sees no key is all zero. This is exact for models whose layers differ only by a
    sliding window; a source that records other per-layer masks should not export to it.

    Parameters
    ----------
    queries : array (layers, heads, n_query, d)
    keys : array (layers, kv_heads, n_key, d)
    mask : bool array (n_query, n_key)
    kv_index : int array (heads,), optional
        The kv head each query head reads (default ``h // (heads // kv_heads)``).
    scaling, softcap, window : arrays (layers,), optional
        Defaults ``1 / sqrt(d)``, NaN (no cap) and 0 (no window).
    """

    def __init__(
        self,
        queries: Any,
        keys: Any,
        mask: Any,
        *,
        kv_index: Any = None,
        scaling: Any = None,
        softcap: Any = None,
        window: Any = None,
        check_finite: bool = True,
    ):
        q = V.array("queries", queries, ndim=4, finite=check_finite)
        k = V.array("keys", keys, ndim=4, finite=check_finite)
        L, H, Q, d = q.shape
        if k.shape[0] != L or k.shape[3] != d or k.shape[1] < 1 or min(q.shape) == 0 or k.shape[2] == 0:
            raise AttentionError(
                f"queries {q.shape} and keys {k.shape} must be (layers, heads, n_query, d) and "
                "(layers, kv_heads, n_key, d) with the same layers and d"
            )
        K = k.shape[2]
        self.mask = V.bool_mask("mask", mask, (Q, K))
        group = max(1, H // k.shape[1])
        kv = np.arange(H) // group if kv_index is None else np.asarray(kv_index)
        if kv.shape != (H,) or kv.dtype.kind not in "iu" or kv.min() < 0 or kv.max() >= k.shape[1]:
            raise AttentionError(f"kv_index must hold one kv head in [0, {k.shape[1]}) per query head ({H})")

        def per_layer(name, value, default, kind):
            v = np.full(L, default) if value is None else np.asarray(value)
            if v.shape != (L,) or v.dtype.kind not in kind:
                raise AttentionError(f"{name} must hold one number per layer ({L}); got {V.show(value)}")
            return v

        self.scaling = per_layer("scaling", scaling, 1 / np.sqrt(d), "f").astype(np.float64)
        self.softcap = per_layer("softcap", softcap, np.nan, "f").astype(np.float64)
        self.window = per_layer("window", window, 0, "iu").astype(np.int64)
        if not np.all(np.isfinite(self.scaling)) or np.any(self.window < 0) or np.any(self.softcap <= 0):
            raise AttentionError("scaling must be finite, softcap positive (or NaN for none) and window >= 0")
        self.queries, self.keys, self.kv_index = q, k, kv.astype(np.int64)
        self.shape = (L, H, Q, K)

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> QKSource:
        li, hi = list(layer_idx), list(head_idx)
        return QKSource(
            self.queries[li][:, hi],
            self.keys[li],
            self.mask,
            kv_index=self.kv_index[hi],
            scaling=self.scaling[li],
            softcap=self.softcap[li],
            window=self.window[li],
            check_finite=False,
        )

    def block(
        self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        hi = np.arange(self.shape[1]) if head_idx is None else np.asarray(list(head_idx), dtype=np.int64)
        q = self.queries[li][hi, start:stop].astype(np.float32) * np.float32(self.scaling[li])
        k = self.keys[li][self.kv_index[hi]].astype(np.float32)
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        cap = self.softcap[li]
        if not np.isnan(cap):
            s = np.float32(cap) * np.tanh(s / np.float32(cap))
        vis = self.mask[start:stop]
        if self.window[li]:
            Q, K = self.shape[2:]
            rows = np.arange(start, stop)[:, None] + (K - Q)
            vis = vis & (np.arange(K)[None, :] > rows - self.window[li])
        s = np.where(vis, s, -np.inf)
        top = s.max(axis=-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(top), top, 0))
        total = e.sum(axis=-1, keepdims=True)
        p = np.divide(e, total, out=np.zeros_like(e), where=total > 0).astype(np.float32)
        if out is None:
            return p
        out[...] = p
        return out

    def export_qk(self) -> dict[str, np.ndarray]:
        """The arrays ``save(lazy=True)`` writes."""
        return {
            "queries": self.queries,
            "keys": self.keys,
            "kv_index": self.kv_index,
            "scaling": self.scaling,
            "softcap": self.softcap,
            "window": self.window,
        }


def _json_member(data: dict, key: str, name: str) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind != "U":
        raise FileFormatError(
            f"{name}: {key} must be a JSON string; got an array of shape {arr.shape} and dtype {arr.dtype}"
        )
    try:
        return json.loads(str(arr))
    except ValueError as e:
        raise FileFormatError(f"{name}: {key} is not valid JSON ({e})") from None


def _offsets(offsets: Any) -> list[tuple[int, int]]:
    items = V._sequence("offsets", offsets, "(start, end) pairs")
    if len(items) >= 64 and all(
        type(p) in (tuple, list) and len(p) == 2 and type(p[0]) is int and type(p[1]) is int for p in items
    ):
        # Plain int pairs (type() is int leaves bools out): checked as one array; the loop below
        # names the first bad pair.
        arr = np.array(items, dtype=np.int64)
        if (arr[:, 0] >= 0).all() and (arr[:, 1] >= arr[:, 0]).all():
            return [(a, b) for a, b in items]
    out = []
    for i, pair in enumerate(items):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise ArgumentTypeError(f"offsets must be (start, end) pairs of ints; item {i} is {V.show(pair)}")
        pair = list(pair)
        if len(pair) != 2:
            raise AttentionError(f"offsets must be (start, end) pairs of ints; item {i} is {V.show(pair)}")
        a = V.integer(f"offsets[{i}][0]", pair[0], low=0)
        b = V.integer(f"offsets[{i}][1]", pair[1], low=a)
        out.append((a, b))
    return out


def _short(ids: list[int]) -> str:
    if len(ids) > 8 and ids == list(range(ids[0], ids[0] + len(ids))):
        return f"{ids[0]}..{ids[-1]}"
    return str(ids)
