"""`PartsDashboard`: what `show` draws for an encoder-decoder result, one part at a time.

This module holds the traits only; `widgets/dashboard.py` builds it (``show_parts``), so the two
modules import one way.

The encoder and decoder parts are ordinary dashboards of square attention; the cross part is a
heatmap with target rows over source columns and, linked to it, the two-row cross graph. A selector (drawn in the browser, so saved pages
switch too) picks the part shown. The browser carries a hovered or pinned token between the parts
where it appears: a source token between the encoder views and the cross view's columns
(`hovered_token` / `pinned_token` of both selections), a target token between the decoder views
and the cross view's rows (the decoder's `hovered_token` / `pinned_token`, the cross selection's
`hovered_query` / `pinned_query`). A target position never marks a source token.
Above the selector the browser draws the source and the target tokens as two strips, whatever
part is shown, each hovering and pinning through the encoder's or the decoder's selection, so
a token hovered in the shown part is marked in its strip and the link between parts stays in view.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as t

from attnwidget.attention.seq2seq import PARTS
from attnwidget.widgets.base import AttentionView
from attnwidget.widgets.export import ipython_display
from attnwidget.widgets.graph import AttentionGraph
from attnwidget.widgets.heatmap import AttentionHeatmap
from attnwidget.widgets.selection import GuardedWidget

__all__ = ["PartsDashboard"]


class PartsDashboard(GuardedWidget):
    """The encoder, decoder and cross views of one source/target pair, with a part selector.

    `part` names the part shown (``"encoder"``, ``"decoder"`` or ``"cross"``); the selector in the
    browser sets it, and setting it from the kernel switches the page. Hover and pin are linked
    between the parts by the drawn view itself, so saved pages link too, and a kernel hears each
    linked field as a trait: with the view drawn, ``dash.decoder.selection.pinned_token = 2``
    marks target row 2 in the cross views and sets ``dash.cross.pinned_query`` to 2; a source
    token pinned in the encoder marks its cross column (``dash.cross.pinned_token``).
    """

    _esm = AttentionView._esm
    _css = AttentionView._css
    _view_kind = t.Unicode("parts").tag(sync=True)
    _frontend_writes = frozenset({"part"})  # the part buttons
    encoder = anywidget.WidgetTrait().tag(sync=True)
    decoder = anywidget.WidgetTrait().tag(sync=True)
    cross = anywidget.WidgetTrait().tag(sync=True)
    # The cross part's graph (target row over source row), drawn under its heatmap; None when left out.
    cross_graph = anywidget.WidgetTrait().tag(sync=True)
    part = t.Enum(PARTS, "cross").tag(sync=True)

    def __init__(
        self,
        encoder: Any,
        decoder: Any,
        cross: AttentionHeatmap,
        part: str = "cross",
        cross_graph: AttentionGraph | None = None,
    ):
        super().__init__(encoder=encoder, decoder=decoder, cross=cross, part=part, cross_graph=cross_graph)

    @property
    def parts(self) -> dict[str, Any]:
        """The view of each part, by name."""
        return {name: getattr(self, name) for name in PARTS}

    def _ipython_display_(self) -> None:
        ipython_display(self)

    def close(self) -> None:
        """Close the part views (and their selections) with the selector."""
        parts = [*self.parts.values(), self.cross_graph]
        super().close()
        for v in parts:
            if v is not None:
                v.close()
