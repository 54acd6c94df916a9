"""`AttentionGraph`: tokens as nodes, one edge per weight above a threshold."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError
from attnwidget.widgets.base import DEFAULT_GAMMA, DEFAULT_SCALE
from attnwidget.widgets.data import display_rows
from attnwidget.widgets.headgrid import effects_state
from attnwidget.widgets.measure import MeasuredMapView
from attnwidget.widgets.payload import array_payload
from attnwidget.widgets.selection import Selection

DEFAULT_THRESHOLD = 0.1  # weights below it draw no edge

__all__ = ["AttentionGraph", "ARRANGEMENTS"]

ARRANGEMENTS = ("arc", "force")
# Heads drawn together in one graph; more colours than this cannot be told apart.
MAX_OVERLAY = 6
# Edges one map may draw (the frontend's limit, js/src/lib/maps.js edgesAbove): the strongest kept.
MAX_EDGES = 5000


class AttentionGraph(MeasuredMapView):
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
    overlay : list of int, optional
        Head numbers (up to 6) drawn together on the selected layer, one colour per head, instead
        of the selected head or fusion; the view's head buttons set it too. Each head's map must
        fit in the data model's budget beside the others (the view says which are missing).
    max_bytes : int, optional
        Budget of coded bytes for the maps of the shared data model (see `AttentionHeatmap`).
    selection : Selection, optional
        Share an existing selection.
    norms : Attention, optional
        The value-weighted attention of the same text (``aw.extract(..., measure="norms")``); the
        view's "measure" control then switches between weights and norms (see `AttentionHeatmap`).
    measure : {"weights", "norms"}
        What is drawn ("norms" needs `norms`).
    effects : HeadEffects, optional
        From ``aw.experiments.head_effects`` on the same layers and heads (else an error): the title
        of a selected head says its effect, e.g. "effect on log P(' Paris'): -0.85".

    Other Parameters
    ----------------
    precision : {"coded", "exact"}
        How maps cross (see `AttentionHeatmap`).

    Notes
    -----
    Cross-attention (``att.query_tokens`` given: target rows over source keys) is drawn as two
    rows, target tokens above and source tokens below, a line from each target token to the
    source tokens it weighs at least `threshold`; `arrangement` and `overlay` do not apply to it.
    Long rows keep at least 9 px per token and scroll sideways together; when labels would touch,
    only every k-th token is labelled, and the focused tokens and the ends of their lines are
    always labelled.
    Hovering or pinning a source token sets the selection's token (a key position); a target
    token, its ``hovered_query`` / ``pinned_query`` (a query row).
    """

    _draws_cross = True

    _view_kind = t.Unicode("graph").tag(sync=True)
    _frontend_writes = MeasuredMapView._frontend_writes | {"threshold", "arrangement", "overlay"}
    threshold = t.Float(DEFAULT_THRESHOLD).tag(sync=True)
    arrangement = t.Enum(ARRANGEMENTS, "arc").tag(sync=True)
    overlay = t.List(t.Int()).tag(sync=True)
    # The edges of the drawn maps at `threshold`, from the exact weights: the held maps are coded
    # (a weight within 2.8%), so a weight near the threshold could fall on the wrong side of it.
    # ``{"threshold", "hide", "measure", "maps": {key: float32 (edges, 3) payload of query row,
    # key, weight}}``; the frontend uses them while its threshold, hiding and measure match, and
    # compares coded weights otherwise (a saved page whose slider moved).
    _exact_edges = t.Dict().tag(sync=True)
    # Each head's effect on log P(target) (`effects=`), named in the title of the selected head.
    _effects = t.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        threshold: float | None = None,
        arrangement: str = "arc",
        layer: int | None = None,
        head: int | None = None,
        scale: str = DEFAULT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        max_bytes: int | None = None,
        overlay: Iterable[int] = (),
        selection: Selection | None = None,
        norms: Attention | None = None,
        measure: str = "weights",
        effects: Any = None,
        **kwargs: Any,
    ):
        threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        if isinstance(att, Attention) and att._query_tokens is not None:
            if arrangement != "arc" or list(overlay):
                raise AttentionError(
                    "AttentionGraph draws cross-attention as two rows (target above, source below); "
                    "arrangement= and overlay= are for attention whose queries are its own tokens"
                )
        super().__init__(
            att,
            selection=selection,
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=hide,
            norms=norms,
            measure=measure,
            threshold=threshold,
            arrangement=arrangement,
            **kwargs,
        )
        if self._query_tokens:
            self._view_kind = "crossgraph"  # drawn by the frontend's two-row view
        if effects is not None:
            self._effects = effects_state(effects, self.attention)
        if layer is not None:
            self.selection.layer = layer
        if head is not None:
            self.selection.head = head
        self._init_maps(max_bytes)
        self.overlay = list(overlay)
        self.observe(self._fetch_overlay, names="overlay")
        self.selection.observe(self._fetch_overlay, names="layer")
        self.observe(self._move_overlay, names="selection")
        self._refresh_edges()
        self.observe(self._refresh_edges, names=["threshold", "hide", "measure", "overlay"])
        self.selection.observe(self._refresh_edges, names=["layer", "head", "fusion"])

    def _move_overlay(self, change) -> None:
        change["old"].unobserve(self._fetch_overlay, names="layer")
        change["new"].observe(self._fetch_overlay, names="layer")
        change["old"].unobserve(self._refresh_edges, names=["layer", "head", "fusion"])
        change["new"].observe(self._refresh_edges, names=["layer", "head", "fusion"])
        self._fetch_overlay()
        self._refresh_edges()

    def _unfollow(self) -> None:
        super()._unfollow()
        self.selection.unobserve(self._fetch_overlay, names="layer")
        self.selection.unobserve(self._refresh_edges, names=["layer", "head", "fusion"])

    @t.validate("overlay")
    def _check_overlay(self, proposal):
        v = list(proposal["value"])
        heads = list(self._head_ids)
        bad = [h for h in v if h not in heads]
        if bad or len(v) > MAX_OVERLAY or len(set(v)) != len(v):
            raise t.TraitError(f"overlay must list up to {MAX_OVERLAY} distinct head numbers of {heads}; got {v!r}")
        return v

    def _fetch_overlay(self, change=None) -> None:
        # The overlaid heads' maps of the selected layer join the shared data model's maps.
        sel = self.selection
        for h in self.overlay:
            for data in self._map_models():
                data.follow(sel.layer, h, sel.fusion)

    @t.validate("threshold")
    def _check_threshold(self, proposal):
        v = proposal["value"]
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 <= v <= 1.0):
            raise t.TraitError(f"threshold must be a weight in [0, 1]; got {v!r}")
        return float(v)

    def _refresh_edges(self, change=None) -> None:
        sel = self.selection
        which: list[int | str] = [sel.fusion if sel.head is None else sel.head, *self.overlay]
        att = self._source(self.measure)
        maps = {}
        for w in dict.fromkeys(which):
            rows = display_rows(att, sel.layer, w, 0, att.n_query, list(self.hide), False)
            maps[f"{sel.layer}/{w}"] = edge_payload(rows, att.mask, self.threshold)
        self._exact_edges = {
            "threshold": self.threshold,
            "hide": list(self.hide),
            "measure": self.measure,
            "maps": maps,
        }

    @property
    def edges(self) -> list[tuple[int, int, float]]:
        """Edges drawn for the selected map: ``(query position, key position, weight)`` with the
        exact weight at or above `threshold`, strongest first (at most 5000)."""
        sel = self.selection
        payload = self._exact_edges["maps"][f"{sel.layer}/{sel.fusion if sel.head is None else sel.head}"]
        triples = np.frombuffer(payload["data"], np.float32).reshape(payload["shape"])
        offset = self.attention.n_key - self.attention.n_query
        return [(int(i) + offset, int(j), float(w)) for i, j, w in triples]


def edge_payload(rows: np.ndarray, mask: np.ndarray, threshold: float) -> dict:
    """The cells of a displayed map at or above `threshold` (and above 0, visible), strongest first,
    as a float32 ``(edges, 3)`` payload of query row, key and weight: what the graph draws."""
    hit = (rows >= threshold) & (rows > 0) & mask
    i, j = np.nonzero(hit)
    w = rows[i, j]
    order = np.argsort(-w, kind="stable")[:MAX_EDGES]
    triples = np.stack([i[order], j[order], w[order]], axis=1).astype(np.float32).reshape(-1, 3)
    return array_payload(triples, "float32")
