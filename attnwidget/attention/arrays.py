"""Numpy primitives on attention maps, shared by the whole package.

Maps are arrays whose last two axes are query rows and keys, ``(..., n_query, n_key)``; a mask is a
bool ``(n_query, n_key)`` array, True where the key is visible. These functions trust their inputs:
arguments from users are checked in `_validate` before they get here.

- masks: `causal_mask`, `infer_mask`, `hidden_keys_mask` (the mask with some key columns hidden);
- renormalising: `renormalize`, `hide_keys` (hide key columns and renormalise the rows),
  `coarse_float16_rows` (the rows that float16 storage leaves too few bits to renormalise);
- fusion of heads: `FUSIONS`, `fuse_heads`;
- pooling: `max_pool`, `pooled_rows` (max-pool a long map block by block of rows);
- storage: `lazy_zeros` (a large zero array whose pages are mapped only where written).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterable

import numpy as np

from attnwidget.errors import AttentionError

__all__ = [
    "FUSIONS",
    "causal_mask",
    "infer_mask",
    "hidden_keys_mask",
    "FLOAT16_NORMAL",
    "coarse_float16_rows",
    "renormalize",
    "hide_keys",
    "fuse_heads",
    "max_pool",
    "pooled_rows",
    "lazy_zeros",
]

FUSIONS = ("mean", "max", "min")

# Arrays at least this large come from `lazy_zeros`' own mapping; smaller ones from numpy.
_MAPPED_BYTES = 1 << 24


def causal_mask(n_query: int, n_key: int) -> np.ndarray:
    """Visible-key mask of a causal model whose queries are the last `n_query` of `n_key` tokens."""
    offset = n_key - n_query
    return np.arange(n_key)[None, :] <= (np.arange(n_query)[:, None] + offset)


def infer_mask(weights: np.ndarray) -> np.ndarray:
    """The visible-key mask of weights ``(..., Q, K)`` given without one: causal when every weight
    above the diagonal is exactly zero (and there is more than one query), otherwise all keys."""
    Q, K = weights.shape[-2:]
    causal = causal_mask(Q, K)
    if Q > 1 and not np.any(weights[..., ~causal]):
        return causal
    return np.ones((Q, K), dtype=bool)


def hidden_keys_mask(mask: np.ndarray, hide: Iterable[int]) -> np.ndarray:
    """A copy of `mask` with the key columns in `hide` set to False."""
    keep = np.array(mask, dtype=bool, copy=True)
    hide = list(hide)
    if hide:
        keep[..., hide] = False
    return keep


# float16's smallest normal number: weights below it keep fewer than 11 significant bits (0 under
# about 6e-8), so a row renormalised from such weights alone is coarse.
FLOAT16_NORMAL = 2.0**-14


def coarse_float16_rows(weights: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Which rows of float16-held weights keep under float16's normal range of their weight.

    The one rule for "too coarse to renormalise": a row that keeps at least one key but whose
    weight on the kept keys sums to less than `FLOAT16_NORMAL`. Held at float16 such weights have
    fewer than 11 significant bits (or are 0), so renormalising them gives a coarse row, or a row
    of zeros. Callers decide the policy (`Attention.hide_tokens` warns; analysis leaves the rows
    out); the rule only applies when the weights were stored as float16, which callers check.

    Parameters
    ----------
    weights : np.ndarray
        ``(..., n_query, n_key)`` weights as stored (any float dtype; summed in float32).
    keep : np.ndarray
        bool, broadcastable to `weights`: True where a key is kept.

    Returns
    -------
    np.ndarray
        bool ``(..., n_query)``: True for each coarse row.
    """
    kept = np.broadcast_to(keep, np.shape(weights))
    left = np.where(kept, weights, 0).sum(axis=-1, dtype=np.float32)
    return kept.any(axis=-1) & (left < FLOAT16_NORMAL)


def renormalize(weights: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Zero entries where ``keep`` is False and rescale each row to sum to 1 over the rest.

    Rows with nothing left stay all zero (float32 result).
    """
    w = np.where(keep, weights, 0).astype(np.float32)
    s = w.sum(axis=-1, keepdims=True)
    return np.divide(w, s, out=np.zeros_like(w), where=s > 0)


def hide_keys(weights: np.ndarray, mask: np.ndarray, hide: Iterable[int]) -> np.ndarray:
    """`weights` with the key columns in `hide` removed and each row renormalised over the visible
    keys left (`mask` minus `hide`)."""
    return renormalize(weights, hidden_keys_mask(mask, hide))


def fuse_heads(layer_weights: np.ndarray, fusion: str, mask: np.ndarray) -> np.ndarray:
    """Fuse ``(heads, Q, K)`` into ``(Q, K)`` by `fusion` (one of `FUSIONS`).

    The mean of distributions is a distribution; max and min results are renormalised over `mask`
    so rows stay distributions.
    """
    if fusion == "mean":
        return layer_weights.mean(axis=0)
    if fusion not in FUSIONS:
        raise AttentionError(f"fusion must be one of {FUSIONS}; got {fusion!r}")
    fused = layer_weights.max(axis=0) if fusion == "max" else layer_weights.min(axis=0)
    return renormalize(fused, mask)


def max_pool(maps: np.ndarray, factor: int) -> np.ndarray:
    """Max-pool the last two axes of `maps` by `factor` (edges padded with zeros).

    Max, not mean: an overview must still show a single strong weight, which a mean over a block
    would dilute below visibility.
    """
    if factor == 1:
        return maps
    *lead, q, k = maps.shape
    tq, tk = -(-q // factor), -(-k // factor)
    padded = np.zeros((*lead, tq * factor, tk * factor), dtype=maps.dtype)
    padded[..., :q, :k] = maps
    return padded.reshape(*lead, tq, factor, tk, factor).max(axis=(-3, -1))


def pooled_rows(rows: Callable[[int, int], np.ndarray], n_query: int, factor: int, block_rows: int = 256) -> np.ndarray:
    """Max-pool a map by `factor`, fetching ``rows(start, stop) -> (..., stop - start, K)`` a block
    at a time (a multiple of `factor` rows, about `block_rows`), so the whole map is never held."""
    if factor == 1:
        return rows(0, n_query)
    step = factor * max(1, block_rows // factor)
    parts = [max_pool(rows(start, min(n_query, start + step)), factor) for start in range(0, n_query, step)]
    return np.concatenate(parts, axis=-2)


def lazy_zeros(shape: tuple[int, ...], dtype: np.dtype | type = np.float32) -> np.ndarray:
    """A zero array whose memory the operating system maps only where it is written.

    Large arrays come from a private anonymous mapping: its pages read as zero and cost nothing
    until written, so a causal map written only on and below its diagonal never maps the pages
    that lie wholly above it (rows of several pages: a quarter of a 2048-token float32 map).
    (numpy's own zeros asks for huge pages, whose compaction makes first writes several times
    slower on some machines.) The mapping is freed with the last array that views it.
    """
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    nbytes = count * dtype.itemsize
    if nbytes < _MAPPED_BYTES or not hasattr(mmap, "MAP_PRIVATE"):  # small, or Windows
        return np.zeros(shape, dtype)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)
