"""`link` (share one selection between views), `show` and `Dashboard` (the five views linked:
token text, heatmap, head grid, rollout, graph), and `show_parts` (an encoder-decoder result's
`PartsDashboard`): every ``show`` dispatch lives here, and `widgets/parts.py` imports nothing back."""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets as t

from attnwidget.analysis.heads import head_hints
from attnwidget.attention.core import Attention
from attnwidget.attention.seq2seq import PARTS, Seq2SeqAttention
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.widgets.base import AttentionView, check_attention
from attnwidget.widgets.export import ipython_display
from attnwidget.widgets.graph import AttentionGraph
from attnwidget.widgets.headgrid import HeadGrid
from attnwidget.widgets.heatmap import AttentionHeatmap
from attnwidget.widgets.parts import PartsDashboard
from attnwidget.widgets.rollout import RolloutBar
from attnwidget.widgets.selection import GuardedWidget, Selection
from attnwidget.widgets.tokentext import TokenText

__all__ = ["Dashboard", "link", "show", "show_parts"]

# Up to this many tokens show() tints the head grid by a metric and badges head roles: a few passes
# over every map, cheap at this length; past it the grid is drawn plain and aw.HeadGrid(att, tint=...)
# takes any metric.
HINT_MAX_TOKENS = 512

# Above this many tokens show() leaves the graph out: thousands of nodes on one line cannot be
# read, and its maps are not pooled. AttentionGraph(att) still draws one on request.
GRAPH_MAX_TOKENS = 512


def link(*views: AttentionView, selection: Selection | None = None) -> Selection:
    """Make `views` share one `Selection` (hover, pin, layer, head, fusion).

    Parameters
    ----------
    *views : AttentionView
        Two or more attnwidget views. Their attentions must hold the same layer and head numbers.
    selection : Selection, optional
        The selection to share; by default the first view's.

    Returns
    -------
    Selection
        The shared selection, also reachable as ``view.selection``.
    """
    if not views:
        raise ArgumentTypeError("link() needs at least one view, e.g. aw.link(heatmap, grid)")
    for v in views:
        if not isinstance(v, AttentionView):
            raise ArgumentTypeError(
                f"link() takes attnwidget views (AttentionHeatmap, HeadGrid, RolloutBar, "
                f"AttentionGraph); got {type(v).__name__}"
            )
    sel = selection if selection is not None else views[0].selection
    for v in views:  # check every attention before changing anything
        sel.attach(v.attention)
    for v in views:
        v.selection = sel
    return sel


class Dashboard(GuardedWidget):
    """The views of `show`, linked through one `Selection`, under one toolbar: layer, head, scale,
    colours, hiding (and the measure and generation step where they apply), then the token text, then
    the heatmap beside a tabbed pane of the head grid, rollout and graph (one column when the output
    is narrow).

    The toolbar sets layer, head and step on the shared selection, and scale, colours, hiding and
    the measure on every view's own traits, each checked by that view as a value set from Python.
    The frontend resolves the child models with anywidget's ``host.getModel`` and renders each
    view's own function into its slot, embedded (without the toolbar's controls). `views` lists them
    for hosts that lay out views themselves (exported pages).
    """

    _esm = AttentionView._esm
    _css = AttentionView._css
    _view_kind = t.Unicode("dashboard").tag(sync=True)
    heatmap = anywidget.WidgetTrait().tag(sync=True)
    headgrid = anywidget.WidgetTrait().tag(sync=True)
    rollout = anywidget.WidgetTrait().tag(sync=True)
    graph = anywidget.WidgetTrait().tag(sync=True)
    tokentext = anywidget.WidgetTrait().tag(sync=True)
    selection = anywidget.WidgetTrait().tag(sync=True)
    # Sentences about views left out, shown above the views (and so in exported pages).
    notes = t.List(t.Unicode()).tag(sync=True)

    def __init__(
        self,
        heatmap: AttentionHeatmap,
        headgrid: HeadGrid,
        rollout: RolloutBar | None,
        graph: AttentionGraph | None,
        notes: list[str] | None = None,
        tokentext: TokenText | None = None,
    ):
        views = [v for v in (tokentext, heatmap, headgrid, rollout, graph) if v is not None]
        sel = link(*views)
        super().__init__(
            heatmap=heatmap,
            headgrid=headgrid,
            rollout=rollout,
            graph=graph,
            tokentext=tokentext,
            selection=sel,
            notes=list(notes or []),
        )
        # aw.link(other, dash.heatmap) gives the heatmap another selection; follow it.
        heatmap.observe(lambda change: setattr(self, "selection", change["new"]), names="selection")

    def _ipython_display_(self) -> None:
        # The export host rides beside the widget so `nbconvert --to html` pages draw offline.
        ipython_display(self)

    def close(self) -> None:
        """Close the dashboard, its views and their shared selection, so all can be freed."""
        views, sel = self.views, self.selection
        super().close()
        for v in views:
            v.close()
        if sel is not None:
            sel.close()

    @property
    def views(self) -> list[AttentionView]:
        """The views present: heatmap, head grid, rollout, graph, token text."""
        return [v for v in (self.heatmap, self.headgrid, self.rollout, self.graph, self.tokentext) if v is not None]


def show(
    att: Attention | Seq2SeqAttention,
    *,
    layer: int | None = None,
    head: int | None = None,
    threshold: float = 0.1,
    norms: Attention | None = None,
    effects: Any = None,
    **options: Any,
) -> Dashboard:
    """Token text, heatmap, head grid, rollout and graph of `att`, linked: the common case in one call.

    Parameters
    ----------
    att : Attention
        The attention to explore.
    layer, head : optional
        Initial selection (head None: heads fused by mean).
    threshold : float in [0, 1]
        Edge threshold of the graph.
    norms : Attention, optional
        The value-weighted attention of the same text (``aw.extract(..., measure="norms")``): the
        heatmap gets a "measure" control switching between weights and norms; the head grid,
        rollout, graph and token text keep drawing weights and say so in their titles.
    effects : HeadEffects, optional
        ``aw.experiments.head_effects`` of the same layers and heads (an `AttentionError` otherwise):
        the head grid is tinted by each head's effect on log P(target) first (a diverging scale
        centred at 0, blue where the head helps the target), and the heatmap's and graph's titles
        say the selected head's effect. What a head does to the answer, beside where it looks.
    **options
        Colour-scale and hiding options given to every view: ``scale``, ``gamma``, ``colormap``,
        ``hide``; and ``precision`` (``"coded"``, the default: weights cross as log-spaced 8-bit
        codes within 2.8%; ``"exact"``: float16).

    Returns
    -------
    Dashboard
        Display it (last expression of a cell) or pass it to ``aw.save_html``. The rollout is left
        out for non-square attention (generation with a cached prefix) and for non-consecutive
        layers, the graph above 512 tokens; the dashboard says so.

    Notes
    -----
    Long inputs stay quick and bounded: the heatmap holds a max-pooled overview of the selected map
    (full resolution arrives in tiles as you zoom), the head grid pools (and on long lazy
    attention samples query rows), and the rollout holds rows of a few query tokens instead of
    matrices. At 4096 tokens a saved page is a few MB.

    An encoder-decoder result (``aw.extract(..., target=...)``) gives a `PartsDashboard`: a
    selector between the encoder and decoder dashboards and the cross-attention heatmap (target
    rows, source columns); ``part=`` names the part shown first (default ``"cross"``).
    """
    if isinstance(att, Seq2SeqAttention):
        if layer is not None or head is not None or norms is not None or effects is not None:
            raise ArgumentTypeError(
                "show() of an encoder-decoder result takes no layer=, head=, norms= or effects=: the parts "
                "number their layers apart; show one part (aw.show(s.cross, ...)) to choose them"
            )
        return show_parts(att, threshold=threshold, **options)
    att = check_attention(att, "show")
    allowed = {"scale", "gamma", "colormap", "hide", "precision"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ArgumentTypeError(
            f"show() got unexpected keyword argument(s) {unknown}; colour options are {sorted(allowed)}"
        )
    heatmap = AttentionHeatmap(att, layer=layer, head=head, norms=norms, effects=effects, **options)
    sel = heatmap.selection
    if att.n_key <= HINT_MAX_TOKENS:
        tints, labels = head_hints(att)
        # Entropy shown first, or the effects when given.
        grid = HeadGrid(att, selection=sel, tint=tints, effects=effects, labels=labels, **options)
    else:
        grid = HeadGrid(att, selection=sel, effects=effects, **options)
    ids = att.layer_ids
    # Rollout composes consecutive layers of square attention; other extractions show three views.
    composable = att.n_query == att.n_key and ids == list(range(ids[0], ids[0] + len(ids)))
    rollout = RolloutBar(att, selection=sel, **options) if composable else None
    notes = []
    if not composable:
        notes.append("Rollout left out: it composes square attention of consecutive layers.")
    if att.n_key <= GRAPH_MAX_TOKENS:
        graph = AttentionGraph(att, threshold=threshold, selection=sel, effects=effects, **options)
    else:
        graph = None
        notes.append(
            f"Graph left out: {att.n_key} tokens is past the {GRAPH_MAX_TOKENS} a token graph can "
            "show readably; aw.AttentionGraph(att.select(...)) draws one on request."
        )
    text = TokenText(att, selection=sel, **options)
    if norms is not None:
        # Only the heatmap switches to norms: the other views say that they draw weights, so a
        # norm map is never read against weight thumbnails or bars without being told.
        for view in (grid, rollout, graph, text):
            if view is not None:
                view._measure_name = "weights"
    return Dashboard(heatmap, grid, rollout, graph, notes, tokentext=text)


def show_parts(s: Seq2SeqAttention, *, part: str = "cross", threshold: float = 0.1, **options: Any) -> PartsDashboard:
    """Views of every part of `s`: dashboards of the encoder and decoder, the cross heatmap.

    `options` (``scale``, ``gamma``, ``colormap``, ``precision``) go to every view; ``hide`` and
    ``layer``/``head`` are refused because token and layer numbers differ between the parts.
    """
    if part not in PARTS:
        raise AttentionError(f"part must be one of {PARTS}; got {part!r}")
    allowed = {"scale", "gamma", "colormap", "precision"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ArgumentTypeError(
            f"show() of an encoder-decoder result got unexpected keyword argument(s) {unknown}: "
            f"the parts number their tokens and layers apart, so only {sorted(allowed)} apply to "
            "all; show one part (aw.show(s.encoder, layer=...)) to choose those"
        )
    encoder = show(s.encoder, threshold=threshold, **options)
    decoder = show(s.decoder, threshold=threshold, **options)
    cross = AttentionHeatmap(s.cross, **options)
    graph = AttentionGraph(s.cross, threshold=threshold, selection=cross.selection, **options)
    return PartsDashboard(encoder, decoder, cross, part=part, cross_graph=graph)
