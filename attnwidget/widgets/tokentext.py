"""`TokenText`: the text itself, each token tinted by the attention one token gives or receives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import traitlets as t

from attnwidget.attention.core import Attention
from attnwidget.widgets.base import DEFAULT_GAMMA, DEFAULT_SCALE
from attnwidget.widgets.measure import MeasuredMapView
from attnwidget.widgets.selection import Selection

__all__ = ["DIRECTIONS", "TokenText", "token_gaps"]

DIRECTIONS = ("gives", "receives")


def token_gaps(att: Attention) -> list[bool]:
    """For each token, whether the text shows a gap before it that the token strings do not.

    WordPiece tokens (BERT, MiniLM) carry no spaces, so drawing them side by side runs the words
    together. The character offsets say where the text had a gap: the token starts after the
    previous one ends, or one of the two is a special token with no text of its own ([CLS],
    [SEP]), or a new sequence of a pair begins. Tokens that already hold the space (byte-level
    BPE's ``' cat'``) get none. Without offsets (attention built from arrays, generated tokens)
    no gaps are added.
    """
    tokens, offsets = list(att.tokens), att.offsets
    gaps = [False] * len(tokens)
    if offsets is None or len(offsets) != len(tokens):
        return gaps
    for i in range(1, len(tokens)):
        (s0, e0), (s1, e1) = offsets[i - 1], offsets[i]
        if tokens[i][:1].isspace() or tokens[i - 1][-1:].isspace():
            continue
        gaps[i] = bool(s0 == e0 or s1 == e1 or s1 > e0 or s1 < s0)
    return gaps


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
        The value-weighted attention of the same text (``aw.extract(..., measure="norms")``); the
        view's "measure" control then switches between weights and norms (see `AttentionHeatmap`).
    measure : {"weights", "norms"}
        What is drawn ("norms" needs `norms`).
    """

    _view_kind = t.Unicode("tokentext").tag(sync=True)
    _frontend_writes = MeasuredMapView._frontend_writes | {"direction"}
    direction = t.Enum(DIRECTIONS, "gives").tag(sync=True)
    # A space is drawn before token i where the text had one the token strings do not show.
    _gaps = t.List(t.Bool()).tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        direction: str = "gives",
        layer: int | None = None,
        head: int | None = None,
        scale: str = DEFAULT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        max_bytes: int | None = None,
        selection: Selection | None = None,
        norms: Attention | None = None,
        measure: str = "weights",
        **kwargs: Any,
    ):
        super().__init__(
            att,
            selection=selection,
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=hide,
            norms=norms,
            measure=measure,
            direction=direction,
            **kwargs,
        )
        self._gaps = token_gaps(att)
        if layer is not None:
            self.selection.layer = layer
        if head is not None:
            self.selection.head = head
        self._init_maps(max_bytes)
