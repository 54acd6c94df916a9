"""`RolloutBar`: attention rollout for one query token, as bars over the tokens."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import traitlets as t

from ..attention import Attention, renormalize
from .base import DEFAULT_GAMMA, DEFAULT_SCALE, AttentionView, array_payload, choose_tokens
from .selection import Selection

__all__ = ["RolloutBar", "attention_rollout"]


def attention_rollout(att: Attention, hide: Iterable[int] = (), residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020) over all held layers.

    Each layer's heads are averaged, mixed with the identity for the residual stream
    (``residual * I + (1 - residual) * A``), rows renormalised, and the layers multiplied from the
    first to the last: ``R = A_L' ... A_1'``. Row ``i`` of the result says how much each input token
    flows into position ``i`` at the top.

    Parameters
    ----------
    att : Attention
        Square attention (``n_query == n_key``); layers are taken in the order held.
    hide : iterable of int
        Key positions removed from every layer (rows renormalised over the others) before rolling out.
    residual : float in [0, 1]
        Weight of the identity.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` float32; each row sums to 1 over the keys it can reach.
    """
    L, H, Q, K = att.shape
    if Q != K:
        raise ValueError(f"rollout needs square attention (every token a query); got n_query={Q}, n_key={K}")
    if not 0.0 <= residual <= 1.0:
        raise ValueError(f"residual must be in [0, 1]; got {residual}")
    keep = att.mask.copy()
    keep[:, list(hide)] = False
    eye = np.eye(K, dtype=np.float64)
    rollout = eye
    for l in att.layer_ids:
        a = renormalize(att.layer(l), keep).mean(axis=0).astype(np.float64)
        a = residual * eye + (1.0 - residual) * a
        a /= a.sum(axis=-1, keepdims=True)
        rollout = a @ rollout
    return rollout.astype(np.float32)


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
        Identity weight for the residual stream (see `attention_rollout`).
    scale, gamma, colormap, hide
        Bar colours and hiding, as for `AttentionHeatmap`. Rollout with hidden tokens is
        recomputed in the kernel; an exported page keeps the rollout it was given.
    selection : Selection, optional
        Share an existing selection.
    """

    _view_kind = t.Unicode("rollout").tag(sync=True)
    query = t.Int(0).tag(sync=True)
    residual = t.Float(0.5).tag(sync=True)
    _rollout = t.Dict().tag(sync=True)
    _rollout_hide = t.List(t.Int()).tag(sync=True)

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
        r = attention_rollout(self.attention, self.hide, self.residual)
        with self.hold_trait_notifications():
            self._rollout = array_payload(r, "float16")
            self._rollout_hide = list(self.hide)

    @property
    def values(self) -> np.ndarray:
        """Rollout row of the current query (pinned token, else `query`), float32."""
        r = attention_rollout(self.attention, self.hide, self.residual)
        q = self.selection.pinned_token if self.selection.pinned_token is not None else self.query
        return r[q]
