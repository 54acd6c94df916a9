"""The shared selection: one headless widget model that linked views all reference.

Hover, pin, layer, head and fusion live here, not in any view, so linking works in the browser
alone (exported HTML has no kernel) and every change is a trait the kernel can read and set.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

import anywidget
import ipywidgets
import numpy as np
import traitlets as t

from attnwidget._validate import show
from attnwidget.attention.core import HEAD_FUSIONS, Attention, step_row
from attnwidget.errors import ArgumentTypeError, AttentionError, ViewIndexError

__all__ = ["Selection", "GuardedWidget"]

log = logging.getLogger("attnwidget.widgets")

# What a browser write may fail with: the traits' own checks, as for the same value set in Python.
REFUSALS = (t.TraitError, AttentionError, TypeError, ValueError)


class GuardedWidget(anywidget.AnyWidget):
    """An anywidget whose state the browser may write only where the reader acts.

    ipywidgets applies every ``update`` message from the frontend to any synced trait
    (``Widget._handle_msg`` -> ``Widget.set_state``), private ones included: a message setting
    ``_esm`` would be kept and written into every saved page, which runs it. Here `set_state`
    keeps only the traits named in ``_frontend_writes`` (what the views' controls set), checks
    each like the same value set from Python, logs what it refuses, and sends the kernel's value
    back so the browser shows what the kernel holds. It lives in this module because every widget
    of the package imports it.

    `close` also closes the ``Layout`` widget ipywidgets makes for each DOM widget, which would
    otherwise stay registered (and held) after the widget is closed.
    """

    # Traits a browser may write; everything else synced is the kernel's to set.
    _frontend_writes: ClassVar[frozenset[str]] = frozenset()

    def set_state(self, sync_data: Mapping[str, Any]) -> None:
        """Apply a state update from the frontend: allowed traits only, each checked."""
        resend = []
        for name, value in dict(sync_data).items():
            if name not in self._frontend_writes:
                log.warning(
                    "%s: refused a frontend write to %r (the kernel sets it); kept the kernel's value",
                    type(self).__name__,
                    name,
                )
                resend.append(name)
                continue
            try:
                # One trait at a time: a bad value leaves the others of the same message applied.
                super().set_state({name: value})
            except REFUSALS as e:
                log.warning("%s: refused %s=%r from the frontend: %s", type(self).__name__, name, value, e)
                resend.append(name)
        back = [n for n in resend if n in self.keys]
        if back and self.comm is not None:
            self.send_state(back)

    def close(self) -> None:
        """Close the widget and the ``Layout`` widget ipywidgets made for it."""
        layout = self._trait_values.get("layout")
        super().close()
        if isinstance(layout, ipywidgets.Layout):
            layout.close()


class Selection(GuardedWidget):
    """What the reader is looking at, shared by every linked view.

    Parameters
    ----------
    att : Attention, optional
        Sets the valid ranges (layer and head numbers, token count) and the default layer.
    layer : int, optional
        Model layer number (default: the first layer held).
    head : int or None
        Model head number, or None for heads fused by `fusion`.
    fusion : {"mean", "max", "min"}
        Head fusion used when `head` is None.

    Attributes
    ----------
    hovered_token, pinned_token : int or None
        Token position under the pointer / clicked last, in any linked view: a key position. Hover
        writes from the browser are throttled before they reach the kernel.
    hovered_query, pinned_query : int or None
        For cross-attention, whose query rows are tokens of their own (the target tokens of an
        encoder-decoder model): the query row under the pointer / clicked last. Kept apart from
        `hovered_token` so a target position never marks the source token with the same number.
        Attention whose queries are among its keys names every token by `hovered_token`; setting
        these there is an error.
    step : int or None
        For attention from ``aw.generate``: the generated token being looked at (0-based). Setting
        it pins the query row that produced that token (``aw.extraction.generation_step_row``), so the
        rollout and graph follow it; the views' step control sets both at once. Pinning another
        token (or none) sets it back to None.
    """

    # Headless: displayed on its own it only states what it holds.
    _esm = """
export default { render({ model, el }) {
  const show = () => { el.textContent = `attnwidget selection: layer ${model.get("layer")}, head ${model.get("head") ?? model.get("fusion")}`; };
  show(); model.on("change", show);
  return () => model.off("change", show);
} };
"""

    # What the views' pointer, clicks and controls set; the ranges below are the kernel's.
    _frontend_writes = frozenset(
        {"hovered_token", "pinned_token", "hovered_query", "pinned_query", "layer", "head", "fusion", "step"}
    )

    hovered_token = t.Int(None, allow_none=True).tag(sync=True)
    pinned_token = t.Int(None, allow_none=True).tag(sync=True)
    hovered_query = t.Int(None, allow_none=True).tag(sync=True)
    pinned_query = t.Int(None, allow_none=True).tag(sync=True)
    layer = t.Int(0).tag(sync=True)
    head = t.Int(None, allow_none=True).tag(sync=True)
    fusion = t.Enum(HEAD_FUSIONS, "mean").tag(sync=True)
    step = t.Int(None, allow_none=True).tag(sync=True)

    # Valid ranges, from the attention(s) of the views attached; empty until one attaches.
    _layer_ids = t.List(t.Int()).tag(sync=True)
    _head_ids = t.List(t.Int()).tag(sync=True)
    _n_key = t.Int(0).tag(sync=True)
    # Query rows that are tokens of their own (cross-attention); 0 when the queries are key tokens.
    _n_query_tokens = t.Int(0).tag(sync=True)
    # Prompt tokens of attention from aw.generate (0 otherwise): step s reads query row
    # _prompt_length - 1 + s.
    _prompt_length = t.Int(0).tag(sync=True)

    def __init__(
        self,
        att: Attention | None = None,
        *,
        layer: int | None = None,
        head: int | None = None,
        fusion: str = "mean",
        **kwargs: Any,
    ):
        unknown = [k for k in kwargs if k not in TOKEN_FIELDS + ("step",)]
        if unknown:
            raise ArgumentTypeError(f"Selection() got unexpected keyword argument(s) {unknown}")
        super().__init__(fusion=fusion)
        # Open views using this selection; one a view made is closed when the last leaves.
        self._users: weakref.WeakSet = weakref.WeakSet()
        self._made_by_view = False
        # The shared data models (widgets/data.py) of the views using this selection: views of one
        # attention find their coded maps here, so linked views hold each map once.
        self._data_models: weakref.WeakSet = weakref.WeakSet()
        if att is not None:
            self.attach(att)
        if layer is not None:
            self.layer = layer
        self.head = head
        self.observe(self._pin_step, names="step")
        self.observe(self._leave_step, names="pinned_token")
        for k, v in kwargs.items():
            setattr(self, k, v)

    def attach(self, att: Attention) -> None:
        """Bind to the ranges of `att`; views of one selection must share layer and head numbers
        and the number of tokens."""
        if not isinstance(att, Attention):
            raise ArgumentTypeError(f"Selection takes an aw.Attention; got {show(att)}")
        L, H, Q, K = att.shape
        n_query = own_query_rows(att)
        if self._layer_ids and K != self._n_key:
            raise AttentionError(
                f"cannot link views of attentions over different numbers of tokens ({self._n_key} and {K}): "
                "hover and pin name token positions, which must mean the same token in every view"
            )
        if self._layer_ids:
            if list(att.layer_ids) != self._layer_ids or list(att.head_ids) != self._head_ids:
                raise AttentionError(
                    "cannot link views of attentions with different layers or heads: "
                    f"{_span(self._layer_ids)} x {_span(self._head_ids)} vs "
                    f"{_span(att.layer_ids)} x {_span(att.head_ids)}; extract both with the same "
                    "layers=... and heads=..."
                )
            if n_query and self._n_query_tokens and n_query != self._n_query_tokens:
                raise AttentionError(
                    f"cannot link views of cross-attention over different numbers of query (target) tokens "
                    f"({self._n_query_tokens} and {n_query}): hovered_query and pinned_query name rows, which must "
                    "mean the same token in every view"
                )
            if n_query:
                self._n_query_tokens = n_query
            return
        with self.hold_trait_notifications():
            self._layer_ids = list(att.layer_ids)
            self._head_ids = list(att.head_ids)
            self._n_key = K
            self._n_query_tokens = n_query
            self._prompt_length = generation_prompt_length(att)
            if self.layer not in self._layer_ids:
                self.layer = self._layer_ids[0]

    def release(self, view: Any) -> None:
        """A view stops using this selection (closed, or linked elsewhere); a selection that a view
        made closes when no open view uses it."""
        self._users.discard(view)
        if self._made_by_view and not self._users:
            self.close()

    # ------------------------------------------------------------------ validation

    @t.validate("layer")
    def _check_layer(self, proposal):
        v = _as_int(proposal["value"], "layer")
        if self._layer_ids and v not in self._layer_ids:
            raise ViewIndexError(f"layer {v} is out of range; this attention holds layers {_span(self._layer_ids)}")
        return v

    @t.validate("head")
    def _check_head(self, proposal):
        v = proposal["value"]
        if v is None:
            return None
        v = _as_int(v, "head")
        if self._head_ids and v not in self._head_ids:
            raise ViewIndexError(
                f"head {v} is out of range; this attention holds heads {_span(self._head_ids)} "
                "(or None for fused heads)"
            )
        return v

    @property
    def n_steps(self) -> int:
        """Generated tokens a step can pick (0 for attention not from ``aw.generate``)."""
        return self._n_key - self._prompt_length if self._prompt_length else 0

    def step_row(self, step: int) -> int:
        """The query row (token position) whose attention produced generated token `step`."""
        return step_row(self._prompt_length, int(step))

    def _pin_step(self, change) -> None:
        if change["new"] is not None:
            self.pinned_token = self.step_row(change["new"])

    def _leave_step(self, change) -> None:
        # Pinning another token leaves the step: the control would name a row no longer shown.
        if self.step is not None and change["new"] != self.step_row(self.step):
            self.step = None

    @t.validate("step")
    def _check_step(self, proposal):
        v = proposal["value"]
        if v is None:
            return None
        v = _as_int(v, "step")
        if self._layer_ids and not self.n_steps:
            raise t.TraitError("step needs attention from aw.generate (this one has no generated tokens)")
        if self._layer_ids and not 0 <= v < self.n_steps:
            raise ViewIndexError(
                f"step {v} is out of range: {self.n_steps} tokens were generated "
                f"(expected 0..{self.n_steps - 1} or None)"
            )
        return v

    @t.validate("hovered_token", "pinned_token")
    def _check_token(self, proposal):
        v = proposal["value"]
        if v is None:
            return None
        v = _as_int(v, proposal["trait"].name)
        if self._n_key and not 0 <= v < self._n_key:
            raise ViewIndexError(
                f"{proposal['trait'].name}={v} is out of range for {self._n_key} tokens "
                f"(expected 0..{self._n_key - 1} or None)"
            )
        return v

    @t.validate("hovered_query", "pinned_query")
    def _check_query(self, proposal):
        v = proposal["value"]
        name = proposal["trait"].name
        if v is None:
            return None
        v = _as_int(v, name)
        if self._layer_ids and not self._n_query_tokens:
            key_field = name.replace("query", "token")
            raise t.TraitError(
                f"{name} names a query row of cross-attention (a target token); the attention of these "
                f"views has its queries among its own tokens, so {key_field} names them"
            )
        if self._n_query_tokens and not 0 <= v < self._n_query_tokens:
            raise ViewIndexError(
                f"{name}={v} is out of range for {self._n_query_tokens} query (target) tokens "
                f"(expected 0..{self._n_query_tokens - 1} or None)"
            )
        return v


# The token fields of a selection: key positions, and query rows of cross-attention.
TOKEN_FIELDS = ("hovered_token", "pinned_token", "hovered_query", "pinned_query")


def own_query_rows(att: Attention) -> int:
    """Query rows of `att` that are tokens of their own (cross-attention); 0 when its queries are
    its last `n_query` key tokens."""
    return att.n_query if att._query_tokens is not None else 0


def generation_prompt_length(att: Attention) -> int:
    """Prompt tokens of square attention from ``aw.generate`` with generated rows; 0 otherwise."""
    n_prompt = att.meta.get("prompt_length")
    if n_prompt is None or att.generated is None or not att.generated.any() or att.n_query != att.n_key:
        return 0
    return int(n_prompt)


def _as_int(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise t.TraitError(f"{name} must be an int; got {v!r}")
    return int(v)


def _span(ids: list[int]) -> str:
    if len(ids) > 2 and ids == list(range(ids[0], ids[-1] + 1)):
        return f"{ids[0]}..{ids[-1]}"
    return str(list(ids))
