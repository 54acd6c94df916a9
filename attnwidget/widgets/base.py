"""What every attnwidget view shares: the bundle, the token and model facts, the colour-scale
options, the link to a `Selection`, checks on input, and how arrays cross to the browser.

Arrays never cross as JSON lists. A payload is a dict ``{"dtype", "shape", "data"}`` whose
``data`` is bytes (ipywidgets sends it as a binary buffer, exported HTML as base64); the browser
reads it in ``js/src/lib/decode.js``. Maps are float16 (attention lies in [0, 1]; float16 keeps
three significant digits and, through subnormals, values down to 6e-8, which the log scale needs).
Thumbnails are uint8 with a square-root encoding and one scale per map (see `quantize_sqrt_u8`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterable, Sequence

import anywidget
import numpy as np
import traitlets as t

from ..attention import HEAD_FUSIONS, Attention, causal_mask, fuse_heads, max_pool, renormalize
from .export import ipython_display
from .selection import Selection
from .style import STYLE

__all__ = [
    "AttentionView",
    "MapView",
    "MapStore",
    "SCALES",
    "COLORMAPS",
    "DEFAULT_SCALE",
    "DEFAULT_GAMMA",
    "array_payload",
    "quantize_sqrt_u8",
    "check_attention",
    "display_rows",
    "pooled_display_map",
]

BUNDLE = Path(__file__).resolve().parent.parent / "static" / "widget.js"

SCALES = ("linear", "log", "power")
COLORMAPS = ("viridis", "cividis", "magma", "greys")
# Log over three decades below the largest weight: on SmolLM2 (128 tokens, all 270 heads) it lifts
# 40% of non-sink cells off the darkest colour against 2% for linear, and draws 236 distinct colours
# per head against 127 (benchmarks/colour_scales.py). Attention is multiplicative structure; a
# log scale shows a 0.01 weight beside a 0.9 sink.
DEFAULT_SCALE = "log"
DEFAULT_GAMMA = 0.4


def _bundle_source() -> str:
    # Read once, as text: given a Path, anywidget connects a file-watch signal to a lambda that
    # holds every widget made, so closed views and their attention would never be freed.
    if BUNDLE.exists():
        return BUNDLE.read_text(encoding="utf-8")
    # A source checkout without `make js`: say so in the cell instead of failing to import.
    return (
        "export default { render({ el }) { el.textContent = 'attnwidget: the JavaScript bundle is "
        "not built; run `cd js && npm ci && npm run build`'; } }"
    )


def array_payload(array: np.ndarray, dtype: str = "float16", **extra: Any) -> dict:
    """Wrap an array as a binary payload ``{"dtype", "shape", "data", **extra}``.

    Parameters
    ----------
    array : numpy.ndarray
        Any shape; stored C-contiguous in `dtype`.
    dtype : {"float16", "float32", "uint8"}
        Wire type; the browser decodes these three.
    """
    if dtype not in ("float16", "float32", "uint8"):
        raise ValueError(f"payload dtype must be float16, float32 or uint8; got {dtype!r}")
    a = np.ascontiguousarray(array, dtype=dtype)
    return {"dtype": dtype, "shape": [int(s) for s in a.shape], "data": a.tobytes(), **extra}


def quantize_sqrt_u8(maps: np.ndarray) -> dict:
    """Quantise ``(..., rows, cols)`` maps in [0, 1] to uint8 through a square root.

    Each map gets its own scale ``s`` (its maximum); a cell stores ``round(255 * sqrt(v / s))`` and
    decodes as ``s * (q / 255) ** 2``. The square root spends the 256 levels where attention lives:
    the smallest non-zero level is ``s / 65025``, so a log colour scale over three decades still
    sees every weight a linear uint8 code (step ``s / 255``) would round to zero. Thumbnails only:
    the eye cannot tell the difference at thumbnail size.
    """
    m = np.asarray(maps, dtype=np.float32)
    lead = m.shape[:-2]
    flat = m.reshape(-1, m.shape[-2] * m.shape[-1])
    scale = flat.max(axis=1)
    safe = np.where(scale > 0, scale, 1.0)[:, None]
    q = np.rint(255.0 * np.sqrt(np.clip(flat / safe, 0.0, 1.0))).astype(np.uint8)
    return array_payload(q.reshape(m.shape), "uint8", encoding="sqrt",
                         scale=[float(s) for s in scale], scale_shape=[int(s) for s in lead])


def check_attention(att: Any, who: str) -> Attention:
    """Return `att` if it is a usable `Attention`, else raise naming the expected form."""
    if not isinstance(att, Attention):
        kind = type(att).__name__
        hint = ""
        if hasattr(att, "shape"):
            hint = (f" (got an array of shape {tuple(att.shape)}; wrap it: "
                    "aw.Attention(weights, tokens) with weights (layers, heads, n_query, n_key))")
        raise TypeError(f"{who} needs an attnwidget.Attention, got {kind}{hint}; "
                        "make one with aw.extract(model, tokenizer, text)")
    L, H, Q, K = att.shape
    if len(att.tokens) != K:
        raise ValueError(f"{who}: attention has {K} keys but {len(att.tokens)} tokens")
    if att.mask.shape != (Q, K):
        raise ValueError(f"{who}: attention mask has shape {att.mask.shape}; expected {(Q, K)}")
    return att


def check_hide(hide: Any, n_key: int) -> list[int]:
    """Token positions to hide, as a sorted list; raise on anything that is not one."""
    if hide is None:
        return []
    if isinstance(hide, (int, np.integer)):
        hide = [hide]
    try:
        items = list(hide)
    except TypeError:
        raise TypeError(f"hide must be a list of token positions, e.g. hide=[0]; got {hide!r}") from None
    out = set()
    for i in items:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"hide must hold integer token positions; got {i!r}")
        if not -n_key <= int(i) < n_key:
            raise ValueError(f"hide: token position {int(i)} is out of range for {n_key} tokens "
                             f"(expected 0..{n_key - 1})")
        out.add(int(i) % n_key)
    return sorted(out)


def _shared(name: str, doc: str) -> property:
    """A view attribute that reads and writes the trait `name` of the view's `Selection`."""

    def get(self):
        return getattr(self.selection, name)

    def set(self, value):
        setattr(self.selection, name, value)

    return property(get, set, doc=doc)


class AttentionView(anywidget.AnyWidget):
    """Base of the four views: tokens, model facts, colour-scale options and the selection link.

    Subclasses set ``_view_kind`` and fill their data traits. Selection state (layer, head,
    fusion, hovered and pinned token) lives in `selection`, shared by linked views; the
    properties `layer`, `head`, `fusion`, `hovered_token` and `pinned_token` read and write it.
    """

    _esm = _bundle_source()
    _css = STYLE
    _view_kind = t.Unicode("").tag(sync=True)

    selection = anywidget.WidgetTrait().tag(sync=True)

    _tokens = t.List(t.Unicode()).tag(sync=True)
    _special = t.List(t.Bool()).tag(sync=True)
    _n_query = t.Int(0).tag(sync=True)
    _causal = t.Bool(False).tag(sync=True)
    _layer_ids = t.List(t.Int()).tag(sync=True)
    _head_ids = t.List(t.Int()).tag(sync=True)
    _kv_of_head = t.List(t.Int()).tag(sync=True)
    # Only sent when the mask is neither causal nor all-visible (padding, custom masks).
    _mask = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    # Not `_model_name`: ipywidgets uses that for the frontend model class.
    _llm_name = t.Unicode("").tag(sync=True)

    # Enum traits name the trait, the allowed values and the value refused.
    scale = t.Enum(SCALES, DEFAULT_SCALE).tag(sync=True)
    gamma = t.Float(DEFAULT_GAMMA).tag(sync=True)
    colormap = t.Enum(COLORMAPS, "viridis").tag(sync=True)
    hide = t.List(t.Int()).tag(sync=True)

    def __init__(self, att: Attention, *, selection: Selection | None = None, scale: str = DEFAULT_SCALE,
                 gamma: float = DEFAULT_GAMMA, colormap: str = "viridis", hide: Iterable[int] | None = None,
                 **kwargs: Any):
        # Only options this package declares: the widget base's own traits (layout, tooltip, comm...)
        # would accept a typo like layout="arc" on the wrong view and fail far from the cause.
        own = set(self.trait_names()) - set(anywidget.AnyWidget.class_trait_names())
        unknown = [k for k in kwargs if k not in own or k.startswith("_")]
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {unknown}")
        att = check_attention(att, type(self).__name__)
        self._att = att
        L, H, Q, K = att.shape
        mask = att.mask
        # Causal and all-visible masks are rebuilt in the browser from `_causal`; others are sent.
        plain = bool(mask.all()) or np.array_equal(mask, causal_mask(Q, K))
        super().__init__(
            _tokens=list(att.tokens),
            _special=list(att.special) if att.special is not None else [False] * K,
            _n_query=Q,
            _causal=att.is_causal,
            _layer_ids=list(att.layer_ids),
            _head_ids=list(att.head_ids),
            _kv_of_head=[att.kv_head_of(h) for h in att.head_ids],
            _mask=None if plain else array_payload(mask, "uint8"),
            _llm_name=str(att.meta.get("model", "")),
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=check_hide(hide, K),
            **kwargs,
        )
        if selection is None:
            selection = Selection(att)
            # Made here, so closed when the last view using it closes (a selection given by the
            # caller is the caller's to close).
            selection._made_by_view = True
        selection.attach(att)
        self.selection = selection
        selection._users.add(self)
        self._closed = False
        self.observe(self._move_user, names="selection")

    # ------------------------------------------------------------------ validation

    @t.validate("gamma")
    def _check_gamma(self, proposal):
        g = proposal["value"]
        if not (math.isfinite(g) and 0 < g <= 10):
            raise t.TraitError(f"gamma (power scale exponent) must be in (0, 10]; got {g!r}")
        return g

    @t.validate("hide")
    def _check_hide_trait(self, proposal):
        try:
            return check_hide(proposal["value"], len(self._tokens))
        except (TypeError, ValueError) as e:
            raise t.TraitError(str(e)) from None

    @t.validate("selection")
    def _check_selection(self, proposal):
        sel = proposal["value"]
        if not isinstance(sel, Selection):
            raise t.TraitError(f"selection must be an attnwidget Selection; got {type(sel).__name__}")
        return sel

    def _move_user(self, change) -> None:
        change["new"]._users.add(self)
        if change["old"] is not None and change["old"] is not change["new"]:
            change["old"].release(self)

    def _unfollow(self) -> None:
        """Remove the observers this view put on its selection (subclasses extend)."""

    def close(self) -> None:
        """Close the view and free what it holds: its observers on the shared selection, the
        attention, and the selection itself when a view made it and no open view uses it any more.
        A closed view can be garbage collected."""
        if getattr(self, "_closed", True):  # closed already, or __init__ failed before the end
            super().close()
            return
        self._closed = True
        self._unfollow()
        self.unobserve(self._move_user, names="selection")
        super().close()
        self.selection.release(self)
        self._att = None

    # ------------------------------------------------------------------ selection shortcuts

    @property
    def attention(self) -> Attention:
        """The `Attention` this view draws."""
        return self._att

    layer = _shared("layer", "Selected model layer number (shared with linked views).")
    head = _shared("head", "Selected model head number, or None for heads fused by `fusion`.")
    fusion = _shared("fusion", 'How heads are fused when `head` is None: "mean", "max" or "min".')
    hovered_token = _shared("hovered_token", "Token position under the pointer in any linked view (None when none).")
    pinned_token = _shared("pinned_token", "Token position clicked last in any linked view (None when none).")

    def _repr_keys(self):  # keep repr short: the data traits are megabytes of bytes
        return iter(())

    def _ipython_display_(self) -> None:
        # The export host rides beside the widget so `nbconvert --to html` pages draw offline.
        ipython_display(self)


class MapView(AttentionView):
    """A view that draws the selected layer/head at full resolution from a `MapStore`."""

    _maps = t.Dict().tag(sync=True)

    def _init_maps(self, max_bytes: int, overview: bool = False) -> None:
        sel = self.selection
        factor = overview_factor(self.attention, positive_int("max_bytes", max_bytes)) if overview else 1
        self._store = MapStore(self.attention, max_bytes, factor=factor)
        self._store.fill(sel.layer, sel.head, sel.fusion)
        self._maps = self._store.payload()
        sel.observe(self._refresh_maps, names=["layer", "head", "fusion"])
        self.observe(self._rebind_maps, names="selection")

    def _unfollow(self) -> None:
        super()._unfollow()
        self.selection.unobserve(self._refresh_maps, names=["layer", "head", "fusion"])
        self._store = None

    def _rebind_maps(self, change) -> None:
        change["old"].unobserve(self._refresh_maps, names=["layer", "head", "fusion"])
        change["new"].attach(self.attention)
        change["new"].observe(self._refresh_maps, names=["layer", "head", "fusion"])
        self._refresh_maps()

    def _refresh_maps(self, change=None) -> None:
        sel = self.selection
        if self._store.ensure(sel.layer, sel.head, sel.fusion):
            self._maps = self._store.payload()

    @property
    def held_maps(self) -> list[str]:
        """Keys (``"layer/head"``, ``"layer/mean"``) of the maps the widget state holds."""
        return list(self._maps.get("keys", []))


# A map over this many bytes (float16) is sent as a max-pooled overview of at most OVERVIEW_SIDE
# cells a side when the view allows it; full resolution then comes in tiles on request.
OVERVIEW_SIDE = 512


def overview_factor(att: Attention, max_bytes: int) -> int:
    """Pooling factor for a heatmap overview: 1 when a full map fits in half of `max_bytes`."""
    if att.n_query * att.n_key * 2 <= max_bytes // 2:
        return 1
    return max(1, -(-max(att.n_query, att.n_key) // OVERVIEW_SIDE))


def display_rows(att: Attention, layer: int, which: int | str, start: int, stop: int,
                 hide: Sequence[int] = (), row_normalize: bool = False) -> np.ndarray:
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


def pooled_display_map(att: Attention, layer: int, which: int | str, factor: int, hide: Sequence[int] = (),
                       row_normalize: bool = False) -> np.ndarray:
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


class MapStore:
    """Float16 maps of one view, within a byte budget: full resolution, or pooled overviews.

    Keys are ``"layer/head"`` or ``"layer/mean"`` (``max``, ``min``) strings. The current
    selection's map is always kept; the others are prefetched around it (same layer first, then
    the fused map of every layer, then the rest) until `max_bytes` is spent. When the selection
    moves in the kernel, the missing map is added and the least recently used ones are dropped.
    Exported pages hold exactly the maps in the trait at export time; the view says so when asked
    for another.

    With ``factor > 1`` the maps are `pooled_display_map` overviews (hiding and row scaling
    applied in the kernel, see `options`) and only the selected one is computed up front: on lazy
    attention each costs a pass over the layer's rows.
    """

    def __init__(self, att: Attention, max_bytes: int, factor: int = 1):
        self.att = att
        self.max_bytes = int(max_bytes)
        self.factor = int(factor)
        rows, cols = -(-att.n_query // self.factor), -(-att.n_key // self.factor)
        self.map_bytes = rows * cols * 2
        self.maps: OrderedDict[str, np.ndarray] = OrderedDict()
        self.hide: list[int] = []
        self.row_normalize = False

    def options(self, hide: Sequence[int], row_normalize: bool) -> bool:
        """Set the hiding and row scaling pooled overviews are made with; True when they changed
        (the held overviews are then dropped)."""
        hide, row_normalize = sorted(int(i) for i in hide), bool(row_normalize)
        if self.factor == 1 or (hide == self.hide and row_normalize == self.row_normalize):
            return False
        self.hide, self.row_normalize = hide, row_normalize
        self.maps.clear()
        return True

    @staticmethod
    def key(layer: int, head: int | None, fusion: str) -> str:
        return f"{layer}/{fusion if head is None else head}"

    def compute(self, key: str) -> np.ndarray:
        layer, which = key.split("/")
        which = which if which in HEAD_FUSIONS else int(which)
        if self.factor > 1:
            m = pooled_display_map(self.att, int(layer), which, self.factor, self.hide, self.row_normalize)
        elif isinstance(which, str):
            m = self.att.fuse(which, layer=int(layer))
        else:
            m = self.att.head(int(layer), which)
        return np.asarray(m, dtype=np.float16)

    @property
    def capacity(self) -> int:
        return max(1, self.max_bytes // max(1, self.map_bytes))

    def candidates(self, layer: int, head: int | None, fusion: str) -> list[str]:
        att = self.att
        order = [self.key(layer, head, fusion), self.key(layer, None, fusion)]
        order += [self.key(layer, h, fusion) for h in att.head_ids]
        order += [self.key(l, None, fusion) for l in att.layer_ids]
        if head is not None:
            order += [self.key(l, head, fusion) for l in att.layer_ids]
        li = att.layer_ids.index(layer) if layer in att.layer_ids else 0
        # Layers nearest the selected one first: a reader steps through neighbours.
        by_distance = sorted(range(len(att.layer_ids)), key=lambda i: (abs(i - li), i))
        for i in by_distance:
            order += [self.key(att.layer_ids[i], h, fusion) for h in att.head_ids]
        order += [self.key(l, None, f) for f in HEAD_FUSIONS for l in att.layer_ids]
        return list(dict.fromkeys(order))

    def fill(self, layer: int, head: int | None, fusion: str) -> None:
        """Prefetch around the selection up to the budget (used once, at construction)."""
        for k in self.candidates(layer, head, fusion)[: self.capacity if self.factor == 1 else 1]:
            if k not in self.maps:
                self.maps[k] = self.compute(k)

    def ensure(self, layer: int, head: int | None, fusion: str) -> bool:
        """Make the selection's map present; return True when the store changed."""
        k = self.key(layer, head, fusion)
        if k in self.maps:
            self.maps.move_to_end(k)
            return False
        self.maps[k] = self.compute(k)
        while len(self.maps) > self.capacity:
            self.maps.popitem(last=False)
        return True

    def payload(self) -> dict:
        keys = list(self.maps)
        stack = np.stack([self.maps[k] for k in keys])
        return array_payload(stack, "float16", keys=keys, total=self.total_maps(),
                             max_bytes=self.max_bytes, factor=self.factor, hide=self.hide,
                             row_normalize=self.row_normalize)

    def total_maps(self) -> int:
        return len(self.att.layer_ids) * (len(self.att.head_ids) + len(HEAD_FUSIONS))


def format_bytes(n: int) -> str:
    """``1536 -> '1.5 KB'``, for messages and docstrings."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def positive_int(name: str, value: Any) -> int:
    """Check a positive integer option (byte budgets, sizes)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def choose_tokens(att: Attention, index: int | None, name: str) -> int | None:
    """Validate a token position against `att` (None passes)."""
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{name} must be a token position (int) or None; got {index!r}")
    if not 0 <= int(index) < att.n_key:
        raise ValueError(f"{name}={index} is out of range for {att.n_key} tokens (expected 0..{att.n_key - 1})")
    return int(index)
