"""`RolloutBar`: attention rollout for one query token, as bars over the tokens.

The view holds traits and the worker thread; the numbers are `attnwidget.metrics.flow`'s. Short
inputs send the whole rollout matrix (`metrics.flow.rollout_with_hidden`). Longer ones send only
the rows of the query tokens asked for (`metrics.flow.rollout_rows`: a vector-times-matrix chain
through the layers, O(layers x n^2), instead of the n^3 matrix products of the full rollout).
Those rows are computed in a worker thread, so pinning a token never blocks the kernel; the view
shows the pass's progress (``_pending``) until the row arrives.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError
from attnwidget.metrics.flow import rollout_rows, rollout_with_hidden
from attnwidget.widgets.base import DEFAULT_GAMMA, SCALES, AttentionView, choose_tokens, token_position
from attnwidget.widgets.payload import code_maps
from attnwidget.widgets.selection import Selection

__all__ = ["RolloutBar"]

# Rollout through many layers spans many decades (a sink near 1, the rest down to 1e-8): its codes
# reach further down than the maps' (within 4.2% instead of 2.8%).
ROLLOUT_FLOOR = 1e-9
# The rollout's own default scale. Bar heights on it are proportional to the rollout, and a bar that
# dwarfs the rest (a decoder's first token: 1.0 against at most 1e-5 on SmolLM2) is cut with a break
# mark and its value printed (js/src/lib/bars.js). The views' log default drew that sink and a 1e-5
# bar at heights 3:1.
ROLLOUT_SCALE = "linear"
# Up to this many tokens the state holds full rollout matrices (two coded n x n: about 80 KB at 256).
FULL_ROLLOUT_TOKENS = 256
# Rows held in the state for longer inputs (least recently asked for dropped first).
MAX_ROLLOUT_ROWS = 64
# Attention cells one pass over every layer may compute before the kernel waits to be asked: about
# 30 layers x 9 heads at 1024 tokens, a few seconds on a laptop CPU for lazy attention.
EAGER_CELLS = 3 * 10**8
# How long interpreter exit waits for running rollout workers to stop (each stops at its next row
# block, a fraction of a second); past it the daemon thread is left as before.
EXIT_JOIN_S = 5.0

# Set once the interpreter starts to exit: every running pass stops at its next row block, so no
# numpy work runs while the interpreter is being torn down (which aborted the process).
_STOP = threading.Event()
_WORKERS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def _stop_workers() -> None:
    """At interpreter exit, before daemon threads are abandoned: signal every rollout worker and
    wait (a bounded time) for it to return."""
    _STOP.set()
    for worker in list(_WORKERS):
        if worker is not threading.current_thread():
            worker.join(EXIT_JOIN_S)


# threading's own exit hook runs in `threading._shutdown`, before `atexit` handlers and before
# the interpreter finalises modules; `atexit` is the fallback where it is missing.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_stop_workers)
else:  # pragma: no cover
    import atexit

    atexit.register(_stop_workers)


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
        Identity weight for the residual stream (see `attnwidget.metrics.flow.rollout`).
    scale : {"linear", "log", "power"}
        How bar heights and colours follow the rollout; ``"linear"`` by default (not the other
        views' ``"log"``). On ``"linear"`` a bar's height is proportional to its value: a bar more
        than 4 times every other (a decoder's first token, which takes nearly all of the rollout)
        is cut at the top with a break mark and its value printed, and the other bars are drawn
        against the largest of them. ``"log"`` and ``"power"`` heights follow their scale (not
        proportional; the caption says so). Colours show the absolute weight on the scale, as in
        the other views.
    gamma, colormap, hide
        As for `AttentionHeatmap`. Rollout with hidden tokens is
        recomputed in the kernel; the state also holds the rollout with the first token's hiding
        toggled, so an exported page can switch between the two.
    selection : Selection, optional
        Share an existing selection.

    Notes
    -----
    Above 256 tokens the state holds rollout rows, not matrices: the default query's, every
    generation step's (attention from ``aw.generate``) and each pinned token's, at most 64. A row
    costs one pass over every layer's attention; when that pass is small (materialised attention,
    or lazy attention up to about 1024 tokens for SmolLM2's 270 heads) the kernel computes rows as
    tokens are pinned, otherwise the view offers a button that asks for the row. An exported page
    keeps the rows it was saved with and says which ones it holds.
    """

    _view_kind = t.Unicode("rollout").tag(sync=True)
    scale = t.Enum(SCALES, ROLLOUT_SCALE).tag(sync=True)
    query = t.Int(0).tag(sync=True)
    residual = t.Float(0.5).tag(sync=True)
    _rollout = t.Dict().tag(sync=True)
    _rollout_hide = t.List(t.Int()).tag(sync=True)
    # The same rollout with the first token's hiding toggled, so the "hide first token" control
    # works in an exported page too (one more coded n x n).
    _rollout_alt = t.Dict().tag(sync=True)
    _rollout_alt_hide = t.List(t.Int()).tag(sync=True)
    # Rows the kernel is computing and the fraction of the pass done: {"rows": [...], "done": 0.4}.
    _pending = t.Dict().tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        query: int | None = None,
        residual: float = 0.5,
        scale: str = ROLLOUT_SCALE,
        gamma: float = DEFAULT_GAMMA,
        colormap: str = "viridis",
        hide: Iterable[int] | None = None,
        selection: Selection | None = None,
        **kwargs: Any,
    ):
        if isinstance(att, Attention) and att.n_query != att.n_key:
            cross = (
                " This is cross-attention (target rows over source keys): AttentionHeatmap(att) draws it"
                if att._query_tokens is not None
                else ""
            )
            raise AttentionError(
                f"RolloutBar needs square attention (every token a query); got "
                f"n_query={att.n_query}, n_key={att.n_key}.{cross}"
            )
        super().__init__(
            att,
            selection=selection,
            scale=scale,
            gamma=gamma,
            colormap=colormap,
            hide=hide,
            residual=residual,
            **kwargs,
        )
        att = self.attention
        default = att.n_key - 1 if att.is_causal else 0
        self.query = default if query is None else token_position(att, query, "query")
        self._rows: OrderedDict[int, None] = OrderedDict()  # rows asked for (long inputs)
        self._computed: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # for `_config`
        self._config: tuple = ()
        self._lock = threading.Lock()
        # Snapshot and publish as one step: the worker and the kernel both publish, and a snapshot taken
        # before the other's newer rows must not land after them (a pinned row would vanish from the state).
        self._publishing = threading.RLock()
        self._idle = threading.Event()
        self._idle.set()
        self._worker: threading.Thread | None = None
        if att.n_key > FULL_ROLLOUT_TOKENS:
            wanted = [self.query]
            sel = self.selection
            if sel.n_steps:
                wanted += [sel.step_row(s) for s in range(sel.n_steps)]
            if sel.pinned_token is not None:
                wanted.append(sel.pinned_token)
            if self.eager:
                for q in wanted[-MAX_ROLLOUT_ROWS:]:
                    self._rows[q] = None
        self._build()
        self.observe(self._build, names=["hide", "residual"])
        self.selection.observe(self._on_pin, names="pinned_token")
        self.observe(self._rebind_pin, names="selection")
        self.on_msg(self._on_msg)

    def _unfollow(self) -> None:
        super()._unfollow()
        self.selection.unobserve(self._on_pin, names="pinned_token")

    def _rebind_pin(self, change) -> None:
        change["old"].unobserve(self._on_pin, names="pinned_token")
        change["new"].observe(self._on_pin, names="pinned_token")
        if change["new"].pinned_token is not None:
            self._on_pin({"new": change["new"].pinned_token})

    @property
    def full(self) -> bool:
        """True when the state holds whole rollout matrices (short inputs), False for rows."""
        return self.attention.n_key <= FULL_ROLLOUT_TOKENS

    @property
    def eager(self) -> bool:
        """True when a rollout row is cheap enough to compute whenever a token is pinned."""
        att = self.attention
        L, H, Q, K = att.shape
        return not att.is_lazy or L * H * Q * K <= EAGER_CELLS

    @property
    def held_rows(self) -> list[int]:
        """Query positions whose rollout rows the state holds (every one for short inputs)."""
        if self.full:
            return list(range(self.attention.n_key))
        return list(self._rollout.get("rows", []))

    def request_rows(self, queries: Iterable[int], wait: bool = False) -> None:
        """Compute and hold the rollout rows of `queries` (long inputs; a no-op when held).

        The rows are computed in a worker thread (the kernel stays free; the view shows progress);
        with ``wait=True`` this returns once they are in the state.
        """
        new = [token_position(self.attention, q, "query") for q in queries]
        if self.full:
            return
        if not all(q in self._rows for q in new):
            with self._lock:
                for q in new:
                    self._rows[q] = None
                    self._rows.move_to_end(q)
                while len(self._rows) > MAX_ROLLOUT_ROWS:
                    self._rows.popitem(last=False)
            self._build()
        if wait:
            self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the rows asked for are computed and in the state; False on timeout."""
        return self._idle.wait(timeout)

    def _settle(self) -> None:
        # Called before the state is saved to a page: rows being computed belong in it.
        self.wait()

    def close(self) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            with lock:
                self._config = ("closed",)  # a running pass stops at its next block
        super().close()

    def _on_pin(self, change) -> None:
        if change["new"] is not None and not self.full and self.eager:
            self.request_rows([change["new"]])

    def _on_msg(self, widget, content, buffers) -> None:
        if not isinstance(content, dict) or content.get("type") != "rollout-row":
            return
        try:
            self.request_rows([content["query"]])
        except (KeyError, TypeError, ValueError) as e:
            self.send({"type": "rollout-error", "message": str(e)})

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
        if self.full:
            r = rollout_with_hidden(self.attention, hide, self.residual)
            r_alt = rollout_with_hidden(self.attention, alt, self.residual)
            self._publish(r, r_alt, hide, alt, {})
            return
        with self._lock:
            config = (tuple(hide), tuple(alt), float(self.residual))
            if config != self._config:
                self._config, self._computed = config, {}
            missing = [q for q in self._rows if q not in self._computed]
            if not missing or (self._worker is not None and self._worker.is_alive()) or _STOP.is_set():
                start = False  # nothing to do, the running worker picks the rows up, or exiting
            else:
                self._idle.clear()
                worker = threading.Thread(target=self._work, name="attnwidget-rollout", daemon=True)
                self._worker = worker
                start = True
        if start:
            _WORKERS.add(worker)
            worker.start()
        self._publish_rows()

    def _work(self) -> None:
        """Worker thread: compute the rows asked for, batch by batch, until none is missing."""
        while True:
            with self._lock:
                config = self._config
                missing = [q for q in self._rows if q not in self._computed]
                if not missing or config == ("closed",) or _STOP.is_set():
                    self._worker = None
                    self._idle.set()
                    return
            hide, alt, residual = config
            self._pending = {"rows": missing, "done": 0.0}

            def progress(done, missing=missing):
                self._pending = {"rows": missing, "done": round(done, 2)}

            def cancelled(config=config) -> bool:
                return _STOP.is_set() or self._config != config

            try:
                out = rollout_rows(
                    self.attention, missing, [list(hide), list(alt)], residual, progress=progress, cancelled=cancelled
                )
            except Exception as e:  # shown in the view rather than lost in a thread
                self._pending = {"rows": [], "error": f"{type(e).__name__}: {e}"}
                with self._lock:
                    self._rows.clear()
                continue
            with self._lock:
                if out is None or self._config != config:
                    continue  # options changed mid-pass: start again with the new ones
                for i, q in enumerate(missing):
                    self._computed[q] = (out[0][i], out[1][i])
            self._pending = {}
            self._publish_rows()

    def _publish_rows(self) -> None:
        with self._publishing:
            with self._lock:
                if self._config == ("closed",):
                    return
                hide, alt, _ = self._config
                rows = [q for q in self._rows if q in self._computed]
                n = self.attention.n_key
                r = np.stack([self._computed[q][0] for q in rows]) if rows else np.zeros((0, n), np.float32)
                r_alt = np.stack([self._computed[q][1] for q in rows]) if rows else np.zeros((0, n), np.float32)
            self._publish(r, r_alt, list(hide), list(alt), {"rows": rows, "eager": self.eager})

    def _publish(self, r, r_alt, hide, alt, extra) -> None:
        with self.hold_trait_notifications():
            self._rollout = {**code_maps(r, precision=self.precision, floor=ROLLOUT_FLOOR), **extra}
            self._rollout_hide = hide
            self._rollout_alt = {**code_maps(r_alt, precision=self.precision, floor=ROLLOUT_FLOOR), **extra}
            self._rollout_alt_hide = alt

    @property
    def values(self) -> np.ndarray:
        """Rollout row of the current query (pinned token, else `query`), float32."""
        q = self.selection.pinned_token if self.selection.pinned_token is not None else self.query
        if self.full:
            return rollout_with_hidden(self.attention, self.hide, self.residual)[q]
        rows = rollout_rows(self.attention, [q], [list(self.hide)], self.residual)
        assert rows is not None  # only a `cancelled` callback stops the pass early
        return rows[0][0]
