"""Which measure a view draws: attention weights, or the value-weighted norms of the same text.

A view given ``norms=`` (the `Attention` ``aw.extract(..., measure="norms")`` returns for the same
text) holds both sets of maps, each in its own `AttentionData` (so a saved page keeps both), and
its ``measure`` trait says which one it draws. `check_norms` makes sure the two describe the same
tokens, layers and heads. `MeasuredMapView` is the base of the views that switch (heatmap, graph,
token text).
"""

from __future__ import annotations

from typing import Any

import anywidget
import numpy as np
import traitlets as t

from attnwidget.attention.core import Attention
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.widgets.base import MapView
from attnwidget.widgets.data import data_for

__all__ = ["MEASURES", "MeasuredMapView", "check_norms"]

# Trait values: "weights" draws the attention weights, "norms" ||alpha_ij f_h(x_j)|| per row.
MEASURES = ("weights", "norms")


def check_norms(att: Attention, norms: Any, who: str) -> Attention:
    """Return `norms` if it is the value-weighted attention matching `att`; raise naming the mismatch."""
    if not isinstance(norms, Attention):
        raise ArgumentTypeError(
            f"{who}: norms= takes the attnwidget.Attention of aw.extract(..., measure='norms') "
            f"for the same text; got {type(norms).__name__}"
        )
    if norms.meta.get("measure") != "norm":
        raise AttentionError(
            f"{who}: norms= holds attention weights, not value-weighted norms; "
            "make it with aw.extract(model, tokenizer, text, measure='norms')"
        )
    if att.meta.get("measure") == "norm":
        raise AttentionError(
            f"{who}: the first argument holds value-weighted norms already; pass the weights "
            "(aw.extract(...) without measure=) first and the norms as norms="
        )
    if norms.shape != att.shape:
        raise AttentionError(
            f"{who}: norms have shape {norms.shape} (layers, heads, n_query, n_key) but the "
            f"weights {att.shape}; extract both from the same text, layers and heads"
        )
    if list(norms.tokens) != list(att.tokens):
        diff = next(i for i, (a, b) in enumerate(zip(att.tokens, norms.tokens, strict=True)) if a != b)
        raise AttentionError(
            f"{who}: norms are of other tokens than the weights (first difference at position "
            f"{diff}: {att.tokens[diff]!r} vs {norms.tokens[diff]!r})"
        )
    if list(norms.layer_ids) != list(att.layer_ids):
        raise AttentionError(f"{who}: norms hold layers {list(norms.layer_ids)} but the weights {list(att.layer_ids)}")
    if list(norms.head_ids) != list(att.head_ids):
        raise AttentionError(f"{who}: norms hold heads {list(norms.head_ids)} but the weights {list(att.head_ids)}")
    if not np.array_equal(norms.mask, att.mask):
        raise AttentionError(f"{who}: norms and weights have different masks; extract both from the same inputs")
    return norms


class MeasuredMapView(MapView):
    """A `MapView` that can also hold the value-weighted maps of the same text (``norms=``) and
    draws the set its ``measure`` trait names ("weights" or "norms"; "norms" needs ``norms=``)."""

    # The value-weighted maps of the same text (None without norms=), and which set is drawn.
    _frontend_writes = MapView._frontend_writes | {"measure"}
    norms_data = anywidget.WidgetTrait().tag(sync=True)
    measure = t.Enum(MEASURES, "weights").tag(sync=True)

    def __init__(self, att: Attention, *, norms: Attention | None = None, measure: str = "weights", **kwargs: Any):
        who = type(self).__name__
        if measure not in MEASURES:
            raise AttentionError(f"measure must be one of {MEASURES}; got {measure!r}")
        if measure == "norms" and norms is None:
            raise AttentionError(
                f"measure='norms' needs the value-weighted attention: {who}(att, norms=aw.extract(..., measure='norms'))"
            )
        self._norms = check_norms(att, norms, who) if norms is not None else None
        self._first_measure = measure
        super().__init__(att, **kwargs)

    def _init_maps(self, max_bytes: int | None, overview: bool = False) -> None:
        super()._init_maps(max_bytes, overview)
        if self._norms is not None:
            sel = self.selection
            data = data_for(self._norms, sel, factor=self.data.factor, precision=self.precision, max_bytes=max_bytes)
            data.use(self, max_bytes)
            data.follow(sel.layer, sel.head, sel.fusion)
            self.norms_data = data
        self.measure = self._first_measure

    @t.validate("measure")
    def _check_measure(self, proposal):
        if proposal["value"] == "norms" and self.norms_data is None:
            raise t.TraitError(
                "measure='norms' needs the value-weighted attention: make the view with "
                "norms=aw.extract(..., measure='norms')"
            )
        return proposal["value"]

    @property
    def norms(self) -> Attention | None:
        """The value-weighted attention given as ``norms=`` (None without)."""
        return self._norms

    @property
    def measured(self) -> Attention:
        """The attention the view draws now: `attention` (weights) or `norms`, as `measure` says."""
        return self._source(self.measure)

    def _source(self, measure: Any) -> Attention:
        if measure not in MEASURES:
            raise AttentionError(f"measure must be one of {MEASURES}; got {measure!r}")
        if measure == "norms":
            if self._norms is None:
                raise AttentionError("this view holds no norms (make it with norms=)")
            return self._norms
        return self.attention

    @property
    def held_norm_maps(self) -> list[str]:
        """Keys of the value-weighted maps the state holds (empty without norms=)."""
        return self.norms_data.held_maps if self.norms_data is not None else []

    def _map_models(self) -> list:
        return [d for d in (self.data, self.norms_data) if d is not None]

    def _refresh_maps(self, change=None) -> None:
        sel = self.selection
        for data in self._map_models():
            data.follow(sel.layer, sel.head, sel.fusion)

    def _unfollow(self) -> None:
        super()._unfollow()
        if self.norms_data is not None:
            self.norms_data.release(self)

    def close(self) -> None:
        super().close()
        self._norms = None
