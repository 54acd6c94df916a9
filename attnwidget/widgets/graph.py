"""`AttentionGraph`: tokens as nodes, one edge per weight above a threshold."""

from __future__ import annotations

import math
from typing import Any, Iterable

import traitlets as t

from ..attention import Attention
from .base import DEFAULT_GAMMA, DEFAULT_SCALE, MapView
from .selection import Selection

__all__ = ["AttentionGraph", "ARRANGEMENTS"]

ARRANGEMENTS = ("arc", "force")


class AttentionGraph(MapView):
    """Token graph of the selected layer and head: edges query -> key where the weight exceeds
    `threshold`, width and colour by weight.

    Parameters
    ----------
    att : Attention
        The attention to draw.
    threshold : float in [0, 1]
        Smallest weight drawn as an edge (after hidden tokens are removed and rows renormalised).
    arrangement : {"arc", "force"}
        Node layout (named so because every ipywidget's ``layout`` is its CSS box). ``"arc"``: tokens in reading order on a line, edges as arcs. ``"force"``: a spring layout
        that pulls strongly attending tokens together.
    layer, head : optional
        Initial selection (see `AttentionHeatmap`).
    scale, gamma, colormap, hide
        Colour-scale and hiding options, as for `AttentionHeatmap`.
    max_bytes : int, optional
        Budget of coded bytes for the maps of the shared data model (see `AttentionHeatmap`).
    precision : {"coded", "exact"}
        How maps cross (see `AttentionHeatmap`).
    selection : Selection, optional
        Share an existing selection.
    """

    _view_kind = t.Unicode("graph").tag(sync=True)
    threshold = t.Float(0.1).tag(sync=True)
    arrangement = t.Enum(ARRANGEMENTS, "arc").tag(sync=True)

    def __init__(self, att: Attention, threshold: float = 0.1, *, arrangement: str = "arc", layer: int | None = None,
                 head: int | None = None, scale: str = DEFAULT_SCALE, gamma: float = DEFAULT_GAMMA,
                 colormap: str = "viridis", hide: Iterable[int] | None = None, max_bytes: int | None = None,
                 selection: Selection | None = None, **kwargs: Any):
        super().__init__(att, selection=selection, scale=scale, gamma=gamma, colormap=colormap, hide=hide,
                         threshold=threshold, arrangement=arrangement, **kwargs)
        if layer is not None:
            self.selection.layer = layer
        if head is not None:
            self.selection.head = head
        self._init_maps(max_bytes)

    @t.validate("threshold")
    def _check_threshold(self, proposal):
        v = proposal["value"]
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 <= v <= 1.0):
            raise t.TraitError(f"threshold must be a weight in [0, 1]; got {v!r}")
        return float(v)
