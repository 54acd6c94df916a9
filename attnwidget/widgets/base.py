"""What every attnwidget view shares: the bundle, the token and model facts, the colour-scale
options, the link to a `Selection` and to the `AttentionData` that holds the maps, and checks on
input. How arrays cross to the browser is ``widgets/payload.py``; the maps live in ``widgets/data.py``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from attnwidget import _validate as V
from attnwidget.attention.core import Attention, causal_mask
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.widgets.data import data_for, hold, open_data, overview_factor
from attnwidget.widgets.export import ipython_display
from attnwidget.widgets.payload import PRECISIONS, array_payload
from attnwidget.widgets.selection import GuardedWidget, Selection
from attnwidget.widgets.style import STYLE

__all__ = [
    "AttentionView",
    "MapView",
    "SCALES",
    "COLORMAPS",
    "DEFAULT_SCALE",
    "DEFAULT_GAMMA",
    "check_attention",
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


def _bundle_source() -> str | Path:
    # Read once, as text: given a Path, anywidget connects a file-watch signal to a lambda that
    # holds every widget made, so closed views and their attention would never be freed. While
    # developing the frontend, ANYWIDGET_HMR=1 passes the Path so anywidget reloads the bundle on
    # every build (and holds the widgets, which is fine for that).
    if BUNDLE.exists():
        if os.environ.get("ANYWIDGET_HMR") == "1":
            return BUNDLE
        return BUNDLE.read_text(encoding="utf-8")
    # A source checkout without `make js`: say so in the cell instead of failing to import.
    return (
        "export default { render({ el }) { el.textContent = 'attnwidget: the JavaScript bundle is "
        "not built; run `cd js && npm ci && npm run build`'; } }"
    )


def check_attention(att: Any, who: str, cross: bool = False) -> Attention:
    """Return `att` if it is a usable `Attention`, else raise naming the expected form.

    `cross`: whether `who` draws cross-attention (query rows labelled by ``att.query_tokens``,
    other tokens than the keys)."""
    if not isinstance(att, Attention):
        kind = type(att).__name__
        hint = ""
        if hasattr(att, "shape"):
            hint = (
                f" (got an array of shape {tuple(att.shape)}; wrap it: "
                "aw.Attention(weights, tokens) with weights (layers, heads, n_query, n_key))"
            )
        elif kind == "Seq2SeqAttention":
            hint = " (an encoder-decoder result: pass one part, s.encoder or s.decoder, or s.cross to AttentionHeatmap)"
        raise ArgumentTypeError(
            f"{who} needs an attnwidget.Attention, got {kind}{hint}; make one with aw.extract(model, tokenizer, text)"
        )
    L, H, Q, K = att.shape
    if len(att.tokens) != K:
        raise AttentionError(f"{who}: attention has {K} keys but {len(att.tokens)} tokens")
    if getattr(att, "_query_tokens", None) is not None and not cross:
        # This view labels query rows with the last n_query tokens; rows of cross-attention are other tokens.
        raise AttentionError(
            f"{who} draws attention whose queries are its own tokens; this is cross-attention "
            "(target rows over source keys). AttentionHeatmap(att) draws it, target rows over "
            "source columns; or show the encoder or decoder part"
        )
    if att.mask.shape != (Q, K):
        raise AttentionError(f"{who}: attention mask has shape {att.mask.shape}; expected {(Q, K)}")
    return att


def check_hide(hide: Any, n_key: int) -> list[int]:
    """Token positions to hide, as a sorted list; raise on anything that is not one."""
    if hide is None:
        return []
    if isinstance(hide, (int, np.integer)):  # a view's shorthand: hide=0 hides one token
        hide = [hide]
    # The rule (negative positions count from the end) is the one `Attention.hide_tokens` uses.
    return V.positions("hide", hide, n_key)


def _shared(name: str, doc: str) -> property:
    """A view attribute that reads and writes the trait `name` of the view's `Selection`."""

    def get(self):
        return getattr(self.selection, name)

    def set(self, value):
        setattr(self.selection, name, value)

    return property(get, set, doc=doc)


class AttentionView(GuardedWidget):
    """Base of the five views (token text, heatmap, head grid, rollout, graph): tokens, model facts,
    colour-scale options and the selection link.

    Subclasses set ``_view_kind`` and fill their data traits. Selection state (layer, head,
    fusion, hovered and pinned token) lives in `selection`, shared by linked views; the
    properties `layer`, `head`, `fusion`, `hovered_token` and `pinned_token` read and write it.
    """

    _esm = _bundle_source()
    _css = STYLE
    # Views that draw cross-attention set this (see `check_attention`).
    _draws_cross = False
    _view_kind = t.Unicode("").tag(sync=True)
    # The colour-scale controls and the hiding clicks; subclasses add their own controls.
    _frontend_writes = frozenset({"scale", "gamma", "colormap", "hide"})

    selection = anywidget.WidgetTrait().tag(sync=True)

    # The per-attention facts (tokens, mask, layer and head ids, kv map, model name) are still sent
    # by each view and by the Selection, not once by the shared AttentionData: the JS views read
    # them from their own model (js/src/lib/decode.js, store.js), so moving them is a wire change
    # made in step with js/, left for a later change.
    _tokens = t.List(t.Unicode()).tag(sync=True)
    _special = t.List(t.Bool()).tag(sync=True)
    _n_query = t.Int(0).tag(sync=True)
    # Labels of the query rows when they are not the last n_query tokens (cross-attention: target
    # rows over source keys); empty otherwise. The selection's token positions are then key (source)
    # positions, and its hovered_query / pinned_query name the rows.
    _query_tokens = t.List(t.Unicode()).tag(sync=True)
    _causal = t.Bool(False).tag(sync=True)
    _layer_ids = t.List(t.Int()).tag(sync=True)
    _head_ids = t.List(t.Int()).tag(sync=True)
    _kv_of_head = t.List(t.Int()).tag(sync=True)
    # Only sent when the mask is neither causal nor all-visible (padding, custom masks).
    _mask = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    # Not `_model_name`: ipywidgets uses that for the frontend model class.
    _llm_name = t.Unicode("").tag(sync=True)
    # The measure this view draws, named in its title when a view beside it switches measures
    # (show(norms=...) sets "weights" on the views that draw weights only); "" names none.
    _measure_name = t.Unicode("").tag(sync=True)

    # Enum traits name the trait, the allowed values and the value refused.
    scale = t.Enum(SCALES, DEFAULT_SCALE).tag(sync=True)
    gamma = t.Float(DEFAULT_GAMMA).tag(sync=True)
    colormap = t.Enum(COLORMAPS, "viridis").tag(sync=True)
    hide = t.List(t.Int()).tag(sync=True)
    # "coded": maps as log-spaced 8-bit codes (a weight within 2.8%); "exact": float16.
    precision = t.Enum(PRECISIONS, "coded").tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        selection: Selection | None = None,
        scale: str = DEFAULT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        **kwargs: Any,
    ):
        # Only options this package declares: the widget base's own traits (layout, tooltip, comm...)
        # would accept a typo like layout="arc" on the wrong view and fail far from the cause.
        own = set(self.trait_names()) - set(anywidget.AnyWidget.class_trait_names())
        unknown = [k for k in kwargs if k not in own or k.startswith("_")]
        if unknown:
            raise ArgumentTypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {unknown}")
        att = check_attention(att, type(self).__name__, cross=self._draws_cross)
        self._att: Attention | None = att
        L, H, Q, K = att.shape
        mask = att.mask
        # Causal and all-visible masks are rebuilt in the browser from `_causal`; others are sent.
        plain = bool(mask.all()) or np.array_equal(mask, causal_mask(Q, K))
        super().__init__(
            _tokens=list(att.tokens),
            _special=list(att.special) if att.special is not None else [False] * K,
            _n_query=Q,
            _query_tokens=list(att.query_tokens) if att._query_tokens is not None else [],
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
        if self._att is None:
            raise AttentionError(f"this {type(self).__name__} is closed; make a new view to draw its attention")
        return self._att

    layer = _shared("layer", "Selected model layer number (shared with linked views).")
    head = _shared("head", "Selected model head number, or None for heads fused by `fusion`.")
    fusion = _shared("fusion", 'How heads are fused when `head` is None: "mean", "max" or "min".')
    hovered_token = _shared("hovered_token", "Token position under the pointer in any linked view (None when none).")
    pinned_token = _shared("pinned_token", "Token position clicked last in any linked view (None when none).")
    hovered_query = _shared(
        "hovered_query",
        "Cross-attention: the query (target) row under the pointer in any linked view (None when none).",
    )
    pinned_query = _shared(
        "pinned_query", "Cross-attention: the query (target) row clicked last in any linked view (None when none)."
    )

    def _repr_keys(self):  # keep repr short: the data traits are megabytes of bytes
        return iter(())

    def _ipython_display_(self) -> None:
        # The export host rides beside the widget so `nbconvert --to html` pages draw offline.
        ipython_display(self)


class MapView(AttentionView):
    """A view that draws the selected layer/head from the maps of the shared `AttentionData`.

    The view holds a reference (``data``) and no maps of its own: every view of one attention
    reads the same coded maps.
    """

    data = anywidget.WidgetTrait().tag(sync=True)

    def _init_maps(self, max_bytes: int | None, overview: bool = False) -> None:
        if max_bytes is not None:
            positive_int("max_bytes", max_bytes)
        sel = self.selection
        factor = overview_factor(self.attention) if overview else 1
        data = data_for(self.attention, sel, factor=factor, precision=self.precision, max_bytes=max_bytes)
        data.use(self, max_bytes)
        data.follow(sel.layer, sel.head, sel.fusion)
        self.data = data
        sel.observe(self._refresh_maps, names=["layer", "head", "fusion"])
        self.observe(self._rebind_maps, names="selection")

    def _unfollow(self) -> None:
        super()._unfollow()
        self.selection.unobserve(self._refresh_maps, names=["layer", "head", "fusion"])
        self.data.release(self)

    def _rebind_maps(self, change) -> None:
        change["old"].unobserve(self._refresh_maps, names=["layer", "head", "fusion"])
        change["new"].attach(self.attention)
        self._share_maps(change["new"])
        change["new"].observe(self._refresh_maps, names=["layer", "head", "fusion"])
        self._refresh_maps()

    def _refresh_maps(self, change=None) -> None:
        sel = self.selection
        self.data.follow(sel.layer, sel.head, sel.fusion)

    def _share_maps(self, selection: Selection) -> None:
        """Linked to `selection`: use the maps its views already hold, or bring this view's."""
        data = self.data
        there = open_data(self.attention, selection, factor=data.factor, precision=data.store.precision)
        if there is None:
            hold(selection, data)
        elif there is not data:
            there.use(self, data.store.max_bytes)
            self.data = there
            data.release(self)

    @property
    def held_maps(self) -> list[str]:
        """Keys (``"layer/head"``, ``"layer/mean"``) of the maps the shared data model holds."""
        return self.data.held_maps


def positive_int(name: str, value: Any) -> int:
    """Check a positive integer option (byte budgets, sizes)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise AttentionError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def choose_tokens(att: Attention, index: int | None, name: str) -> int | None:
    """Validate a token position against `att` (None passes)."""
    return None if index is None else token_position(att, index, name)


def token_position(att: Attention, index: int, name: str) -> int:
    """Validate a token position against `att`."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ArgumentTypeError(f"{name} must be a token position (int) or None; got {index!r}")
    if not 0 <= int(index) < att.n_key:
        raise AttentionError(f"{name}={index} is out of range for {att.n_key} tokens (expected 0..{att.n_key - 1})")
    return int(index)
