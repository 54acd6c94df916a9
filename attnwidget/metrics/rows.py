"""Row-reduced attention metrics: exact definitions on ``(..., n_query, n_key)`` maps with a
visible-key mask (rollout and attention flow, which follow the layers, are `metrics.flow`'s).

Every function takes an `Attention` (whose own mask is used) or an array whose last two axes are
query rows and keys, and reduces those two axes: ``(layers, heads, Q, K)`` gives ``(layers, heads)``,
one ``(Q, K)`` map gives a scalar. Hidden entries (the future of a causal model, padding) never
count, and query rows that see no key are left out of every mean.

When ``Q < K`` the queries are the last ``Q`` positions (as in `Attention`), so position-based
definitions (locality, previous token, sinks) use absolute positions ``K - Q + row``.

Most metrics are sums over query rows, so they are computed block by block of rows: a lazy
`Attention` is streamed through `Attention.iter_row_blocks` and layers x heads x n^2 is never held
at once. `compute` runs several metrics in one pass over the blocks (`analysis.analyze` uses it).

Weights held at float16 (``Attention(dtype="float16")``, ``extract(dtype="float16")``, or a float16
array) are read as float32 block by block (logarithms in float32, the per-row sums of entropy,
locality and sink mass in float64), so a metric differs from the float32 weights' only through
float16's rounding of the weights themselves.

This module imports only numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.arrays import infer_mask
from attnwidget.attention.core import Attention
from attnwidget.errors import ArgumentTypeError, AttentionError, NoQualifyingRowError

__all__ = [
    "entropy",
    "sparsity",
    "coverage",
    "locality",
    "focus_consistency",
    "pattern_match",
    "confidence",
    "sink_mass",
    "compute",
    "pattern",
    "PATTERNS",
    "METRICS",
]

PATTERNS = ("previous_token", "first_token", "self", "duplicate_token", "induction")
"""The pattern names `pattern` and `pattern_match` know."""

# Elements per block of rows: large enough for vectorised numpy, small enough that a block and
# its temporaries stay near the CPU caches (float32, ~16 MB).
BLOCK_ELEMENTS = 1 << 22
# Rows fetched at once from a lazy attention (float32, ~256 MB): each fetch recomputes scores
# from the captured queries and keys, so fewer, larger fetches are much faster.
LAZY_BLOCK_ELEMENTS = 1 << 26

_TINY = np.finfo(np.float32).tiny


# ------------------------------------------------------------------------------- input handling


class _Maps:
    """The maps a metric reads: leading shape, mask, token ids, and blocks of query rows."""

    def __init__(
        self,
        x: Any,
        mask: Any = None,
        token_ids: Sequence[int] | None = None,
        probabilities: bool = True,
        allow_empty: bool = False,
    ):
        probabilities = V.boolean("probabilities", probabilities)
        if isinstance(x, Attention):
            if mask is not None:
                raise AttentionError("an Attention carries its own mask; pass mask only with a plain array")
            self.att: Attention | None = x
            self.array: np.ndarray | None = None
            if probabilities and not x._checked:  # built with validate=False
                V.probabilities("att", x.weights, x.mask)
            self.lead = (x.num_layers, x.num_heads)
            self.n_query, self.n_key = x.n_query, x.n_key
            self.mask = x.mask
            ids = x.token_ids if token_ids is None else token_ids
        else:
            self.att = None
            if isinstance(x, (str, bytes, dict, set)) or x is None:
                raise ArgumentTypeError(
                    f"att must be an Attention or an array of shape (..., n_query, n_key); got {V.show(x)}"
                )
            a = V.array("att", x, finite=False)
            if a.ndim < 2:
                raise AttentionError(
                    f"att must be an Attention or an array of shape (..., n_query, n_key); got shape {a.shape}"
                )
            if a.shape[-1] == 0 or a.shape[-2] == 0 or a.size == 0:
                raise AttentionError(f"att has no maps, query rows or keys: shape {a.shape}")
            if a.shape[-2] > a.shape[-1]:
                raise AttentionError(
                    f"more query rows ({a.shape[-2]}) than keys ({a.shape[-1]}); expected n_query <= n_key"
                )
            if not np.all(np.isfinite(a)):
                raise AttentionError("att weights contain NaN or infinity")
            self.array = a
            self.lead = a.shape[:-2]
            self.n_query, self.n_key = a.shape[-2:]
            self.mask = self._array_mask(a, mask)
            if not self.mask.any() and not allow_empty:
                raise AttentionError("the mask hides every key from every query; nothing to measure")
            if probabilities:
                V.probabilities("att", a, self.mask)
            elif a.min() < 0:
                raise AttentionError(
                    f"att weights must be >= 0 even when they are not probabilities; got minimum {a.min():.4g}"
                )
            ids = token_ids
        if ids is not None:
            id_arr = np.asarray(V.int_list("token_ids", ids, unique=False), dtype=np.int64)
            if id_arr.shape != (self.n_key,):
                raise AttentionError(f"token_ids must hold one id per key ({self.n_key}); got {id_arr.shape[0]}")
            self.token_ids: np.ndarray | None = id_arr
        else:
            self.token_ids = None
        self.offset = self.n_key - self.n_query
        self.live: np.ndarray = np.asarray(self.mask.any(axis=1))
        self.n_live = int(self.live.sum())
        if self.n_live == 0 and not allow_empty:
            raise AttentionError("the mask hides every key from every query; nothing to measure")

    def _array_mask(self, a: np.ndarray, mask: Any) -> np.ndarray:
        Q, K = a.shape[-2:]
        if mask is None:
            return infer_mask(a)  # the same rule Attention applies
        m = V.bool_mask("mask", mask)
        if m.shape != (Q, K):
            raise AttentionError(f"mask must have shape (n_query, n_key) = {(Q, K)}; got {m.shape}")
        return m

    def positions(self, start: int, stop: int) -> np.ndarray:
        """Absolute key positions of query rows ``start:stop``."""
        return np.arange(start, stop) + self.offset

    def blocks(self, elements: int | None = None) -> Iterator[_Rows]:
        elements = BLOCK_ELEMENTS if elements is None else elements
        per_row = max(1, int(np.prod(self.lead, dtype=np.int64)) * self.n_key)
        size = max(1, elements // per_row)
        if self.att is None:
            assert self.array is not None
            for s in range(0, self.n_query, size):
                e = min(s + size, self.n_query)
                block = self.array[..., s:e, :]
                # float16 arithmetic in numpy is slow and coarse: measure in float32.
                yield _Rows(self, s, e, block.astype(np.float32) if block.dtype == np.float16 else block)
            return
        # Lazy attention computes each block from queries and keys, with a fixed cost per call;
        # fetch larger blocks and measure them in cache-sized pieces.
        fetch = size if not self.att.is_lazy else max(size, LAZY_BLOCK_ELEMENTS // per_row)
        for start, stop, a in self.att.iter_row_blocks(block=fetch):
            for s in range(start, stop, size):
                e = min(s + size, stop)
                yield _Rows(self, s, e, a[..., s - start : e - start, :])


class _Rows:
    """A block of query rows of every map, with hidden entries zeroed and shared by all metrics.

    Columns past the last key any row of the block sees are dropped (a causal block of early rows
    reads only the first columns), so ``a`` is ``(..., rows, kc)`` with ``kc <= n_key``.
    """

    def __init__(self, maps: _Maps, start: int, stop: int, a: np.ndarray):
        vis = maps.mask[start:stop]
        cols = np.flatnonzero(vis.any(axis=0))
        kc = int(cols[-1]) + 1 if cols.size else 1
        vis = vis[:, :kc]
        a = a[..., :kc]
        # Softmax leaves exact zeros on hidden keys; copying the block to zero them again is only
        # needed when something is there (a few hidden entries per block are cheap to check).
        if not vis.all() and np.any(a[..., ~vis]):
            a = np.where(vis, a, a.dtype.type(0))
        self.maps, self.start, self.stop = maps, start, stop
        self.a, self.vis, self.kc = a, vis, kc
        self.pos = maps.positions(start, stop)
        self.live: np.ndarray = maps.live[start:stop]
        self.n_vis = vis.sum(axis=1)
        self._cache: dict[str, np.ndarray] = {}

    def cached(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def row_sum(self) -> np.ndarray:
        return self.cached("row_sum", lambda: self.a.sum(axis=-1, dtype=np.float64))

    @property
    def row_max(self) -> np.ndarray:
        return self.cached("row_max", lambda: self.a.max(axis=-1))

    def diagonal(self, shift: int) -> np.ndarray:
        """``a[..., r, pos_r - shift]`` per row (0 where that key does not exist or is hidden)."""

        def make():
            cols = self.pos - shift
            ok = (cols >= 0) & (cols < self.kc)
            rows = np.arange(self.stop - self.start)
            c = np.clip(cols, 0, self.kc - 1)
            vals = self.a[..., rows, c]
            return np.where(ok & self.vis[rows, c], vals, 0)

        return self.cached(f"diag{shift}", make)


def _finish(x: np.ndarray) -> np.ndarray | float:
    """Scalars for a single map, arrays otherwise."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


# ------------------------------------------------------------------------------- row accumulators


class _RowMean:
    """Mean over counted rows of a per-row statistic."""

    def __init__(self, maps: _Maps):
        self.maps = maps
        self.total = np.zeros(maps.lead, np.float64)
        self.count = 0

    def add(self, per_row: np.ndarray, rows: np.ndarray) -> None:
        self.total += np.where(rows, per_row, 0).sum(axis=-1)
        self.count += int(rows.sum())

    def result(self, what: str) -> np.ndarray:
        if self.count == 0:
            raise NoQualifyingRowError(f"{what}: no query row qualifies (see the definition in its docstring)")
        return self.total / self.count


class _Entropy(_RowMean):
    def __init__(self, maps, normalized: bool = False):
        super().__init__(maps)
        self.normalized = V.boolean("normalized", normalized)

    def update(self, r: _Rows) -> None:
        def plogp():
            a = r.a
            # max(a, tiny) keeps log finite at a = 0, and 0 * finite = 0 gives 0 ln 0 = 0 exactly.
            return (a * np.log(np.maximum(a, _TINY))).sum(axis=-1, dtype=np.float64)

        h = -r.cached("plogp", plogp)
        if self.normalized:
            rows = r.live & (r.n_vis > 1)
            h = h / np.log(np.maximum(r.n_vis, 2))
        else:
            rows = r.live
        self.add(h, rows)

    def result(self):
        return super().result("normalised entropy" if self.normalized else "entropy")


class _Sparsity:
    """Share of visible entries strictly below (or, for coverage, strictly above) a threshold."""

    def __init__(self, maps, threshold: float = 0.01, above: bool = False):
        self.maps, self.threshold, self.above = maps, V.fraction("threshold", threshold), above
        self.count = np.zeros(maps.lead, np.float64)
        self.visible = 0

    def update(self, r: _Rows) -> None:
        hit = (r.a > self.threshold) if self.above else (r.a < self.threshold)
        count = hit.sum(axis=(-2, -1), dtype=np.int64)
        # Hidden entries are zero in the block; when zero passes the test they must be taken out.
        if (0.0 > self.threshold) if self.above else (0.0 < self.threshold):
            count = count - int((~r.vis).sum())
        self.count += count
        self.visible += int(r.n_vis.sum())

    def result(self):
        return self.count / self.visible


class _Locality(_RowMean):
    def update(self, r: _Rows) -> None:
        dist = np.abs(r.pos[:, None] - np.arange(r.kc)[None, :]).astype(r.a.dtype)
        spread = (r.a * dist).sum(axis=-1, dtype=np.float64)
        self.add(1.0 / (1.0 + spread), r.live)

    def result(self):
        return super().result("locality")


class _Confidence(_RowMean):
    def update(self, r: _Rows) -> None:
        self.add(r.row_max, r.live)

    def result(self):
        return super().result("confidence")


class _SinkMass(_RowMean):
    def __init__(self, maps, k: int = 1):
        super().__init__(maps)
        if maps.n_key < 2:
            raise AttentionError("sink_mass needs at least two keys (the sink and a query after it)")
        self.k = V.integer("k", k, low=1, high=maps.n_key - 1)

    def update(self, r: _Rows) -> None:
        mass = r.a[..., : self.k].sum(axis=-1, dtype=np.float64)
        self.add(mass, r.live & (r.pos >= self.k))

    def result(self):
        return super().result(f"sink mass (k={self.k})")


class _FocusConsistency:
    def __init__(self, maps, top_k: int = 3):
        top_k = V.integer("top_k", top_k, low=1)
        self.maps, self.k = maps, int(min(top_k, maps.n_key))
        self.col_sum = np.zeros(maps.lead + (maps.n_key,), np.float64)
        self.col_vis = np.zeros(maps.n_key, np.int64)
        self.top = np.zeros(maps.lead + (maps.n_query, self.k), np.int32)
        self.valid_top = np.zeros(maps.lead + (maps.n_query, self.k), bool)

    def update(self, r: _Rows) -> None:
        self.col_sum[..., : r.kc] += r.a.sum(axis=-2, dtype=np.float64)
        self.col_vis[: r.kc] += r.vis.sum(axis=0)
        # Hidden keys rank below every visible one (-1 < any probability) and are dropped after.
        score = np.where(r.vis, r.a, -1) if not r.vis.all() else r.a
        k = min(self.k, r.kc)
        if k == r.kc:
            idx = np.broadcast_to(np.arange(r.kc), score.shape).copy()
        elif k <= 8:
            # A few vectorised argmax passes beat a per-row selection (argpartition) by ~3x.
            work = score.copy()
            idx = np.empty(score.shape[:-1] + (k,), np.intp)
            for t in range(k):
                idx[..., t] = work.argmax(axis=-1)
                np.put_along_axis(work, idx[..., t : t + 1], -np.inf, axis=-1)
        else:
            idx = np.argpartition(score, r.kc - k, axis=-1)[..., r.kc - k :]
        picked_vis = np.take_along_axis(np.broadcast_to(r.vis, score.shape), idx, axis=-1)
        self.top[..., r.start : r.stop, :k] = idx
        self.valid_top[..., r.start : r.stop, :k] = picked_vis & r.live[:, None]

    def result(self):
        col_sum = np.take_along_axis(
            self.col_sum[..., None, :], self.top.reshape(self.maps.lead + (1, -1)), axis=-1
        ).reshape(self.top.shape)
        num = np.where(self.valid_top, col_sum, 0).sum(axis=-1)
        den = np.where(self.valid_top, self.col_vis[self.top], 0).sum(axis=-1)
        per_row = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        rows = self.valid_top.any(axis=-1)
        return np.where(rows, per_row, 0).sum(axis=-1) / np.maximum(rows.sum(axis=-1), 1)


class _PatternMatch:
    def __init__(self, maps, pattern: Any):
        self.maps = maps
        self.num = np.zeros(maps.lead, np.float64)
        self.den = np.zeros(maps.lead, np.float64)
        self.aimed = self.reach = np.zeros((), bool)
        if isinstance(pattern, str):
            if pattern not in PATTERNS:
                raise AttentionError(f"unknown pattern {pattern!r}; expected one of {PATTERNS} or an array")
            if pattern in ("duplicate_token", "induction") and maps.token_ids is None:
                raise AttentionError(
                    f"pattern {pattern!r} needs token ids: pass token_ids= (an Attention from aw.extract carries them)"
                )
            self.name: str | None = pattern
            self.array: np.ndarray | None = None
        else:
            if pattern is None or isinstance(pattern, (bytes, dict, set)):
                raise ArgumentTypeError(f"pattern must be one of {PATTERNS} or an array; got {V.show(pattern)}")
            p = V.array("pattern", pattern, floating=False, finite=False)
            if p.dtype == bool:
                p = p.astype(np.float32)
            full = maps.lead + (maps.n_query, maps.n_key)
            if p.shape not in ((maps.n_query, maps.n_key), full):
                raise AttentionError(
                    f"pattern array must have shape (n_query, n_key) = {(maps.n_query, maps.n_key)} "
                    f"or the attention's full shape {full}; got {p.shape}"
                )
            if not np.issubdtype(p.dtype, np.number) or not np.all(np.isfinite(p)):
                raise AttentionError("pattern array must hold finite numbers")
            if p.size and (p.min() < 0 or p.max() > 1):
                raise AttentionError(
                    f"pattern array must hold weights in [0, 1] (1 where the pattern expects attention); "
                    f"got range [{p.min():.4g}, {p.max():.4g}]"
                )
            self.name = None
            self.array = p

    def update(self, r: _Rows) -> None:
        self.den += r.row_sum.sum(axis=-1)
        p = self.rows_pattern(r)
        # Whether the pattern expects attention anywhere, and anywhere the mask lets it fall: a
        # pattern whose keys are all hidden (first_token with the sinks apart) scores 0 by construction.
        self.aimed = self.aimed | (p > 0).any(axis=(-2, -1))
        self.reach = self.reach | ((p > 0) & r.vis).any(axis=(-2, -1))
        if self.name == "previous_token":
            hit = r.diagonal(1).sum(axis=-1, dtype=np.float64)
        elif self.name == "self":
            hit = r.diagonal(0).sum(axis=-1, dtype=np.float64)
        elif self.name == "first_token":
            hit = r.a[..., 0].sum(axis=-1, dtype=np.float64)
        else:
            hit = (r.a * p).sum(axis=(-2, -1), dtype=np.float64)
        self.num += hit

    def rows_pattern(self, r: _Rows) -> np.ndarray:
        """The pattern's rows ``start:stop`` over the block's columns."""
        if self.array is not None:
            return self.array[..., r.start : r.stop, : r.kc]
        i, j = r.pos[:, None], np.arange(r.kc)[None, :]
        if self.name == "previous_token":
            p = j == i - 1
        elif self.name == "self":
            p = j == i
        elif self.name == "first_token":
            p = np.broadcast_to(j == 0, (len(r.pos), r.kc))
        else:
            ids = self.maps.token_ids
            if self.name == "duplicate_token":  # an earlier occurrence of the same token
                p = (ids[None, : r.kc] == ids[r.pos][:, None]) & (j < i)
            else:  # induction: the token that followed an earlier occurrence of the current one
                before = np.concatenate([ids[:1], ids[: r.kc - 1]])  # id of key j - 1 (j >= 1)
                p = (j >= 1) & (before[None, :] == ids[r.pos][:, None]) & (j <= i)
        return p.astype(r.a.dtype)

    def result(self):
        if np.any(self.den <= 0):
            raise AttentionError("pattern_match: a map carries no visible attention (sum of A is 0)")
        blind = np.broadcast_to(self.aimed & ~self.reach, self.num.shape)
        if blind.any():
            what = f"pattern {self.name!r}" if self.name else "the pattern array"
            warnings.warn(
                f"pattern_match: {what} expects attention only on keys the mask hides (hidden tokens such as "
                f"sinks, or future tokens) in {int(blind.sum())} of {blind.size} maps; their share is NaN, not 0 "
                "(measure it with those keys visible: hide=None)",
                stacklevel=2,
            )
        return np.where(blind, np.nan, self.num / self.den)


METRICS: dict[str, Callable[..., Any]] = {
    "entropy": _Entropy,
    "sparsity": _Sparsity,
    "coverage": lambda maps, threshold=0.01: _Sparsity(maps, threshold, above=True),
    "locality": _Locality,
    "focus_consistency": _FocusConsistency,
    "pattern_match": _PatternMatch,
    "confidence": _Confidence,
    "sink_mass": _SinkMass,
}
"""Metric name -> its row accumulator, for `compute` (one pass over the row blocks for several metrics)."""


def _stream(maps: _Maps, accumulators: Sequence[Any]) -> None:
    if _stream_row_stats(maps, accumulators):
        return
    for rows in maps.blocks():
        for acc in accumulators:
            acc.update(rows)


def _stream_row_stats(maps: _Maps, accumulators: Sequence[Any]) -> bool:
    """Entropy and sink mass of a lazy `Attention` whose source reduces its own blocks
    (``row_stats``, as captured attention does on the device): the per-row sums arrive without
    any ``n^2`` array reaching numpy. Returns False (nothing done) when that path does not apply."""
    att = maps.att
    if att is None or att._weights is not None:
        return False
    row_stats = getattr(att._source, "row_stats", None)
    if row_stats is None:
        return False
    if not all(type(a) in (_Entropy, _SinkMass) for a in accumulators):
        return False
    plogp = any(type(a) is _Entropy for a in accumulators)
    sinks = sorted({a.k for a in accumulators if type(a) is _SinkMass})
    n_vis = maps.mask.sum(axis=1)
    # Whole layers at a time: the source bounds its own memory (blocks of rows, or a fused kernel
    # that needs a whole layer), and only (heads, n_query) sums come back per layer.
    per_layer = [row_stats(li, 0, maps.n_query, plogp=plogp, sink=sinks) for li in range(maps.lead[0])]
    live, pos = maps.live, maps.positions(0, maps.n_query)
    for acc in accumulators:
        if type(acc) is _Entropy:
            h = -np.stack([s["plogp"] for s in per_layer])
            if acc.normalized:
                acc.add(h / np.log(np.maximum(n_vis, 2)), live & (n_vis > 1))
            else:
                acc.add(h, live)
        else:
            mass = np.stack([s[("sink", acc.k)] for s in per_layer])
            acc.add(mass, live & (pos >= acc.k))
    return True


def compute(
    att: Any,
    metrics: Mapping[str, tuple[str, dict] | str],
    mask: Any = None,
    token_ids: Sequence[int] | None = None,
    *,
    probabilities: bool = True,
) -> dict[str, Any]:
    """Several metrics in one pass over the query rows.

    Parameters
    ----------
    att : Attention or array (..., n_query, n_key)
    metrics : dict
        Output name -> metric name (a key of `METRICS`) or ``(metric name, keyword arguments)``,
        e.g. ``{"h": "entropy", "prev": ("pattern_match", {"pattern": "previous_token"})}``.
    mask, token_ids, probabilities
        As for the single metrics.

    Returns
    -------
    dict
        Output name -> array of the leading shape (a float for one map).
    """
    if not isinstance(metrics, Mapping):
        raise ArgumentTypeError(f"metrics must be a dict of output name -> metric name; got {V.show(metrics)}")
    specs = {}
    kwargs: Mapping[str, Any]
    for out, spec in metrics.items():
        if isinstance(spec, str):
            name, kwargs = spec, {}
        elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], Mapping):
            name, kwargs = spec
        else:
            raise ArgumentTypeError(
                f"metrics[{out!r}] must be a metric name or (metric name, dict of keyword arguments); "
                f"got {V.show(spec)}"
            )
        name = V.choice(f"metrics[{out!r}]", name, sorted(METRICS))
        specs[out] = (name, dict(kwargs))
    maps = _Maps(att, mask, token_ids, probabilities)
    accs = {}
    for out, (name, kwargs) in specs.items():
        allowed = _KEYWORDS[name]
        extra = sorted(set(kwargs) - set(allowed))
        if extra:
            raise ArgumentTypeError(
                f"{name} takes no argument {', '.join(map(str, extra))}; it takes {list(allowed) or 'none'}"
            )
        accs[out] = METRICS[name](maps, **kwargs)
    _stream(maps, list(accs.values()))
    return {out: _finish(acc.result()) for out, acc in accs.items()}


# Keyword arguments each metric takes through `compute`.
_KEYWORDS = {
    "entropy": ("normalized",),
    "sparsity": ("threshold",),
    "coverage": ("threshold",),
    "locality": (),
    "focus_consistency": ("top_k",),
    "pattern_match": ("pattern",),
    "confidence": (),
    "sink_mass": ("k",),
}


def _one(metric: str, att, mask, token_ids=None, probabilities=True, **kwargs):
    return compute(att, {metric: (metric, kwargs)}, mask, token_ids, probabilities=probabilities)[metric]


# ------------------------------------------------------------------------------- public metrics


def entropy(att: Any, mask: Any = None, *, normalized: bool = False, probabilities: bool = True):
    """Mean over query rows of the row entropy ``-sum_j a_ij ln a_ij`` in nats (``0 ln 0 = 0``).

    Parameters
    ----------
    att : Attention or array (..., n_query, n_key)
        Probabilities. For an `Attention` its own mask is used.
    mask : bool array (n_query, n_key), optional
        True where the key is visible (or 0/1 numbers). When omitted it is inferred as
        `Attention` does: causal when every weight above the diagonal is exactly zero, otherwise
        all keys visible.
    normalized : bool
        Divide each row's entropy by ``ln(number of visible keys)`` so 1 means uniform; rows with a
        single visible key are left out.
    probabilities : bool
        An array is checked to hold distributions (weights in [0, 1], nothing on hidden keys,
        every row that sees a key summing to 1) unless this is False, for maps that are not
        distributions (scores, norms); then only finite, non-negative weights are required. An
        `Attention` was checked when it was built, unless with ``validate=False``: then it is
        checked here.

    Returns
    -------
    float or ndarray
        The leading shape of `att` (``(layers, heads)`` for an `Attention`).
    """
    return _one("entropy", att, mask, probabilities=probabilities, normalized=normalized)


def sparsity(att: Any, mask: Any = None, *, threshold: float = 0.01, probabilities: bool = True):
    """Fraction of visible entries strictly below `threshold` (hidden entries never count).

    Parameters
    ----------
    att, mask, probabilities
        As for `entropy`.
    threshold : float
        Weights below it count as negligible (default 0.01); a finite number in [0, 1].
    """
    return _one("sparsity", att, mask, probabilities=probabilities, threshold=threshold)


def coverage(att: Any, mask: Any = None, *, threshold: float = 0.01, probabilities: bool = True):
    """Fraction of visible entries strictly above `threshold` (in [0, 1]): how much of the map is used."""
    return _one("coverage", att, mask, probabilities=probabilities, threshold=threshold)


def locality(att: Any, mask: Any = None, *, probabilities: bool = True):
    """Mean over query rows of ``1 / (1 + sum_j |i - j| a_ij)``: 1 when each query attends to itself.

    ``i`` and ``j`` are absolute token positions (the queries are the last ``n_query`` keys).
    """
    return _one("locality", att, mask, probabilities=probabilities)


def focus_consistency(att: Any, mask: Any = None, *, top_k: int = 3, probabilities: bool = True):
    """Do all queries look where each query looks most?

    For each query row ``i`` take its `top_k` visible keys ``T_i``; the score is the mean over rows of
    the mean of the visible entries of ``A[:, T_i]`` (all query rows, those key columns). Rows with
    fewer than `top_k` visible keys use all of them.
    """
    return _one("focus_consistency", att, mask, probabilities=probabilities, top_k=top_k)


def pattern_match(
    att: Any, pattern: Any, mask: Any = None, *, token_ids: Sequence[int] | None = None, probabilities: bool = True
):
    """Share of the attention that falls on a pattern: ``sum(A * P) / sum(A)`` over visible entries.

    Parameters
    ----------
    att, mask, probabilities
        As for `entropy`.
    pattern : str or array
        A named pattern (see `pattern`) or an array ``P`` of shape ``(n_query, n_key)`` or the full
        shape of `att`; boolean arrays count as 0/1.
    token_ids : sequence of int, optional
        One id per key; needed by ``"duplicate_token"`` and ``"induction"`` for plain arrays (an
        `Attention` from `aw.extract` carries its own).
    """
    return _one("pattern_match", att, mask, token_ids=token_ids, probabilities=probabilities, pattern=pattern)


def pattern(name: str, n_query: int, n_key: int | None = None, token_ids: Sequence[int] | None = None) -> np.ndarray:
    """The 0/1 matrix ``(n_query, n_key)`` of a named pattern (for display and for checking).

    ``previous_token``: key ``i - 1``; ``first_token``: key 0; ``self``: key ``i``;
    ``duplicate_token``: earlier keys with the same token id as ``i``; ``induction``: keys ``j <= i``
    whose previous token ``j - 1 < i`` has the same id as ``i`` (the token that followed an earlier
    occurrence). ``i`` is the absolute position of the query row.
    """
    name = V.choice("name", name, PATTERNS)
    n_query = V.integer("n_query", n_query, low=1)
    n_key = n_query if n_key is None else V.integer("n_key", n_key, low=n_query)
    dummy = np.zeros((n_query, n_key), np.float32)
    maps = _Maps(dummy, np.ones((n_query, n_key), bool), token_ids, probabilities=False)
    pm = _PatternMatch(maps, name)
    return pm.rows_pattern(_Rows(maps, 0, n_query, dummy))


def confidence(att: Any, mask: Any = None, *, probabilities: bool = True):
    """Mean over query rows of the largest weight ``max_j a_ij``."""
    return _one("confidence", att, mask, probabilities=probabilities)


def sink_mass(att: Any, mask: Any = None, *, k: int = 1, probabilities: bool = True):
    """Mean over query rows at positions ``i >= k`` of the attention on the first `k` keys."""
    return _one("sink_mass", att, mask, probabilities=probabilities, k=k)
