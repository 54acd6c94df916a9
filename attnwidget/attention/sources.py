"""Lazy sources: what a lazy `Attention` computes its weights from, block by block.

- `AttentionSource`: the protocol every source follows (``shape``, ``block``, ``subset``; optional
  ``empty``, ``fill`` and ``export_qk``);
- `QKSource`: softmax of queries and keys held as numpy arrays (what ``save(lazy=True)`` writes and
  `Attention.load` reads back);
- `_HiddenKeys`: another source with some key columns hidden (`Attention.hide_tokens` on lazy
  attention).

Sources that need torch (the capture path's `CapturedQK`) live in ``attnwidget.extraction``; the
ones here need numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.arrays import renormalize
from attnwidget.errors import AttentionError

__all__ = ["AttentionSource", "QKSource"]


@runtime_checkable
class AttentionSource(Protocol):
    """What a lazy `Attention` reads its weights from.

    ``shape`` is ``(layers, heads, n_query, n_key)``; indices below are positions in that shape
    (not model layer or head numbers).
    """

    shape: tuple[int, int, int, int]

    def block(
        self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Probabilities ``(heads, stop - start, n_key)`` float32 of one layer, into `out` if given."""

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> AttentionSource:
        """The same source restricted to some layers and heads."""

    def mask(self) -> np.ndarray:
        """Bool ``(n_query, n_key)``: keys visible to each query in any held layer."""

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        """An uninitialised float32 array to write blocks into."""


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
