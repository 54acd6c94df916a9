"""`AttentionHeatmap`: one layer's query x key map (one head, or heads fused) on a canvas.

Long inputs cross as a max-pooled overview; the browser asks for full-resolution tiles of the
region it zooms into with custom messages (``{"type": "tile", "key", "r0", "r1", "c0", "c1",
"hide", "row_normalize", "id"}``), answered with the block as float16 in one binary buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.core import HEAD_FUSIONS, Attention
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.widgets.base import DEFAULT_GAMMA, DEFAULT_SCALE, check_hide, positive_int
from attnwidget.widgets.cache import LruCache
from attnwidget.widgets.data import display_rows
from attnwidget.widgets.headgrid import effects_state
from attnwidget.widgets.measure import MeasuredMapView
from attnwidget.widgets.payload import array_payload
from attnwidget.widgets.selection import Selection

__all__ = ["AttentionHeatmap"]

# Served tiles kept by default: four of the browser's 256 x 256 float16 tiles (a zoomed screen's
# worth), more than the cache's shared default, which would keep three.
TILE_BYTES = 2**20
# The browser asks for 256 x 256 tiles; a bound keeps a bad request from computing a whole map.
MAX_TILE_CELLS = 1024 * 1024
# Served tiles kept at most, whatever their size: the byte budget holds a few full 256 x 256 tiles, and
# without a count bound 1 x 1 tiles (2 bytes of data each) would pile up by the thousand.
MAX_TILES = 32
# What a kept tile costs beside its data and id (the dict, its numbers, the key): counted so many
# small tiles cannot hide under the byte budget.
TILE_OVERHEAD = 64


class AttentionHeatmap(MeasuredMapView):
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
    max_bytes : int, optional
        Budget of coded bytes for the maps held in the shared data model (and so in exported
        HTML; 384 KB by default, raised to this when larger). The selected map is always held;
        others are prefetched around it. Past 1448 x 1448 cells a map is held as a max-pooled
        overview of at most 512 x 512 cells, and zooming in fetches full-resolution tiles from the
        kernel (an exported page keeps the overview and says so when zoomed past it); the tiles
        last served stay in the state within a quarter of `max_bytes` (1 MB by default).
    selection : Selection, optional
        Share an existing selection (what `aw.link` does).
    norms : Attention, optional
        The value-weighted attention of the same text (``aw.extract(..., measure="norms")``): the view
        then holds both sets of maps and draws the one `measure` names (a "measure" control
        switches; saved pages keep both). Same tokens, layers, heads and mask as `att`, or an error.
    measure : {"weights", "norms"}
        What is drawn: attention weights, or ``||alpha_ij f_h(x_j)||`` with rows summing to 1
        ("norms" needs `norms`).
    effects : HeadEffects, optional
        From ``aw.experiments.head_effects`` on the same layers and heads (else an error): the title
        of a selected head says its effect, e.g. "effect on log P(' Paris'): -0.85".

    Other Parameters
    ----------------
    precision : {"coded", "exact"}
        ``"coded"``: maps cross as log-spaced 8-bit codes (a weight within 2.8%, exact zeros
        kept); the tooltip reads the exact weight from the kernel when one runs, and in a saved
        page shows the coded weight with its precision. ``"exact"``: float16.

    Examples
    --------
    >>> AttentionHeatmap(att, layer=5, head=2, scale="log", hide=[0])  # doctest: +SKIP
    >>> AttentionHeatmap(att, norms=norm_att, measure="norms")  # doctest: +SKIP
    >>> AttentionHeatmap(aw.extract(model, tok, src, target=tgt).cross)  # doctest: +SKIP

    Notes
    -----
    Cross-attention (``att.query_tokens`` given) is drawn with target tokens labelling the rows
    and source tokens the columns; hovering or clicking a cell sets the selection's token to its
    source (key) position, the axis cross-attention shares with the encoder, and its
    ``hovered_query`` / ``pinned_query`` to its target row, the decoder's token. A row label sets
    the target row alone.
    """

    _view_kind = t.Unicode("heatmap").tag(sync=True)
    _frontend_writes = MeasuredMapView._frontend_writes | {"row_normalize"}
    _draws_cross = True
    row_normalize = t.Bool(False).tag(sync=True)
    # The tiles served last (a quarter of max_bytes at most), so a page exported after zooming in
    # keeps the full-resolution region that was on screen.
    _tiles = t.List(t.Dict()).tag(sync=True)
    # Each head's effect on log P(target) (`effects=`), named in the title of the selected head.
    _effects = t.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        layer: int | None = None,
        head: int | None = None,
        fusion: str = "mean",
        scale: str = DEFAULT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        row_normalize: bool = False,
        max_bytes: int | None = None,
        selection: Selection | None = None,
        norms: Attention | None = None,
        measure: str = "weights",
        effects: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            att,
            selection=selection,
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=hide,
            row_normalize=row_normalize,
            norms=norms,
            measure=measure,
            **kwargs,
        )
        sel = self.selection
        if effects is not None:
            self._effects = effects_state(effects, self.attention)
        if layer is not None:
            sel.layer = layer
        if selection is None or head is not None:
            sel.head = head
        if selection is None:
            sel.fusion = fusion
        # Float16 tiles served to the browser, kept so a page exported after zooming in keeps the
        # full-resolution region that was on screen.
        tile_bytes = positive_int("max_bytes", max_bytes) // 4 if max_bytes is not None else TILE_BYTES
        self._served: LruCache[str, dict] = LruCache(tile_cost, tile_bytes)
        self._init_maps(max_bytes, overview=True)
        self._refresh_overview()  # overviews asked for with hide=/row_normalize= are made with them
        self.observe(self._refresh_overview, names=["hide", "row_normalize"])
        self.on_msg(self._on_msg)

    @property
    def pool_factor(self) -> int:
        """How many tokens a cell of the held maps covers per side (1: full resolution)."""
        return self.data.factor

    def _refresh_overview(self, change=None) -> None:
        # Pooled overviews are made with hiding and row scaling applied; full maps are not.
        sel = self.selection
        for data in self._map_models():
            data.options(self.hide, self.row_normalize, sel.layer, sel.head, sel.fusion)

    def tile(
        self,
        key: str,
        r0: int,
        r1: int,
        c0: int,
        c1: int,
        *,
        hide: Sequence[int] | None = None,
        row_normalize: bool | None = None,
        measure: str | None = None,
    ) -> np.ndarray:
        """Rows ``r0:r1`` and keys ``c0:c1`` of the map `key` at full resolution, as drawn.

        Parameters
        ----------
        key : str
            ``"layer/head"`` or ``"layer/mean"`` (``max``, ``min``), as in `held_maps`.
        r0, r1, c0, c1 : int
            Query rows and key columns, ``0 <= r0 < r1 <= n_query``, ``0 <= c0 < c1 <= n_key``.
        hide, row_normalize, measure : optional
            As the view's traits (default: the current ones); see `display_rows`.

        Returns
        -------
        ndarray (r1 - r0, c1 - c0) float32
        """
        layer, which = self._parse_key(key)
        att = self._source(self.measure if measure is None else measure)
        for name, lo, hi, n in (("rows", r0, r1, att.n_query), ("keys", c0, c1, att.n_key)):
            if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (lo, hi)):
                raise ArgumentTypeError(f"tile {name} must be integers; got {lo!r}, {hi!r}")
            if not 0 <= lo < hi <= n:
                raise AttentionError(f"tile {name} {lo}:{hi} are out of range; expected 0 <= start < stop <= {n}")
        if (r1 - r0) * (c1 - c0) > MAX_TILE_CELLS:
            raise AttentionError(f"a tile holds at most {MAX_TILE_CELLS} cells; asked for {r1 - r0} x {c1 - c0}")
        hide = list(self.hide) if hide is None else check_hide(hide, att.n_key)
        row_normalize = self.row_normalize if row_normalize is None else bool(row_normalize)
        return display_rows(att, layer, which, int(r0), int(r1), hide, row_normalize)[:, int(c0) : int(c1)]

    def _parse_key(self, key: Any) -> tuple[int, int | str]:
        att = self.attention
        try:
            layer_s, which_s = str(key).split("/")
            layer = int(layer_s)
            which = which_s if which_s in HEAD_FUSIONS else int(which_s)
        except ValueError:
            raise AttentionError(f"map key must be 'layer/head' or 'layer/mean' (max, min); got {key!r}") from None
        if layer not in att.layer_ids:
            raise AttentionError(
                f"map key {key!r}: layer {layer} is not held (layers {att.layer_ids[0]}..{att.layer_ids[-1]})"
            )
        if not isinstance(which, str) and which not in att.head_ids:
            raise AttentionError(f"map key {key!r}: head {which} is not held (heads {list(att.head_ids)})")
        return layer, which

    def _on_msg(self, widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "value":
            self._send_value(content)
            return
        if not isinstance(content, dict) or content.get("type") != "tile":
            return
        # Fields come from the browser unchecked (Any); `tile` checks each and names what is wrong.
        field: Callable[[str], Any] = content.get
        try:
            block = self.tile(
                field("key"),
                field("r0"),
                field("r1"),
                field("c0"),
                field("c1"),
                hide=field("hide"),
                row_normalize=field("row_normalize"),
                measure=field("measure"),
            )
        except (TypeError, ValueError, IndexError) as e:
            self.send({"type": "tile-error", "id": content.get("id"), "message": str(e)})
            return
        half = np.ascontiguousarray(block, dtype=np.float16)
        info = {
            "id": str(content.get("id")),
            "key": content.get("key"),
            "r0": int(content["r0"]),
            "c0": int(content["c0"]),
        }
        self.send(
            {"type": "tile", **info, "dtype": "float16", "shape": [int(s) for s in half.shape]},
            buffers=[half.tobytes()],
        )
        self._keep_tile(info, half)

    def _send_value(self, content: dict) -> None:
        # The exact weight under the pointer, for the tooltip (the state holds coded weights).
        field: Callable[[str], Any] = content.get
        try:
            i, j = field("i"), field("j")
            v = self.tile(
                field("key"),
                i,
                (i + 1) if isinstance(i, int) else i,
                j,
                (j + 1) if isinstance(j, int) else j,
                hide=field("hide"),
                row_normalize=field("row_normalize"),
                measure=field("measure"),
            )
        except (TypeError, ValueError, IndexError) as e:
            self.send({"type": "value-error", "id": content.get("id"), "message": str(e)})
            return
        self.send({"type": "value", "id": content.get("id"), "value": float(v[0, 0])})

    def _keep_tile(self, info: dict, half: np.ndarray) -> None:
        self._served.add(info["id"], array_payload(half, "float16", **info))
        while len(self._served) > MAX_TILES:
            self._served.drop(self._served.keys()[0])
        self._tiles = self._served.values()


def tile_cost(payload: dict) -> int:
    """Bytes a kept tile counts for: its data, its id and key (the browser chooses both), and the
    rest of its entry."""
    return len(payload["data"]) + len(str(payload.get("id", ""))) + len(str(payload.get("key", ""))) + TILE_OVERHEAD
