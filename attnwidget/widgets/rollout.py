"""`RolloutBar`: attention rollout for one query token, as bars over the tokens."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import traitlets as t

from .. import metrics
from ..attention import Attention, renormalize
from .base import DEFAULT_GAMMA, DEFAULT_SCALE, AttentionView, array_payload, choose_tokens
from .selection import Selection

__all__ = ["RolloutBar", "rollout_with_hidden"]


def rollout_with_hidden(att: Attention, hide: Sequence[int] = (), residual: float = 0.5) -> np.ndarray:
    """`metrics.rollout` of `att` with the `hide` key positions removed from every layer.

    Each head's rows are renormalised over the keys left before heads are averaged, so the
    rollout composes the maps the views draw. Streams one layer at a time.
    """
    if not hide:
        return metrics.rollout(att, residual=residual)
    keep = att.mask.copy()
    keep[:, list(hide)] = False
    fused = np.stack([renormalize(att.layer(l), keep).mean(axis=0) for l in att.layer_ids])
    return metrics.rollout(fused[:, None], keep, residual=residual)


class RolloutBar(AttentionView):
    """Attention rollout for one query token as bars over the tokens.

    The query is the pinned token of the shared selection (click a token in any linked view), or
    `query` when nothing is pinned: by default the first token for encoders and the last for
    decoders.

    Parameters
    ----------
    att : Attention
        Square attention (``n_query == n_key``).
    query : int, optional
        Default query position.
    residual : float in [0, 1]
        Identity weight for the residual stream (see `attnwidget.metrics.rollout`).
    scale, gamma, colormap, hide
        Bar colours and hiding, as for `AttentionHeatmap`. Rollout with hidden tokens is
        recomputed in the kernel; the state also holds the rollout with the first token's hiding
        toggled, so an exported page can switch between the two.
    selection : Selection, optional
        Share an existing selection.
    """

    _view_kind = t.Unicode("rollout").tag(sync=True)
    query = t.Int(0).tag(sync=True)
    residual = t.Float(0.5).tag(sync=True)
    _rollout = t.Dict().tag(sync=True)
    _rollout_hide = t.List(t.Int()).tag(sync=True)
    # The same rollout with the first token's hiding toggled, so the "hide first token" control
    # works in an exported page too (one more n x n float16).
    _rollout_alt = t.Dict().tag(sync=True)
    _rollout_alt_hide = t.List(t.Int()).tag(sync=True)

    def __init__(self, att: Attention, query: int | None = None, *, residual: float = 0.5,
                 scale: str = DEFAULT_SCALE, gamma: float = DEFAULT_GAMMA, colormap: str = "viridis",
                 hide: Iterable[int] | None = None, selection: Selection | None = None, **kwargs: Any):
        if isinstance(att, Attention) and att.n_query != att.n_key:
            raise ValueError(f"RolloutBar needs square attention (every token a query); got "
                             f"n_query={att.n_query}, n_key={att.n_key}")
        super().__init__(att, selection=selection, scale=scale, gamma=gamma, colormap=colormap, hide=hide,
                         residual=residual, **kwargs)
        att = self.attention
        default = att.n_key - 1 if att.is_causal else 0
        self.query = default if query is None else choose_tokens(att, query, "query")
        self._build()
        self.observe(self._build, names=["hide", "residual"])

    @t.validate("query")
    def _check_query(self, proposal):
        try:
            return choose_tokens(self.attention, proposal["value"], "query")
        except (TypeError, ValueError) as e:
            raise t.TraitError(str(e)) from None

    @t.validate("residual")
    def _check_residual(self, proposal):
        v = proposal["value"]
        if not 0.0 <= v <= 1.0:
            raise t.TraitError(f"residual must be in [0, 1]; got {v!r}")
        return v

    def _build(self, change=None) -> None:
        hide = list(self.hide)
        alt = sorted(set(hide) ^ {0})
        r = rollout_with_hidden(self.attention, hide, self.residual)
        r_alt = rollout_with_hidden(self.attention, alt, self.residual)
        with self.hold_trait_notifications():
            self._rollout = array_payload(r, "float16")
            self._rollout_hide = hide
            self._rollout_alt = array_payload(r_alt, "float16")
            self._rollout_alt_hide = alt

    @property
    def values(self) -> np.ndarray:
        """Rollout row of the current query (pinned token, else `query`), float32."""
        r = rollout_with_hidden(self.attention, self.hide, self.residual)
        q = self.selection.pinned_token if self.selection.pinned_token is not None else self.query
        return r[q]
