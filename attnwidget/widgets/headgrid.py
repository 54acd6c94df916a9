"""`HeadGrid`: every layer x head as small multiples, with a token strip."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from attnwidget import _validate as V
from attnwidget import metrics
from attnwidget.analysis.ablation import HeadEffects
from attnwidget.attention.arrays import hidden_keys_mask
from attnwidget.attention.core import Attention, max_pool, renormalize
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.widgets.base import DEFAULT_GAMMA, DEFAULT_SCALE, AttentionView, positive_int
from attnwidget.widgets.data import AttentionData, open_data
from attnwidget.widgets.payload import array_payload, code_maps
from attnwidget.widgets.selection import Selection

__all__ = ["HeadGrid"]

# Thumbnail cells (both sets) before deflate: 43 x 43 a head for SmolLM2's 270 heads, about the
# 46 CSS pixels the grid draws a thumbnail at. A resolution budget, not a cache: the thumbnails are
# made once per hiding, so nothing is dropped (widgets/cache.py holds what views drop).
THUMB_CELLS = 2**20
# Attention cells the thumbnails of lazy attention may compute (about 3 s on a laptop CPU). Past
# it, each pooled block of query rows is represented by a few of its rows (keys stay max-pooled
# exactly): every head's full map at 4096 tokens would be a minute's work before anything shows.
SAMPLE_CELLS = 10**8
SAMPLED_SIDE = 40
ORDERS = ("model", "tint")


def _pool_keys(m: np.ndarray, factor: int) -> np.ndarray:
    """Max-pool the last axis by `factor` (zero-padded), leaving the rows as they are."""
    *lead, k = m.shape
    tk = -(-k // factor)
    padded = np.zeros((*lead, tk * factor), dtype=m.dtype)
    padded[..., :k] = m
    return padded.reshape(*lead, tk, factor).max(axis=-1)


# Metrics a `tint` may name: the per-head metrics of `attnwidget.metrics` that take no argument.
TINT_METRICS = ("entropy", "sparsity", "coverage", "locality", "focus_consistency", "confidence", "sink_mass")


def effect_label(effects: HeadEffects) -> str:
    """What a head's effect measures, as views name it: ``effect on log P(' Paris')``."""
    return f"effect on log P({effects.target!r})"


def check_effects(name: str, effects: Any, att: Attention) -> np.ndarray:
    """`effects` (a `HeadEffects`) as a ``(layers, heads)`` float32 array in `att`'s order; refused
    unless it measured exactly the layers and heads `att` holds."""
    if not isinstance(effects, HeadEffects):
        raise ArgumentTypeError(
            f"{name} must be the HeadEffects of aw.experiments.head_effects; got {type(effects).__name__}"
        )
    layers, heads = [int(x) for x in effects.layers], [int(x) for x in effects.heads]
    if layers != list(att.layer_ids) or heads != list(att.head_ids):
        hint = (
            f"draw att.select(layers={layers}, heads={heads})"
            if set(layers) <= set(att.layer_ids) and set(heads) <= set(att.head_ids)
            else "measure the attention's layers and heads"
        )
        raise AttentionError(
            f"{name} measured layers {V.show(layers)} and heads {V.show(heads)}, but the attention "
            f"holds layers {V.show(att.layer_ids)} and heads {V.show(att.head_ids)}; the effects must "
            f"be of the same heads: {hint}, or run head_effects(..., layers=..., heads=...) on them"
        )
    return _check_tint(name, effects.delta, att.num_layers, att.num_heads)


def effects_state(effects: Any, att: Attention) -> dict[str, Any]:
    """The ``_effects`` state of a view: the label, the layer and head numbers and each head's
    effect (plain lists: a few hundred numbers), for the title of the selected head."""
    delta = check_effects("effects", effects, att)
    return {
        "label": effect_label(effects),
        "layers": list(att.layer_ids),
        "heads": list(att.head_ids),
        "values": [[float(v) for v in row] for row in delta],
        "clean": float(effects.clean),
    }


def _tint_values(name: str, tint: Any, att: Attention) -> np.ndarray:
    """A per-head tint as a checked ``(layers, heads)`` float32 array; a metric name is computed."""
    if isinstance(tint, HeadEffects):
        return check_effects(name, tint, att)
    if isinstance(tint, str):
        metric = V.choice(name, tint, TINT_METRICS)
        tint = getattr(metrics, metric)(att)
    return _check_tint(name, tint, att.num_layers, att.num_heads)


def _check_tint(name: str, tint: Any, L: int, H: int) -> np.ndarray:
    tint = V.array(name, tint, finite=False).astype(np.float32)
    if tint.shape != (L, H):
        raise AttentionError(f"{name} must have shape (layers, heads) = {(L, H)}; got {tint.shape}")
    if not np.all(np.isfinite(tint)):
        raise AttentionError(f"{name} holds NaN or infinity; give one finite value per head")
    return tint


def _with_effects(tint: Any, effects: Any) -> Any:
    """`tint` with `effects` added first as a named tint (the `effects=` argument of HeadGrid)."""
    if effects is None:
        return tint
    if not isinstance(effects, HeadEffects):
        raise ArgumentTypeError(
            f"effects must be the HeadEffects of aw.experiments.head_effects; got {type(effects).__name__}"
        )
    named: dict[str, Any] = {effect_label(effects): effects}
    if isinstance(tint, dict):
        named.update(tint)
    elif isinstance(tint, tuple) and len(tint) == 2 and isinstance(tint[0], str):
        named[tint[0]] = tint[1]
    elif isinstance(tint, str):
        named[tint] = tint
    elif tint is not None:
        named["tint"] = tint
    return named


class HeadGrid(AttentionView):
    """Small multiples of every layer and head, like a model overview.

    Hovering a token (in the strip or any linked view) draws that token's attention row in every
    thumbnail; clicking a thumbnail selects that layer and head in every linked view. Query heads
    that share a kv head (grouped-query attention) are drawn as one group.

    Parameters
    ----------
    att : Attention
        The attention to draw.
    tint : optional
        A per-head value shown as a coloured bar under each thumbnail, as one of:

        - an array-like ``(layers, heads)`` (e.g. ``aw.metrics.entropy(att)``);
        - a metric name (``"entropy"``, ``"sink_mass"``, ... any of `TINT_METRICS`), computed
          here and named in the legend;
        - a ``(label, values)`` pair, `values` an array or a metric name, `label` what it
          measures for the legend and tooltips;
        - a dict ``{label: values}``: several per-head values a menu in the view switches between,
          the first shown (``aw.show`` gives entropy and sink mass);
        - a `HeadEffects` (``aw.experiments.head_effects``), alone, in a pair or as a dict value:
          each head's effect on log P(target), drawn on a diverging scale centred at 0 (blue: the
          head helps the target, red: it works against it). It must have measured exactly the
          attention's layers and heads (``att.select(...)`` first, or ``head_effects(..., layers=)``);
          otherwise an `AttentionError` says which.

        The trait `tint_label` names the one shown; with a dict, setting it to another label (or
        ``""``, none) switches, as the menu does.
    effects : HeadEffects, optional
        The same as adding ``{"effect on log P(target)": effects}`` to `tint`, shown first: the
        common case, ``aw.HeadGrid(att, effects=aw.experiments.head_effects(...))`` or
        ``aw.show(att, effects=...)`` (which also puts the selected head's effect in the heatmap's
        and graph's titles).
    labels : 2-D list of str (layers, heads), optional
        A short text per head (e.g. a head role), shown in the thumbnail's corner and tooltip.
    order : {"model", "tint"}
        Heads in model order, or sorted by `tint` (descending) within each layer.
    scale, gamma, colormap, hide
        Colour-scale and hiding options, as for `AttentionHeatmap`. Hidden tokens are removed and
        rows renormalised before thumbnails are made, in the kernel. The state also holds the
        thumbnails with the first token's hiding toggled, so an exported page can switch between
        the two; other changes need the kernel.
        On lazy attention too long to compute every map quickly, each block of pooled query rows
        is represented by its first few rows (the legend says how many).
    max_bytes : int
        Budget for the thumbnails (both sets), in cells of one byte before deflate. Inputs too long
        for it are max-pooled by an integer factor; the pooled block of the hovered token is then
        what a thumbnail's row shows (the legend states the factor). Thumbnails cross coded as
        the maps do (``precision``, see ``widgets/payload.py``).
    selection : Selection, optional
        Share an existing selection.

    Notes
    -----
    When another view of the same attention already holds full-resolution maps of some heads (the
    shared ``AttentionData``, as in ``aw.show``), those heads' thumbnails are pooled from the maps
    in the browser instead of crossing a second time; the data model keeps those maps held.
    """

    _view_kind = t.Unicode("headgrid").tag(sync=True)
    _frontend_writes = AttentionView._frontend_writes | {"tint_label"}
    tint_label = t.Unicode("").tag(sync=True)
    order = t.Enum(ORDERS, "model").tag(sync=True)
    _thumbs = t.Dict().tag(sync=True)
    _thumbs_hide = t.List(t.Int()).tag(sync=True)
    _thumbs_alt = t.Dict().tag(sync=True)
    _thumbs_alt_hide = t.List(t.Int()).tag(sync=True)
    _pool = t.Int(1).tag(sync=True)
    # Query rows per pooled block the thumbnails were made from (0: every row).
    _sampled_rows = t.Int(0).tag(sync=True)
    _tint = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    _labels = t.List(t.List(t.Unicode())).tag(sync=True)
    # Named per-head values the view's tint menu switches between (`tint_label` names the shown one).
    _tints = t.Dict().tag(sync=True)
    # Labels of tints drawn on a diverging scale centred at 0 (signed values: head effects).
    _tint_signed = t.List(t.Unicode()).tag(sync=True)
    # The shared data model whose held maps give some thumbnails (None: every thumbnail is sent),
    # and the keys ("layer/head") of those heads: their cells in `_thumbs` are left empty.
    data = anywidget.WidgetTrait().tag(sync=True)
    _thumb_maps = t.List(t.Unicode()).tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        tint: Any = None,
        effects: HeadEffects | None = None,
        labels: Any = None,
        order: str = "model",
        scale: str = DEFAULT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        max_bytes: int = THUMB_CELLS,
        selection: Selection | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            att,
            selection=selection,
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=hide,
            **kwargs,
        )
        L, H, Q, K = self.attention.shape
        self._max_bytes = positive_int("max_bytes", max_bytes)
        self._set_tint(_with_effects(tint, effects), kwargs.get("tint_label"))
        if labels is not None:
            rows = [[str(x) for x in row] for row in labels]
            if len(rows) != L or any(len(r) != H for r in rows):
                raise AttentionError(f"labels must be {L} rows (layers) of {H} strings (heads)")
            self._labels = rows
        self.order = order
        data = open_data(self.attention, self.selection, factor=1, precision=self.precision)
        if data is not None:
            data.use(self)
            self.data = data
        self._build()
        self.observe(self._build, names="hide")

    def _set_tint(self, tint: Any, label: str | None) -> None:
        """Fill ``_tint``, ``_tints`` and `tint_label` from the one `tint` argument (forms in the
        class docstring); `label`, when the caller set the trait too, picks the one shown."""
        if tint is None:
            return
        att = self.attention
        if isinstance(tint, HeadEffects):
            tint = {effect_label(tint): tint}
        elif isinstance(tint, tuple) and len(tint) == 2 and isinstance(tint[1], HeadEffects):
            tint = {tint[0]: tint[1]}
        if isinstance(tint, dict):
            if not tint or not all(isinstance(k, str) and k for k in tint):
                raise ArgumentTypeError("tint must be a non-empty dict of name -> (layers, heads) array")
            checked = {k: _tint_values(f"tint[{k!r}]", v, att) for k, v in tint.items()}
            self._tints = {k: array_payload(v, "float32") for k, v in checked.items()}
            self._tint_signed = [k for k, v in tint.items() if isinstance(v, HeadEffects)]
            shown = next(iter(checked)) if label is None else label
            if shown not in ("", *checked):
                raise AttentionError(f"tint_label {shown!r} is not one of tints {sorted(checked)} (or '' for none)")
            if shown:
                self._tint = self._tints[shown]
            self.tint_label = shown
            return
        name = tint if isinstance(tint, str) else ""
        if isinstance(tint, tuple) and len(tint) == 2 and isinstance(tint[0], str):
            name, tint = tint
        self._tint = array_payload(_tint_values("tint", tint, att), "float32")
        self.tint_label = name if label is None else label

    @t.validate("tint_label")
    def _check_tint_label(self, proposal):
        v = proposal["value"]
        if self._tints and v not in ("", *self._tints):
            raise t.TraitError(f"tint_label {v!r} is not one of tints {sorted(self._tints)} (or '' for none)")
        return v

    def _unfollow(self) -> None:
        super()._unfollow()
        if isinstance(self.data, AttentionData):
            self.data.release(self)

    @t.validate("order")
    def _check_order(self, proposal):
        v = proposal["value"]
        if v == "tint" and self._tint is None:
            raise t.TraitError("order='tint' needs tint=<(layers, heads) array>")
        return v

    def _sample(self, factor: int) -> int:
        """Query rows per pooled block to compute (0: all of them)."""
        att = self.attention
        L, H, Q, K = att.shape
        if not att.is_lazy or factor == 1 or L * H * Q * K <= SAMPLE_CELLS:
            return 0
        blocks = -(-Q // factor)
        return max(1, min(factor, SAMPLE_CELLS // (L * H * K * blocks)))

    def _thumbnails(self, hides: list[list[int]], factor: int, sampled: int) -> list[np.ndarray]:
        """Thumbnails for each hiding in `hides`, each layer's rows computed once for all of them."""
        att = self.attention
        L, H, Q, K = att.shape
        keeps = []
        for hide in hides:
            keep = hidden_keys_mask(att.mask, hide)
            keeps.append(keep if hide else None)
        out = [np.zeros((L, H, -(-Q // factor), -(-K // factor)), np.float32) for _ in hides]
        # Blocks of whole pooled rows, or the first `sampled` rows of each pooled block: lazy
        # attention never holds a full layer here.
        step = factor * max(1, 256 // factor)
        for li, layer in enumerate(att.layer_ids):
            if sampled:
                for b in range(0, Q, factor):
                    rows = att.rows(layer, b, min(Q, b + sampled))
                    for o, kept in zip(out, keeps):
                        m = rows if kept is None else renormalize(rows, kept[b : b + rows.shape[1]])
                        o[li, :, b // factor] = _pool_keys(m, factor).max(axis=1)
                continue
            for start in range(0, Q, step):
                stop = min(Q, start + step)
                rows = att.rows(layer, start, stop)
                for o, kept in zip(out, keeps):
                    m = rows if kept is None else renormalize(rows, kept[start:stop])
                    pooled = max_pool(m, factor)
                    o[li, :, start // factor : start // factor + pooled.shape[-2]] = pooled
        return out

    def _build(self, change=None) -> None:
        att = self.attention
        L, H, Q, K = att.shape
        # Two sets share the budget: the current hiding and the first token's hiding toggled, so
        # the "hide first token" control also works in an exported page.
        side = max(1, int(math.sqrt(self._max_bytes / (2 * L * H))))
        factor = max(1, -(-max(Q, K) // side))
        if self._sample(factor):
            # Sampled rows cost a call per block: no more blocks than a thumbnail has pixels.
            factor = max(factor, -(-max(Q, K) // SAMPLED_SIDE))
        hide = list(self.hide)
        alt = sorted(set(hide) ^ {0})
        sampled = self._sample(factor)
        thumbs, thumbs_alt = self._thumbnails([hide, alt], factor, sampled)
        # Heads whose full maps the data model holds: pooled from those in the browser (for any
        # hiding), so their cells here are left empty (zeros deflate to almost nothing). Sampled
        # thumbnails stay as they are, so every thumbnail shows the same rows.
        from_maps = self.data.pin_heads() if isinstance(self.data, AttentionData) and not sampled else []
        for key in from_maps:
            layer, head = (int(x) for x in key.split("/"))
            li, hi = att.layer_ids.index(layer), att.head_ids.index(head)
            thumbs[li, hi] = 0
            thumbs_alt[li, hi] = 0
        with self.hold_trait_notifications():
            self._thumb_maps = from_maps
            self._pool = factor
            self._sampled_rows = sampled
            self._thumbs = code_maps(thumbs, precision=self.precision)
            self._thumbs_hide = hide
            self._thumbs_alt = code_maps(thumbs_alt, precision=self.precision)
            self._thumbs_alt_hide = alt
