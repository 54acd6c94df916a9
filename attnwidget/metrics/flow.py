"""Metrics that follow attention through the layers: rollout, its rows, and attention flow.

Owns `rollout` (Abnar & Zuidema's composed attention), `rollout_step` (the one residual and
renormalisation step every rollout here composes), `rollout_with_hidden` and `rollout_rows` (the
rollout the views draw: hidden keys removed, and single rows for long inputs), and
`attention_flow` (max-flow through the layered graph). Row-reduced metrics live in
`attnwidget.metrics.rows`.

This module imports only numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.arrays import FUSIONS, fuse_heads, hidden_keys_mask, renormalize
from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError
from attnwidget.metrics.rows import _Maps

__all__ = [
    "rollout",
    "rollout_step",
    "rollout_with_hidden",
    "rollout_rows",
    "attention_flow",
    "MAX_FLOW_TOKENS",
]

# attention_flow solves one max-flow problem per (query, key) pair over a graph of
# layers x tokens^2 edges in pure Python; past this many tokens it takes minutes.
MAX_FLOW_TOKENS = 32
"""Most tokens `attention_flow` takes (one max-flow per query-key pair in pure Python); use `rollout` past it."""
# Query rows of one layer `rollout_rows` holds at once: a block of rows per layer, never a layer.
ROW_BLOCK = 512


def _layer_maps(att: Any, fusion: str, mask: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Per-layer head-fused ``(n, n)`` maps and the mask, for rollout and flow."""
    fusion = V.choice("fusion", fusion, FUSIONS)
    if isinstance(att, Attention):
        if mask is not None:
            raise AttentionError("an Attention carries its own mask; pass mask only with a plain array")
        if att.n_query != att.n_key:
            raise AttentionError(
                f"rollout needs square maps (every token a query); got n_query={att.n_query}, n_key={att.n_key}"
            )
        ids = att.layer_ids
        if ids != list(range(ids[0], ids[0] + len(ids))):
            raise AttentionError(
                f"rollout composes consecutive layers; this attention holds layers {ids} "
                "(extract with layers=None or a contiguous range)"
            )
        return [att.fuse(fusion, layer=lid) for lid in ids], att.mask
    # Every key hidden (a one-token text with its token hidden) is valid: each token keeps itself.
    maps = _Maps(att, mask, allow_empty=True)
    a = maps.array
    assert a is not None  # an array, not an Attention
    if a.ndim != 4:
        raise AttentionError(
            f"rollout needs (layers, heads, n, n) weights; got shape {a.shape} (for fused maps pass a[:, None])"
        )
    if maps.n_query != maps.n_key:
        raise AttentionError(f"rollout needs square maps; got {maps.n_query} queries x {maps.n_key} keys")
    return [fuse_heads(renormalize(a[li], maps.mask), fusion, maps.mask) for li in range(a.shape[0])], maps.mask


def _residual(layer: np.ndarray, residual: float) -> np.ndarray:
    return rollout_step(layer, 0, residual)


def rollout_step(rows: np.ndarray, start: int, residual: float) -> np.ndarray:
    """Query rows ``start:start + len(rows)`` of one layer's rollout step ``A' = residual * I +
    (1 - residual) * A``, each row renormalised: what `rollout` composes, for callers that chain
    a few rows through the layers block by block (``widgets/rollout.py``) instead of whole matrices.

    Parameters
    ----------
    rows : ndarray (r, n)
        Head-fused attention of queries ``start .. start + r - 1`` of a square map.
    """
    r, n = rows.shape[-2:]
    idx = np.arange(r)
    eye = np.zeros((r, n))
    eye[idx, start + idx] = 1.0
    aug = residual * eye + (1.0 - residual) * rows.astype(np.float64)
    # Rows are distributions over keys: normalise over the last axis (keys), not over queries.
    # A query that sees no key (possible with a user mask) passes its own token on unchanged.
    s = aug.sum(axis=-1, keepdims=True)
    return np.where(s > 0, aug / np.where(s > 0, s, 1), eye)


def rollout(att: Any, mask: Any = None, *, residual: float = 0.5, fusion: str = "mean") -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): attention composed through the layers.

    Per layer the heads are fused (`fusion`: mean, max or min), the residual connection is
    added as ``A' = residual * I + (1 - residual) * A`` and each row is renormalised to sum to 1
    (a query that sees no key keeps its own token); then ``R_0 = A'_0`` and ``R_l = A'_l @ R_(l-1)``.

    Parameters
    ----------
    att : Attention or array (layers, heads, n, n)
        Square maps of consecutive layers (arrays must hold distributions).
    residual : float
        Weight of the identity, in [0, 1] (default 0.5).
    fusion : str
        Head fusion, ``"mean"`` (default), ``"max"`` or ``"min"``.

    Returns
    -------
    ndarray (n, n)
        Row ``i`` is how much each input token contributes to position ``i`` after the last layer.
        Which row to read is the caller's choice (the first token for encoders, the last or any
        chosen token for decoders).
    """
    residual = V.fraction("residual", residual)
    layers, _ = _layer_maps(att, fusion, mask)
    out = None
    for layer in layers:
        aug = _residual(layer, residual)
        out = aug if out is None else aug @ out
    assert out is not None  # every attention holds at least one layer
    return out


def attention_flow(
    att: Any,
    mask: Any = None,
    *,
    residual: float = 0.5,
    fusion: str = "mean",
    query: int | None = None,
) -> np.ndarray:
    """Attention flow (Abnar & Zuidema, 2020): max-flow from each output position to each input.

    The graph has a node per token per layer boundary; token ``i`` above layer ``l`` sends to token
    ``j`` below it with capacity ``A'_l[i, j]`` (the residual-augmented, renormalised, head-fused map
    as in `rollout`). The flow from ``i`` to ``j`` is the maximum flow from token ``i`` at the top to
    token ``j`` at the input.

    Parameters
    ----------
    att, mask, residual, fusion
        As for `rollout`.
    query : int, optional
        Only this output position (one row); default every row.

    Returns
    -------
    ndarray (n, n), or (n,) for one `query`

    Raises
    ------
    AttentionError
        Above `MAX_FLOW_TOKENS` tokens: one max-flow per (query, key) pair on a graph of
        ``layers x n^2`` edges is too slow in pure Python; use `rollout` there.
    """
    residual = V.fraction("residual", residual)
    layers, _ = _layer_maps(att, fusion, mask)
    n = layers[0].shape[-1]
    if query is not None:
        query = _check_query(query, n)
    if n > MAX_FLOW_TOKENS:
        raise AttentionError(
            f"attention_flow is limited to {MAX_FLOW_TOKENS} tokens (got {n}): it solves n^2 max-flow "
            "problems over layers x n^2 edges; use rollout for longer inputs"
        )
    caps = [_residual(layer, residual) for layer in layers]
    queries = range(n) if query is None else [query]
    out = np.zeros((len(queries), n))
    for qi, q in enumerate(queries):
        for j in range(n):
            out[qi, j] = _layered_max_flow(caps, q, j)
    return out[0] if query is not None else out


def _check_query(query: int, n: int) -> int:
    query = V.integer("query", query)
    if not -n <= query < n:
        from attnwidget.errors import AttentionIndexError

        raise AttentionIndexError(f"query must be a token position in [-{n}, {n}); got {query}")
    return query % n


def _layered_max_flow(caps: list[np.ndarray], source: int, sink: int) -> float:
    """Max flow from token `source` above the last layer to token `sink` below the first.

    Node ``(b, t)``: token ``t`` at layer boundary ``b`` (0 = input, L = output). Edge
    ``(b + 1, i) -> (b, j)`` has capacity ``caps[b][i, j]``. Dinic's algorithm: BFS levels on the
    residual graph, then blocking flow by DFS.
    """
    L = len(caps)
    # Residual capacities: down[b][i, j] on (b+1, i) -> (b, j); up[b][i, j] on (b, j) -> (b+1, i).
    down = [c.copy() for c in caps]
    up = [np.zeros_like(c) for c in caps]
    eps = 1e-12
    src, dst = (L, source), (0, sink)
    total = 0.0
    while True:
        level = {src: 0}
        frontier = [src]
        while frontier and dst not in level:
            nxt = []
            for b, t in frontier:
                for node, _ in _neighbours(down, up, b, t, L, eps):
                    if node not in level:
                        level[node] = level[(b, t)] + 1
                        nxt.append(node)
            frontier = nxt
        if dst not in level:
            return total
        dead: set = set()
        while True:
            pushed = _augment(down, up, level, src, dst, L, eps, dead)
            if pushed <= eps:
                break
            total += pushed


def _neighbours(down, up, b, t, L, eps):
    """Residual neighbours of node ``(b, t)`` with their capacities."""
    if b > 0:
        row = down[b - 1][t]
        for j in np.flatnonzero(row > eps):
            yield (b - 1, int(j)), row[j]
    if b < L:
        col = up[b][:, t]
        for i in np.flatnonzero(col > eps):
            yield (b + 1, int(i)), col[i]


def _augment(down, up, level, src, dst, L, eps, dead) -> float:
    """Push flow along one source-sink path of the level graph (iterative DFS); 0 when none is left."""
    path = [src]
    while path:
        node = path[-1]
        if node == dst:
            steps = list(zip(path[:-1], path[1:], strict=True))
            pushed = min(_capacity(down, up, u, v) for u, v in steps)
            for u, v in steps:
                (b, t), (vb, vt) = u, v
                if vb < b:  # along a layer edge (b, t) -> (b - 1, vt)
                    down[vb][t, vt] -= pushed
                    up[vb][t, vt] += pushed
                else:  # back along the reverse of (b + 1, vt) -> (b, t)
                    up[b][vt, t] -= pushed
                    down[b][vt, t] += pushed
            return pushed
        for nb, _ in _neighbours(down, up, node[0], node[1], L, eps):
            if level.get(nb) == level[node] + 1 and nb not in dead:
                path.append(nb)
                break
        else:
            dead.add(node)
            path.pop()
    return 0.0


def _capacity(down, up, u, v) -> float:
    (b, t), (vb, vt) = u, v
    return down[vb][t, vt] if vb < b else up[b][vt, t]


def rollout_with_hidden(att: Attention, hide: Sequence[int] = (), residual: float = 0.5) -> np.ndarray:
    """`rollout` of `att` with the `hide` key positions removed from every layer.

    Each head's rows are renormalised over the keys left before heads are averaged, so the
    rollout composes the maps the views draw. Streams one layer at a time.
    """
    hide = V.positions("hide", hide, att.n_key)  # '0' and 1.0 are not positions
    if not hide:
        return rollout(att, residual=residual)
    keep = hidden_keys_mask(att.mask, hide)
    # Composed here with metrics' own step: a query whose every key is hidden has no distribution
    # for metrics.rollout to check, and the step passes such a query's own token on unchanged.
    out: np.ndarray | None = None
    for layer in att.layer_ids:
        fused = renormalize(renormalize(att.layer(layer), keep).mean(axis=0), keep)
        step = rollout_step(fused, 0, residual)
        out = step if out is None else step @ out
    assert out is not None  # an Attention holds at least one layer
    return out


def rollout_rows(
    att: Attention,
    queries: Sequence[int],
    hides: Sequence[Sequence[int]] = ((),),
    residual: float = 0.5,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[np.ndarray] | None:
    """Rows `queries` of `rollout_with_hidden(att, hide, residual)` for each `hide` in `hides`.

    Row ``q`` of the rollout is ``e_q A'_L A'_(L-1) ... A'_1``: starting from the last layer, a
    vector times one rollout step (`rollout_step`, head-averaged) per layer. Each layer's
    rows are computed once, in blocks of rows, for every `hide` at the same time; for causal
    attention only the rows up to the last query are needed. Memory stays at a block of rows per
    layer. `progress` is called with the fraction done after each layer; when `cancelled()` turns
    true the pass stops and returns None.

    Returns
    -------
    list of ndarray (len(queries), n) float32, one per entry of `hides`; None when cancelled.
    """
    if att.n_query != att.n_key:
        raise AttentionError(f"rollout needs square attention; got n_query={att.n_query}, n_key={att.n_key}")
    n = att.n_key
    queries = [_check_query(q, n) for q in V.int_list("queries", queries, unique=False)]
    hides = [V.positions("hides", hide, n) for hide in hides]
    if not queries:
        return [np.zeros((0, n), np.float32) for _ in hides]
    top = max(queries) + 1 if att.is_causal else n
    keeps = []
    for hide in hides:
        keep = hidden_keys_mask(att.mask, hide)
        keeps.append((bool(len(hide)), keep))
    vs = [np.zeros((len(queries), n)) for _ in hides]
    for v in vs:
        v[np.arange(len(queries)), queries] = 1.0
    layers = list(reversed(att.layer_ids))
    for done, layer in enumerate(layers):
        out = [np.zeros_like(v) for v in vs]
        for start in range(0, top, ROW_BLOCK):
            if cancelled is not None and cancelled():
                return None
            stop = min(top, start + ROW_BLOCK)
            block = att.rows(layer, start, stop)  # (heads, rows, n)
            for v, o, (hidden, keep) in zip(vs, out, keeps):
                part = v[:, start:stop]
                if not part.any():
                    continue
                fused = (renormalize(block, keep[start:stop]) if hidden else block).mean(axis=0)
                if hidden:
                    fused = renormalize(fused, keep[start:stop])
                o += part @ rollout_step(fused, start, residual)
        vs = out
        if progress is not None:
            progress((done + 1) / len(layers))
    return [v.astype(np.float32) for v in vs]
