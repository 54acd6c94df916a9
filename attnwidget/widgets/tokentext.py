"""`TokenText`: the text itself, each token tinted by the attention one token gives or receives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import traitlets as t

from ..attention import Attention
from .base import DEFAULT_GAMMA, DEFAULT_SCALE
from .measure import MeasuredMapView
from .selection import Selection

__all__ = ["DIRECTIONS", "TokenText"]

DIRECTIONS = ("gives", "receives")


class TokenText(MeasuredMapView):
    """The input text, each token tinted by the attention of the selected layer and head.

    The focus token is the hovered one (in any linked view), else the pinned one, else the last
    query token. With ``direction="gives"`` each token is tinted by how much the focus token
    attends to it (the focus token's query row); with ``"receives"`` by how much it attends to the
    focus token (the focus token's key column). Hidden tokens are removed and rows renormalised,
    as in the other views.

    Parameters
    ----------
    att : Attention
        The attention to draw.
    direction : {"gives", "receives"}
        Which attention tints the text (a toggle in the view).
    layer, head : optional
        Initial selection (see `AttentionHeatmap`).
    scale, gamma, colormap, hide
        Colour-scale and hiding options, as for `AttentionHeatmap` (the tint's strength follows
        the scale).
    max_bytes : int, optional
        Budget of coded bytes for the maps of the shared data model (see `AttentionHeatmap`).
    selection : Selection, optional
        Share an existing selection (``aw.link`` does this).
    norms : Attention, optional
        The value-weighted attention of the same text (``aw.extract(..., measure="norm")``); the
        view's "measure" control then switches between weights and norms (see `AttentionHeatmap`).
    measure : {"weights", "norms"}
        What is drawn ("norms" needs `norms`).
    """

    _view_kind = t.Unicode("tokentext").tag(sync=True)
    direction = t.Enum(DIRECTIONS, "gives").tag(sync=True)

    def __init__(self, att: Attention, *, direction: str = "gives", layer: int | None = None,
                 head: int | None = None, scale: str = DEFAULT_SCALE, gamma: float = DEFAULT_GAMMA,
                 colormap: str = "viridis", hide: Iterable[int] | None = None, max_bytes: int | None = None,
                 selection: Selection | None = None, norms: Attention | None = None, measure: str = "weights",
                 **kwargs: Any):
        super().__init__(att, selection=selection, scale=scale, gamma=gamma, colormap=colormap, hide=hide,
                         norms=norms, measure=measure, direction=direction, **kwargs)
        if layer is not None:
            self.selection.layer = layer
        if head is not None:
            self.selection.head = head
        self._init_maps(max_bytes)
