"""The `Attention` type: one model's attention over one text.

Everything in attnwidget reads or writes this type. It owns validation (shapes, NaN, row sums,
token counts), the accessors, slicing by layer, head and kv-group, head fusion, hiding tokens and
the repr. Saving and loading are `Attention.save` and `Attention.load`, which call
`attnwidget.attention.io` (the file format); lazy sources are in `attnwidget.attention.sources`,
the merging of tokens into words in `attnwidget.attention.words`.

Weights may be held in memory (an array of shape ``(layers, heads, n_query, n_key)``, float32 or,
when asked for, float16: see `STORAGE_DTYPES`) or computed on demand from captured queries and keys
(a *lazy* attention, see `extract(lazy=True)`). Every accessor goes through `layer`, `head` and
`rows`, which give float32 whatever the storage, so every kind behaves the same.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget._validate import as_numpy as _as_numpy
from attnwidget.attention import io
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
from attnwidget.attention.sources import _HiddenKeys
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = [
    "Attention",
    "AttentionError",
    "storage_dtype",
    "step_row",
    "HEAD_FUSIONS",
    "STORAGE_DTYPES",
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


def step_row(prompt_length: int, step: int) -> int:
    """The query row whose attention produced generated token `step` (0-based) after a prompt of
    `prompt_length` tokens: the row of the token before it. The frontend's twin is
    ``generationStepRow`` in js/src/lib/selection.js."""
    return prompt_length - 1 + step


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
            w = V.layer_stack("weights", weights)
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
        self.offsets = None if offsets is None else V.offsets("offsets", offsets)
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
        self._meta = V.MetaDict(value)

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

    def merge(self, groups: Sequence[Sequence[int]], labels: Sequence[str] | None = None, *, query_groups: Any = None, query_labels: Any = None) -> Attention:  # fmt: skip
        """Attention between groups of tokens (to a group summed, from a group averaged); see
        `attnwidget.attention.words.merge` (cross-attention groups its query rows by `query_groups`)."""
        from attnwidget.attention.words import merge

        return merge(self, groups, labels, query_groups=query_groups, query_labels=query_labels)

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
        """Save to the exact path given, as a compressed numpy archive (``.npz`` layout) of plain
        arrays only (never pickles); `attnwidget.attention.io` describes the format. Weights are
        saved at `dtype` and load at it.

        Lazy attention is computed into a temporary copy for the file; the object stays lazy. With
        ``lazy=True`` a lazy attention whose source exports its queries and keys (`QKSource`, and
        attention loaded from such a file) is saved as them instead (``"kind": "qk"``, in the
        queries' own dtype): far smaller for long inputs, and it loads lazy again.

        The file is written beside `path` and moved into place, so a failed save leaves no half file.
        """
        io.save(self, path, lazy=lazy, max_bytes=_memory_budget())

    @classmethod
    def load(cls, path: str | Path, *, validate: bool = True) -> Attention:
        """Load what `save` wrote, from the exact path given.

        The file is checked against the format: a file that is empty, truncated, corrupt, a single
        ``.npy`` array, another kind of archive, from a newer version, or with fields missing or
        unknown raises `FileFormatError`; weights that fail the checks of `Attention` (NaN, rows
        not summing to 1) are refused unless ``validate=False`` is passed here (a file cannot turn
        validation off).
        """
        return io.load(path, validate=validate, cls=cls, max_bytes=_memory_budget())

    def __repr__(self) -> str:
        L, H, Q, K = self.shape
        name = V.visible(self.meta.get("model", ""))  # a bidi override must not reorder the repr
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


def _short(ids: list[int]) -> str:
    if len(ids) > 8 and ids == list(range(ids[0], ids[0] + len(ids))):
        return f"{ids[0]}..{ids[-1]}"
    return str(ids)
