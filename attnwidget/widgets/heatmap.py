"""`AttentionHeatmap`: one layer's query x key map (one head, or heads fused) on a canvas."""

from __future__ import annotations

from typing import Any, Iterable

import traitlets as t

from ..attention import Attention
from .base import DEFAULT_GAMMA, DEFAULT_SCALE, MapView
from .selection import Selection

__all__ = ["AttentionHeatmap"]

DEFAULT_MAX_BYTES = 4 * 2**20


class AttentionHeatmap(MapView):
    """Query x key heatmap with token labels, a colour legend and controls.

    Parameters
    ----------
    att : Attention
        The attention to draw.
    layer : int, optional
        Model layer number (default: the first held).
    head : int or None
        Model head number, or None to fuse the layer's heads with `fusion`.
    fusion : {"mean", "max", "min"}
        Head fusion when `head` is None.
    scale : {"linear", "log", "power"}
        Colour scale. The default, log over three decades below the largest weight, keeps weights
        far below an attention sink visible; power uses `gamma`.
    gamma : float
        Exponent of the power scale.
    colormap : {"viridis", "cividis", "magma", "greys"}
        Colour map (viridis and cividis are colour-blind safe).
    hide : list of int
        Key positions removed from the display, each row renormalised over the remaining keys (the
        legend says so). ``hide=[0]`` hides an attention sink on the first token.
    row_normalize : bool
        Scale each query row to its own maximum.
    max_bytes : int
        Budget for full-resolution float16 maps held in the widget state (and so in exported HTML).
        The selected map is always held; others are prefetched around it.
    selection : Selection, optional
        Share an existing selection (what `aw.link` does).

    Examples
    --------
    >>> AttentionHeatmap(att, layer=5, head=2, scale="log", hide=[0])  # doctest: +SKIP
    """

    _view_kind = t.Unicode("heatmap").tag(sync=True)
    row_normalize = t.Bool(False).tag(sync=True)

    def __init__(self, att: Attention, layer: int | None = None, head: int | None = None, *,
                 fusion: str = "mean", scale: str = DEFAULT_SCALE, gamma: float = DEFAULT_GAMMA,
                 colormap: str = "viridis", hide: Iterable[int] | None = None, row_normalize: bool = False,
                 max_bytes: int = DEFAULT_MAX_BYTES, selection: Selection | None = None, **kwargs: Any):
        super().__init__(att, selection=selection, scale=scale, gamma=gamma, colormap=colormap, hide=hide,
                         row_normalize=row_normalize, **kwargs)
        sel = self.selection
        if layer is not None:
            sel.layer = layer
        if selection is None or head is not None:
            sel.head = head
        if selection is None:
            sel.fusion = fusion
        self._init_maps(max_bytes)
