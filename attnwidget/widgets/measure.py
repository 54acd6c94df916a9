"""Which measure a view draws: attention weights, or the value-weighted norms of the same text.

A view given ``norms=`` (the `Attention` ``aw.extract(..., measure="norm")`` returns for the same
text) holds both sets of maps, each in its own `AttentionData`, and its ``measure`` trait says which
one it draws. `check_norms` makes sure the two describe the same tokens, layers and heads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..attention import Attention

__all__ = ["MEASURES", "check_norms"]

# Trait values: "weights" draws the attention weights, "norms" ||alpha_ij f_h(x_j)|| per row.
MEASURES = ("weights", "norms")


def check_norms(att: Attention, norms: Any, who: str) -> Attention:
    """Return `norms` if it is the value-weighted attention matching `att`; raise naming the mismatch."""
    if not isinstance(norms, Attention):
        raise TypeError(f"{who}: norms= takes the attnwidget.Attention of aw.extract(..., measure='norm') "
                        f"for the same text; got {type(norms).__name__}")
    if norms.meta.get("measure") != "norm":
        raise ValueError(f"{who}: norms= holds attention weights, not value-weighted norms; "
                         "make it with aw.extract(model, tokenizer, text, measure='norm')")
    if att.meta.get("measure") == "norm":
        raise ValueError(f"{who}: the first argument holds value-weighted norms already; pass the weights "
                         "(aw.extract(...) without measure=) first and the norms as norms=")
    if norms.shape != att.shape:
        raise ValueError(f"{who}: norms have shape {norms.shape} (layers, heads, n_query, n_key) but the "
                         f"weights {att.shape}; extract both from the same text, layers and heads")
    if list(norms.tokens) != list(att.tokens):
        diff = next(i for i, (a, b) in enumerate(zip(att.tokens, norms.tokens, strict=True)) if a != b)
        raise ValueError(f"{who}: norms are of other tokens than the weights (first difference at position "
                         f"{diff}: {att.tokens[diff]!r} vs {norms.tokens[diff]!r})")
    if list(norms.layer_ids) != list(att.layer_ids):
        raise ValueError(f"{who}: norms hold layers {list(norms.layer_ids)} but the weights {list(att.layer_ids)}")
    if list(norms.head_ids) != list(att.head_ids):
        raise ValueError(f"{who}: norms hold heads {list(norms.head_ids)} but the weights {list(att.head_ids)}")
    if not np.array_equal(norms.mask, att.mask):
        raise ValueError(f"{who}: norms and weights have different masks; extract both from the same inputs")
    return norms
