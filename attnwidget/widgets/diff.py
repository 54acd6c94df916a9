"""`AttentionDiff`: where two attentions disagree, over the same tokens or two prompts.

Two models (a base and a fine-tuned one), two layers, weights against value-weighted norms, or
one model on two prompts: any pair of `Attention` objects with the same number of layers and
heads. Layers and heads pair by position, so ``att.select(layers=[3])`` against
``att.select(layers=[9])`` compares two layers. Tokens pair by an alignment
(`attention.alignment`): position by position for token lists of the same length, by words
otherwise, or by pairs the caller gives; the diff covers aligned positions only. The view draws
``b - a`` for the selected layer and head on a diverging colour map, and a grid of every head
pair coloured by how far apart they are (`summary`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.alignment import Alignment, align_tokens
from attnwidget.attention.core import HEAD_FUSIONS, Attention
from attnwidget.errors import AttentionError
from attnwidget.metrics.compare import total_variation
from attnwidget.widgets.base import DEFAULT_GAMMA, AttentionView, array_payload, check_attention, positive_int
from attnwidget.widgets.cache import DEFAULT_MAX_BYTES, LruCache
from attnwidget.widgets.selection import Selection

__all__ = ["AttentionDiff"]

DIFF_SCALES = ("linear", "power")


def _same_shape(a: Attention, b: Attention) -> None:
    if a.num_layers != b.num_layers:
        raise AttentionError(
            f"AttentionDiff pairs layers and heads by position; a has {a.num_layers} layers, b has "
            f"{b.num_layers} (select the same number of each: a.select(layers=[...]))"
        )
    if a.num_heads != b.num_heads:
        raise AttentionError(
            f"AttentionDiff pairs layers and heads by position; a has {a.num_heads} heads, b has "
            f"{b.num_heads} (select the same number of each: a.select(heads=[...]))"
        )


def _aligned_rows(a: Attention, b: Attention, al: Alignment) -> tuple[np.ndarray, ...]:
    """Pair indices that are query rows of both, their query rows in a and in b, and the aligned mask."""
    off_a, off_b = a.n_key - a.n_query, b.n_key - b.n_query
    rows = [c for c, (i, j) in enumerate(al.pairs) if i >= off_a and j >= off_b]
    if not rows:
        raise AttentionError(
            "AttentionDiff: no aligned position is a query row of both a and b, so there is no row to compare"
        )
    ka, kb = np.array(al.a), np.array(al.b)
    qa, qb = ka[rows] - off_a, kb[rows] - off_b
    mask_a, mask_b = a.mask[np.ix_(qa, ka)], b.mask[np.ix_(qb, kb)]
    if not np.array_equal(mask_a, mask_b):
        r, c = (int(x[0]) for x in np.nonzero(mask_a != mask_b))
        (i, j), (ki, kj) = al.pairs[rows[r]], al.pairs[c]
        seen = "a" if mask_a[r, c] else "b"
        raise AttentionError(
            f"AttentionDiff needs the same visible-key mask in a and b at aligned positions; query a[{i}] / "
            f"b[{j}] sees key a[{ki}] / b[{kj}] only in {seen} (one is causal and the other not, their "
            "padding differs, or the alignment reorders the positions of a causal model)"
        )
    return np.array(rows), qa, qb, mask_a


class AttentionDiff(AttentionView):
    """``b - a`` for two attentions at aligned token positions, with a per-head difference grid.

    Parameters
    ----------
    a, b : Attention
        The same number of layers and heads (paired by position), and the same visible-key mask
        at aligned positions. The layer and head numbers of the selection are those of `a`, and
        so are the token positions of hover and pin.
    align : str or list of (int, int), optional
        How tokens of a pair with tokens of b (`attention.alignment.align_tokens`): ``"positions"``
        (the default for token lists of the same length; the view labels a position whose tokens
        differ with both, " cat→ dog"), ``"words"`` (the default otherwise), ``"tokens"``, or the
        ``(i, j)`` pairs themselves, one-to-one. Positions without a partner are left out of the
        maps and of `summary`, and named in `alignment` and in the view.
    names : (str, str)
        What to call a and b in titles, tooltips and the legend.
    layer, head : optional
        Initial selection (model numbers of `a`); ``head=None`` compares heads fused by the
        selection's `fusion`.
    scale : {"linear", "power"}
        Colour scale of ``|b - a|`` on each side of zero (the largest difference in the map is
        full colour); ``gamma`` is the power scale's exponent.
    colormap
        Sequential colour map of the head grid.
    max_bytes : int
        Budget for the float16 map pairs held in the widget state (`widgets.cache.DEFAULT_MAX_BYTES`,
        384 KiB, by default); the selected pair is always held, and an exported page keeps the
        pairs it was saved with.
    selection : Selection, optional
        Share the selection of other views of `a` (hover, pin, layer and head follow).
    """

    _view_kind = t.Unicode("diff").tag(sync=True)
    _maps = t.Dict().tag(sync=True)
    _summary = t.Dict().tag(sync=True)
    _names = t.List(t.Unicode()).tag(sync=True)
    _b_layer_ids = t.List(t.Int()).tag(sync=True)
    _b_head_ids = t.List(t.Int()).tag(sync=True)
    _b_tokens = t.List(t.Unicode()).tag(sync=True)
    # Columns of the maps: a's and b's positions of each aligned pair; rows: the pair indices that
    # are query rows of both; only_a, only_b: positions with no partner.
    _align = t.Dict().tag(sync=True)

    def __init__(
        self,
        a: Attention,
        b: Attention,
        *,
        align: str | list[tuple[int, int]] | None = None,
        names: tuple[str, str] = ("a", "b"),
        layer: int | None = None,
        head: int | None = None,
        scale: str = "linear",
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "magma",
        max_bytes: int = DEFAULT_MAX_BYTES,
        selection: Selection | None = None,
        **kwargs: Any,
    ):
        a = check_attention(a, "AttentionDiff")
        b = check_attention(b, "AttentionDiff")
        _same_shape(a, b)
        self._alignment = align_tokens(a, b, align)
        self._rows, self._qa, self._qb, self._aligned_mask = _aligned_rows(a, b, self._alignment)
        self._ka, self._kb = np.array(self._alignment.a), np.array(self._alignment.b)
        # Identical positions and query rows: the maps are used whole, with no copies.
        self._whole = self._alignment.is_identity and a.n_query == b.n_query
        if scale not in DIFF_SCALES:
            raise AttentionError(
                f"AttentionDiff scale must be one of {DIFF_SCALES} (a difference has a sign, so no "
                f"log scale); got {scale!r}"
            )
        if isinstance(names, str) or len(names) != 2:
            raise AttentionError(f"names must be two strings (for a and b); got {names!r}")
        names = (str(names[0]), str(names[1]))
        self._b = b
        self._max_bytes = positive_int("max_bytes", max_bytes)
        self._pairs: LruCache[str, np.ndarray] = LruCache(lambda pair: pair.nbytes, self._max_bytes)
        super().__init__(a, selection=selection, scale=scale, gamma=gamma, colormap=colormap, **kwargs)
        self._names, self._b_layer_ids, self._b_head_ids = list(names), list(b.layer_ids), list(b.head_ids)
        al = self._alignment
        self._b_tokens = list(b.tokens)
        self._align = {
            "a": al.a,
            "b": al.b,
            "rows": [int(r) for r in self._rows],
            "only_a": list(al.only_a),
            "only_b": list(al.only_b),
            "method": al.method,
        }
        if layer is not None:
            self.selection.layer = layer
        if head is not None:
            self.selection.head = head
        self._summary = array_payload(self.summary(), "float32")
        self._fill()
        self.selection.observe(self._refresh, names=["layer", "head", "fusion"])

    @t.validate("scale")
    def _check_diff_scale(self, proposal):
        if proposal["value"] not in DIFF_SCALES:
            raise t.TraitError(f"AttentionDiff scale must be one of {DIFF_SCALES}; got {proposal['value']!r}")
        return proposal["value"]

    @property
    def b(self) -> Attention:
        """The second attention (`attention` is the first)."""
        return self._b

    @property
    def alignment(self) -> Alignment:
        """Which position of a pairs with which of b (``pairs``), and those with no partner
        (``only_a``, ``only_b``)."""
        return self._alignment

    def _aligned(self, maps: np.ndarray, side: str) -> np.ndarray:
        """``(..., aligned query rows, aligned keys)`` of one side's ``(..., Q, K)`` maps."""
        if self._whole:
            return maps
        q, k = (self._qa, self._ka) if side == "a" else (self._qb, self._kb)
        return maps[..., q[:, None], k[None, :]]

    # ------------------------------------------------------------------ numbers

    def summary(self) -> np.ndarray:
        """``(layers, heads)`` total variation distance between each head of a and its pair in b.

        The mean over aligned query rows of ``(1/2) sum_j |a_ij - b_ij|`` over aligned keys: 0 for
        heads that attend identically, 1 for heads whose rows share no mass (mass on keys with no
        partner is left out). Computed a layer at a time.
        """
        a, b = self.attention, self._b
        out = np.empty((a.num_layers, a.num_heads), dtype=np.float32)
        for li, (la, lb) in enumerate(zip(a.layer_ids, b.layer_ids, strict=True)):
            out[li] = total_variation(
                self._aligned(a.layer(la), "a"), self._aligned(b.layer(lb), "b"), self._aligned_mask
            )
        return out

    def pair(self, layer: int, head: int | None = None, fusion: str = "mean") -> np.ndarray:
        """``(2, rows, keys)``: the map of a and its pair in b for one layer and head (or fusion), at
        aligned positions (rows: the aligned pairs that are query rows of both, in pair order)."""
        a, b = self.attention, self._b
        li = a.layer_ids.index(a.layer_ids[a._layer_index(layer)])
        lb = b.layer_ids[li]
        if head is None:
            if fusion not in HEAD_FUSIONS:
                raise AttentionError(f"fusion must be one of {HEAD_FUSIONS}; got {fusion!r}")
            pa, pb = a.fuse(fusion, layer=a.layer_ids[li]), b.fuse(fusion, layer=lb)
        else:
            hi = a._head_index(head)
            pa, pb = a.head(a.layer_ids[li], a.head_ids[hi]), b.head(lb, b.head_ids[hi])
        return np.stack([self._aligned(pa, "a"), self._aligned(pb, "b")])

    def difference(self, layer: int, head: int | None = None, fusion: str = "mean") -> np.ndarray:
        """``(rows, keys)``: ``b - a`` at aligned positions, as the view draws it (see `pair`)."""
        pa, pb = self.pair(layer, head, fusion)
        return pb - pa

    # ------------------------------------------------------------------ the maps in the widget state

    @staticmethod
    def _key(layer: int, head: int | None, fusion: str) -> str:
        return f"{layer}/{fusion if head is None else head}"

    def _compute(self, key: str) -> np.ndarray:
        layer, which = key.split("/")
        head = None if which in HEAD_FUSIONS else int(which)
        return self.pair(int(layer), head, which if head is None else "mean").astype(np.float16)

    def _fill(self) -> None:
        """The selected pair, then the rest of its layer, then the other layers nearest first."""
        a, sel = self.attention, self.selection
        order = [self._key(sel.layer, sel.head, sel.fusion), self._key(sel.layer, None, sel.fusion)]
        li = a._layer_index(sel.layer)
        for i in sorted(range(a.num_layers), key=lambda i: (abs(i - li), i)):
            order += [self._key(a.layer_ids[i], h, sel.fusion) for h in a.head_ids]
        first, *rest = dict.fromkeys(order)
        self._pairs.add(first, self._compute(first))
        for k in rest:
            if k not in self._pairs and not self._pairs.offer(k, self._compute(k)):
                break
        self._publish()

    def _refresh(self, change=None) -> None:
        sel = self.selection
        k = self._key(sel.layer, sel.head, sel.fusion)
        if self._pairs.touch(k):
            return
        self._pairs.add(k, self._compute(k))
        self._publish()

    def _publish(self) -> None:
        keys = self._pairs.keys()
        a = self.attention
        total = a.num_layers * (a.num_heads + len(HEAD_FUSIONS))
        self._maps = array_payload(
            np.stack([self._pairs[k] for k in keys]), "float16", keys=keys, total=total, max_bytes=self._max_bytes
        )

    @property
    def held_maps(self) -> list[str]:
        """Keys (``"layer/head"``, ``"layer/mean"``) of the map pairs the widget state holds."""
        return list(self._maps.get("keys", []))
