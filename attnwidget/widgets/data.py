"""The data model: one headless widget per `Attention` holding its coded maps once.

Every view of an attention that shares a `Selection` (as `show` and `link` make them) references
the same `AttentionData` (a widget reference), found through that selection, so a map the heatmap, the graph and the token text all draw is computed, coded and
sent once; the views hold only their own state. In the browser ``js/src/lib/store.js`` inflates
the maps of each ``_maps`` value together, once for every view a bundle instance draws (a
dashboard's five), decodes a map when a view first asks for it, and tells the views when new maps
arrive.

Maps are coded as ``widgets/payload.py`` says (log-spaced 8-bit codes, or float16 with
``precision="exact"``; deflated, each map's stream joinable with the others'; causal cells
only), within a budget of coded bytes. Long inputs
are held as max-pooled overviews (see `overview_factor`), with full resolution in tiles the
heatmap fetches from the kernel.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.core import HEAD_FUSIONS, Attention, fuse_heads, max_pool, renormalize
from attnwidget.errors import AttentionError
from attnwidget.widgets.cache import DEFAULT_MAX_BYTES, LruCache
from attnwidget.widgets.payload import PRECISIONS, code_maps, coded_bytes
from attnwidget.widgets.selection import GuardedWidget

__all__ = [
    "AttentionData",
    "MapStore",
    "data_for",
    "open_data",
    "display_rows",
    "pooled_display_map",
    "overview_factor",
    "FULL_MAP_CELLS",
    "OVERVIEW_SIDE",
]

# Maps with more cells than this (1448 x 1448) are held as max-pooled overviews of at most
# OVERVIEW_SIDE cells a side by views that allow it (the heatmap); full resolution comes in tiles.
FULL_MAP_CELLS = 1448 * 1448
OVERVIEW_SIDE = 512


def overview_factor(att: Attention) -> int:
    """Pooling factor for a heatmap overview: 1 when the full map is small enough to hold."""
    if att.n_query * att.n_key <= FULL_MAP_CELLS:
        return 1
    return max(1, -(-max(att.n_query, att.n_key) // OVERVIEW_SIDE))


def display_rows(
    att: Attention,
    layer: int,
    which: int | str,
    start: int,
    stop: int,
    hide: Sequence[int] = (),
    row_normalize: bool = False,
) -> np.ndarray:
    """Query rows ``start:stop`` of one map as a view draws it, ``(stop - start, n_key)`` float32.

    `which` is a head number or a fusion (``"mean"``, ``"max"``, ``"min"``). Heads are fused first,
    then `hide` keys are removed and each row renormalised over the keys left, then (with
    `row_normalize`) each row is scaled to its own maximum: the order `js/src/lib/maps.js` uses.
    Masked cells are 0. Only these rows are computed, so lazy attention stays cheap.
    """
    mask = att.mask[start:stop]
    if isinstance(which, str):
        m = fuse_heads(att.rows(layer, start, stop), which, mask)
    else:
        m = att.rows(layer, start, stop, heads=[which])[0]
    m = np.where(mask, m, 0.0).astype(np.float32)
    if hide:
        keep = mask.copy()
        keep[:, list(hide)] = False
        m = renormalize(m, keep).astype(np.float32)
    if row_normalize:
        top = m.max(axis=1, keepdims=True)
        m = np.divide(m, top, out=np.zeros_like(m), where=top > 0)
    return m


def pooled_display_map(
    att: Attention, layer: int, which: int | str, factor: int, hide: Sequence[int] = (), row_normalize: bool = False
) -> np.ndarray:
    """`display_rows` of the whole map, max-pooled by `factor`, block of rows by block of rows.

    Blocks with no visible cell are NaN (drawn as masked). Max-pooling keeps a single sharp weight
    visible, which a mean would dilute.
    """
    step = factor * max(1, 256 // factor)
    parts = []
    for start in range(0, att.n_query, step):
        stop = min(att.n_query, start + step)
        m = max_pool(display_rows(att, layer, which, start, stop, hide, row_normalize), factor)
        seen = max_pool(att.mask[start:stop].astype(np.uint8), factor) > 0
        parts.append(np.where(seen, m, np.nan))
    return np.concatenate(parts, axis=0).astype(np.float32)


def map_key(layer: int, head: int | None, fusion: str) -> str:
    """``"layer/head"``, or ``"layer/mean"`` (``max``, ``min``) for fused heads."""
    return f"{layer}/{fusion if head is None else head}"


class MapStore:
    """Coded maps of one attention within a budget of coded bytes: full resolution, or pooled
    overviews.

    Keys are `map_key` strings. The current selection's map is always kept; the others are
    prefetched around it (same layer first, then the fused map of every layer, then the rest)
    until `max_bytes` is spent. When the selection moves in the kernel, the missing map is added
    and the least recently used ones are dropped. Exported pages hold exactly the maps in the
    state at export time; the views say so when asked for another.

    With ``factor > 1`` the maps are `pooled_display_map` overviews (hiding and row scaling
    applied in the kernel, see `options`) and only the selected one is computed up front: on lazy
    attention each costs a pass over the layer's rows.
    """

    def __init__(self, att: Attention, max_bytes: int, factor: int = 1, precision: str = "coded"):
        self.att = att
        self.factor = int(factor)
        self.precision = precision
        # Maps another view draws from (a head grid's thumbnails) are pinned: never dropped.
        self.maps: LruCache[str, dict] = LruCache(coded_bytes, max_bytes)
        self.hide: list[int] = []
        self.row_normalize = False
        # Causal cells only when the map is full resolution and the mask is the plain causal one.
        self.causal = (
            self.factor == 1
            and att.is_causal
            and bool(np.array_equal(att.mask, np.tril(np.ones(att.mask.shape, bool), k=att.n_key - att.n_query)))
        )

    def options(self, hide: Sequence[int], row_normalize: bool) -> bool:
        """Set the hiding and row scaling pooled overviews are made with; True when they changed
        (the held overviews are then dropped)."""
        hide, row_normalize = sorted(int(i) for i in hide), bool(row_normalize)
        if self.factor == 1 or (hide == self.hide and row_normalize == self.row_normalize):
            return False
        self.hide, self.row_normalize = hide, row_normalize
        self.maps.clear()
        return True

    key = staticmethod(map_key)

    def values(self, key: str) -> np.ndarray:
        """The float32 map `key` as held (pooled when ``factor > 1``), before coding."""
        layer, name = key.split("/")
        which: str | int = name if name in HEAD_FUSIONS else int(name)
        if self.factor > 1:
            return pooled_display_map(self.att, int(layer), which, self.factor, self.hide, self.row_normalize)
        if isinstance(which, str):
            m = self.att.fuse(which, layer=int(layer))
        else:
            m = self.att.head(int(layer), which)
        return np.where(self.att.mask, m, 0.0).astype(np.float32)

    def compute(self, key: str) -> dict:
        return code_maps(self.values(key), precision=self.precision, causal=self.causal)

    @property
    def max_bytes(self) -> int:
        """The budget of coded bytes (`use` may raise it)."""
        return self.maps.max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        self.maps.max_bytes = int(value)

    @property
    def pinned(self) -> set[str]:
        """Keys of maps never dropped to make room."""
        return self.maps.pinned

    @property
    def held_bytes(self) -> int:
        return self.maps.held_bytes

    def candidates(self, layer: int, head: int | None, fusion: str) -> list[str]:
        att = self.att
        order = [map_key(layer, head, fusion), map_key(layer, None, fusion)]
        order += [map_key(layer, h, fusion) for h in att.head_ids]
        order += [map_key(l, None, fusion) for l in att.layer_ids]
        if head is not None:
            order += [map_key(l, head, fusion) for l in att.layer_ids]
        li = att.layer_ids.index(layer) if layer in att.layer_ids else 0
        # Layers nearest the selected one first: a reader steps through neighbours.
        by_distance = sorted(range(len(att.layer_ids)), key=lambda i: (abs(i - li), i))
        for i in by_distance:
            order += [map_key(att.layer_ids[i], h, fusion) for h in att.head_ids]
        order += [map_key(l, None, f) for f in HEAD_FUSIONS for l in att.layer_ids]
        return list(dict.fromkeys(order))

    def fill(self, layer: int, head: int | None, fusion: str) -> None:
        """Prefetch around the selection up to the budget (full-resolution maps only)."""
        first = map_key(layer, head, fusion)
        if first not in self.maps:
            self.maps.add(first, self.compute(first))  # held whatever its size
        if self.factor > 1:
            return
        for k in self.candidates(layer, head, fusion):
            if k not in self.maps and not self.maps.offer(k, self.compute(k)):
                break

    def ensure(self, layer: int, head: int | None, fusion: str) -> bool:
        """Make the selection's map present; return True when the store changed."""
        k = map_key(layer, head, fusion)
        if self.maps.touch(k):
            return False
        self.maps.add(k, self.compute(k))
        return True

    def payload(self) -> dict:
        return {
            "keys": self.maps.keys(),
            "maps": self.maps.values(),
            "total": self.total_maps(),
            "max_bytes": self.max_bytes,
            "factor": self.factor,
            "hide": self.hide,
            "row_normalize": self.row_normalize,
            "precision": self.precision,
        }

    def total_maps(self) -> int:
        return len(self.att.layer_ids) * (len(self.att.head_ids) + len(HEAD_FUSIONS))


class AttentionData(GuardedWidget):
    """The maps of one `Attention`, coded once and shared by every view that draws them.

    Views make it (`data_for`); it is not displayed. ``_maps`` holds ``{"keys", "maps", "total",
    "max_bytes", "factor", "hide", "row_normalize", "precision"}``, each entry of ``maps`` a coded
    payload (see ``widgets/payload.py``). It closes when the last view using it closes.
    """

    _esm = """
export default { render({ model, el }) {
  el.textContent = `attnwidget data: ${(model.get("_maps").keys ?? []).length} maps held`;
} };
"""
    _maps = t.Dict().tag(sync=True)

    def __init__(
        self, att: Attention, *, max_bytes: int = DEFAULT_MAX_BYTES, factor: int = 1, precision: str = "coded"
    ):
        if precision not in PRECISIONS:
            raise AttentionError(f"precision must be one of {PRECISIONS}; got {precision!r}")
        super().__init__()
        self._att: Attention | None = att
        self.store = MapStore(att, max_bytes, factor=factor, precision=precision)
        self._users: weakref.WeakSet = weakref.WeakSet()
        # Selections that hand this model to their views (see `data_for`); told when it closes.
        self._holders: weakref.WeakSet = weakref.WeakSet()
        self._filled = False

    @property
    def attention(self) -> Attention:
        if self._att is None:
            raise AttentionError("this AttentionData is closed; its views were closed with it")
        return self._att

    @property
    def factor(self) -> int:
        """How many tokens a held cell covers per side (1: full resolution)."""
        return self.store.factor

    @property
    def held_maps(self) -> list[str]:
        """Keys of the maps the state holds."""
        return list(self.store.maps)

    def use(self, view: Any, max_bytes: int | None = None) -> None:
        """Register a view; a larger `max_bytes` raises the budget."""
        self._users.add(view)
        if max_bytes is not None and max_bytes > self.store.max_bytes:
            self.store.max_bytes = int(max_bytes)
            self._filled = False

    def pin_heads(self) -> list[str]:
        """Keys of the single heads' maps held at full resolution, kept held from now on.

        A head grid of the same attention draws these heads' thumbnails from the maps instead of
        holding thumbnails of its own, so the page carries them once. Empty for pooled overviews.
        """
        if self.store is None or self.factor != 1:
            return []
        keys = [k for k in self.store.maps if k.split("/")[1] not in HEAD_FUSIONS]
        self.store.pinned.update(keys)
        return keys

    def release(self, view: Any) -> None:
        """A view stops using these maps; the last one to leave closes the data model."""
        self._users.discard(view)
        if not self._users:
            self.close()

    def follow(self, layer: int, head: int | None, fusion: str) -> None:
        """Hold the map of this selection (prefetching around it the first time)."""
        if not self._filled:
            self._filled = True
            self.store.fill(layer, head, fusion)
            self._maps = self.store.payload()
        elif self.store.ensure(layer, head, fusion):
            self._maps = self.store.payload()

    def options(self, hide: Sequence[int], row_normalize: bool, layer: int, head: int | None, fusion: str) -> None:
        """Set the hiding and row scaling pooled overviews are made with (no-op at full resolution)."""
        if self.store.options(hide, row_normalize):
            self.store.fill(layer, head, fusion)
            self._maps = self.store.payload()

    def close(self) -> None:
        for selection in list(self._holders):
            selection._data_models.discard(self)
        super().close()
        self.store = None  # type: ignore[assignment]  # frees the maps; a closed model is not used again
        self._att = None


def open_data(att: Attention, selection: Any, *, factor: int = 1, precision: str = "coded") -> AttentionData | None:
    """The open `AttentionData` of `att` at this pooling and precision among the data models of
    the views sharing `selection`, or None (none is made).

    The selection is what `show` and `link` hand every view, so it is where the views of one
    attention find the maps they share: no registry outlives the views.
    """
    for data in list(selection._data_models):
        if data._att is att and data.store.factor == int(factor) and data.store.precision == precision:
            return data
    return None


def data_for(
    att: Attention, selection: Any, *, factor: int = 1, precision: str = "coded", max_bytes: int | None = None
) -> AttentionData:
    """The `AttentionData` of `att` the views sharing `selection` use, made (and handed to the
    selection) when there is none."""
    data = open_data(att, selection, factor=factor, precision=precision)
    if data is None:
        data = AttentionData(att, max_bytes=max_bytes or DEFAULT_MAX_BYTES, factor=factor, precision=precision)
        hold(selection, data)
    return data


def hold(selection: Any, data: AttentionData) -> None:
    """Hand `data` to the views sharing `selection` (a view linked to it brings its maps along)."""
    selection._data_models.add(data)
    data._holders.add(selection)
