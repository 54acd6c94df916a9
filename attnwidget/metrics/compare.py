"""Distances between two attentions over the same tokens: `total_variation` per map.

`widgets/diff.py` draws these numbers (its per-head grid); they live here so the view only holds
traits. This module imports only numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["total_variation"]


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
