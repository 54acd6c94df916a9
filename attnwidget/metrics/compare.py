"""Distances between attention maps: `total_variation` between two attentions over the same
tokens (per map pair), `head_similarity` between every pair of maps of one attention.

`widgets/diff.py` draws total variation (its per-head grid); it lives here so the view only holds
traits. This module imports only numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attnwidget.errors import AttentionError
from attnwidget.metrics.rows import _TINY, BLOCK_ELEMENTS, _Maps

__all__ = ["total_variation", "head_similarity"]


def total_variation(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over query rows that see a key of ``(1/2) sum_j |a_ij - b_ij|`` for ``(..., Q, K)`` maps.

    0 when two heads attend identically, 1 when every row puts its mass on different keys.

    Parameters
    ----------
    a, b : ndarray (..., Q, K)
        The two sets of maps, paired by position.
    mask : ndarray (Q, K) of bool
        Visible keys; hidden cells never count, and rows that see no key are left out.

    Returns
    -------
    ndarray
        The leading shape ``(...)``; zeros when no row sees a key.
    """
    live = mask.any(axis=1)
    d = 0.5 * np.abs(np.where(mask, a, 0) - np.where(mask, b, 0)).sum(axis=-1)
    return d[..., live].mean(axis=-1) if live.any() else np.zeros(d.shape[:-1])


def head_similarity(att: Any, mask: Any = None) -> np.ndarray:
    """Jensen-Shannon divergence (nats) between the rows of every pair of maps.

    ``D[g, h] = (1 / rows) * sum_i JS(A_g[i], A_h[i])`` over query rows that see a key, with
    ``JS(p, q) = (KL(p || m) + KL(q || m)) / 2``, ``m = (p + q) / 2``; 0 for identical maps and at
    most ``ln 2``. Maps are taken in the order of the flattened leading axes (layer-major for an
    `Attention`: index ``layer * heads + head``). Arrays must hold distributions.

    Returns
    -------
    ndarray (n_maps, n_maps)
        Symmetric with a zero diagonal.
    """
    maps = _Maps(att, mask)
    n_maps = int(np.prod(maps.lead, dtype=np.int64))
    if n_maps < 2:
        raise AttentionError(f"head_similarity needs at least two maps (..., Q, K); got leading shape {maps.lead}")
    total = np.zeros((n_maps, n_maps), np.float64)
    # Pairwise work is n_maps x block, so blocks are smaller than for the row metrics.
    for r in maps.blocks(elements=max(BLOCK_ELEMENTS // n_maps, 1)):
        a = r.a.reshape(n_maps, r.stop - r.start, r.kc)[:, r.live]
        if a.shape[1] == 0:
            continue
        plogp = (a * np.log(np.maximum(a, _TINY))).sum(axis=(-2, -1), dtype=np.float64)
        for g in range(n_maps - 1):
            m = (a[g][None] + a[g + 1 :]) * 0.5
            mlogm = (m * np.log(np.maximum(m, _TINY))).sum(axis=(-2, -1), dtype=np.float64)
            js = 0.5 * (plogp[g] + plogp[g + 1 :]) - mlogm
            total[g, g + 1 :] += js
    total = np.maximum(total, 0)  # rounding can leave -1e-9 for identical maps
    total = total + total.T
    return total / maps.n_live
