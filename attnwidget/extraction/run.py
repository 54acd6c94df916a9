"""The one run of an extraction: capture, self-check, and the eager fallback.

Every plan (text, encoder-decoder, image, speech, vision-language, raw inputs, generation) says
what its input is as `Part`\\ s over `Side`\\ s and how to run the model once (``forward(eager)``),
then calls `run`. The order of the paths lives here alone:

* ``"capture"``: the model keeps its fast SDPA attention; `capture` records each layer's queries,
  keys and logit biases during one forward pass and the probabilities are computed afterwards, only
  for the layers and heads asked for. A self-check compares the captured weights times the values
  with the attention output the model computed; weights that do not reproduce it are never returned.
* ``"eager"``: ``output_attentions=True`` with the eager implementation switched on for the call.

``method="auto"`` tries the capture and falls back to eager, saying why in ``meta["note"]``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionIndexError, ModelError
from attnwidget.extraction.capture import (
    CapturedQK,
    LayerRecord,
    Recorder,
    attn_implementation,
    capturing,
    configs,
    module_names,
    tower_kind,
)
from attnwidget.extraction.request import Request
from attnwidget.extraction.selfcheck import drop_check_data, self_check

__all__ = ["Side", "Part", "run", "note"]


@dataclass
class Side:
    """One token sequence of the input: which positions are real (not padding) per batch row, and
    the token facts of row b with the padding removed."""

    keep: Any  # torch bool (batch, n), or None: one example, every position real
    facts: Callable[[int, int], dict]  # (batch row, length) -> tokens and their facts

    def batch(self) -> int:
        return 1 if self.keep is None else self.keep.shape[0]

    def row(self, b: int):
        return None if self.keep is None else self.keep[b]


@dataclass
class Part:
    """One attention of the result: its queries' side, its keys' side, and where eager keeps it."""

    kind: str  # "main", "encoder", "decoder", "cross"
    queries: Side
    keys: Side
    eager_field: str  # attribute of the eager output holding this part's attention
    kv_heads: int | None = None  # kv heads per layer from the config, for the eager path
    # Module path of the sub-model whose layers make this part (a vision-language model's language
    # model): only its attention is recorded, so another tower's layers can never join the stack.
    prefix: str | None = None


class _CheckFailed(Exception):
    pass


class _NoCapture(Exception):
    pass


def note(meta: dict, text: str) -> dict:
    """`meta` with `text` added to its ``"note"``."""
    meta = dict(meta)
    meta["note"] = (meta["note"] + " " if meta.get("note") else "") + text
    return meta


def run(
    model, forward: Callable[[bool], Any], parts: list[Part], meta: dict, req: Request
) -> dict[str, list[Attention]]:
    """Run `forward` on the capture path (falling back to eager when `req` allows) and build every
    part, one `Attention` per batch row, its weights held at ``req.dtype``.

    ``forward(eager)`` runs the model once: with ``output_attentions=True`` when `eager`.
    ``req.layers`` and ``req.heads`` are checked selections (`Request.select`).
    """
    if req.method in ("auto", "capture"):
        reason = None
        try:
            return _capture_parts(model, forward, parts, meta, req)
        except _CheckFailed as e:
            reason = (
                f"the capture did not reproduce the model's attention output ({e}); "
                "the weights come from output_attentions under eager attention"
            )
        except _NoCapture as e:
            if req.method == "capture":
                raise ModelError(f"{e}; use method='eager'") from None
            reason = f"{e}; the weights come from output_attentions under eager attention"
        if req.method == "capture":
            raise ModelError(reason)
        if req.lazy:
            warnings.warn(
                f"lazy=True is not available for {type(model).__name__}: {reason}; the returned "
                "attention is materialised",
                stacklevel=_caller_level(),
            )
            reason += " (lazy=True was ignored: eager attention is materialised by the model)"
        meta = note(meta, reason)
    out = _eager_parts(model, forward, parts, meta, req)
    if req.dtype != np.float32:
        out = {kind: [a._replace(dtype=req.dtype) for a in atts] for kind, atts in out.items()}
    return out


def _caller_level() -> int:
    """The `stacklevel` of the first frame outside attnwidget, seen from the caller of this
    function: a warning then names the user's line, however deep the plan that ran."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _capture_parts(model, forward, parts: list[Part], meta: dict, req: Request) -> dict[str, list[Attention]]:
    import torch

    if not configs(model):
        raise _NoCapture(f"{type(model).__name__} has no transformers config to switch to the capture")
    prefixes = tuple(p.prefix + "." for p in parts if p.prefix)
    wanted = set(req.layers) if req.layers is not None else None

    def keep(tower: str, i: int) -> bool:
        if prefixes and not tower.startswith(prefixes):
            return False
        return wanted is None or i in wanted

    rec = Recorder(module_names(model), keep, check=req.check)
    try:
        with torch.no_grad(), capturing(model, rec):
            forward(False)
    except (ModelError, MemoryError):
        raise
    except Exception as e:  # a model whose own code breaks under the capture (MPT's mask builder)
        raise _NoCapture(
            f"{type(model).__name__} failed under the capture implementation ({type(e).__name__}: {e})"
        ) from e
    if rec.calls == 0:
        raise _NoCapture(f"{type(model).__name__} does not route attention through transformers' AttentionInterface")
    towers: dict[str, list[LayerRecord]] = {}
    for r in rec.records:
        towers.setdefault(r.tower, []).append(r)
    out: dict[str, list[Attention]] = {}
    for part in parts:
        tower = _tower_for(part, rec)
        records = sorted(towers.get(tower, []), key=lambda r: r.layer)
        if req.layers is not None:
            have = {r.layer for r in records}
            missing = [i for i in req.layers if i not in have]
            if missing:
                n = rec.calls_in(tower)
                raise AttentionIndexError(f"layers {missing} out of range: the {_part_name(part.kind)} has {n} layers")
        n_heads = records[0].q.shape[1]
        if req.heads is not None and max(req.heads) >= n_heads:
            raise AttentionIndexError(
                f"head {max(req.heads)} out of range: the {_part_name(part.kind)} has {n_heads} heads"
            )
        lids = [r.layer for r in records]
        atts = []
        for b in range(part.queries.batch()):
            qpos = _positions(part.queries.row(b))
            kpos = _positions(part.keys.row(b))
            if req.check:
                failure = self_check(records, b, qpos, kpos)
                if failure is not None:
                    raise _CheckFailed(str(failure))
            source = CapturedQK(records, list(range(n_heads)), b, qpos, kpos)
            if req.heads is not None:
                source = source.subset(range(len(records)), req.heads)
            facts = _facts(part, b, records, source.shape[2], source.shape[3])
            part_meta = dict(meta, method="capture")
            if part.kind != "main":
                part_meta.update(part=part.kind, tower=tower)
            att = Attention(
                None,
                mask=source.mask(),
                layer_ids=lids,
                head_ids=source.head_ids,
                _source=source,
                meta=part_meta,
                dtype=req.dtype,
                **facts,
            )
            atts.append(att)
        out[part.kind] = atts
    for recs in towers.values():
        drop_check_data(recs)
    if not req.lazy:
        for kind in out:
            out[kind] = [a.materialize(max_bytes=2**62) for a in out[kind]]
    return out


def _part_name(kind: str) -> str:
    return {"main": "model", "cross": "cross-attention"}.get(kind, kind)


def _positions(keep_row):
    import torch

    if keep_row is None or bool(keep_row.all()):
        return None
    return torch.nonzero(keep_row, as_tuple=False).flatten()


def _facts(part: Part, b: int, records: list[LayerRecord], n_query: int, n_key: int) -> dict:
    facts = dict(part.keys.facts(b, n_key))
    if part.queries is not part.keys:
        facts["query_tokens"] = part.queries.facts(b, n_query)["tokens"]
    if records:
        facts.setdefault("num_kv_heads", records[0].k.shape[1])
        facts.setdefault("total_heads", records[0].q.shape[1])
    return facts


def _tower_for(part: Part, rec: Recorder) -> str:
    """The tower that holds `part`: by kind for encoder-decoder parts; for a single attention, the
    only tower, or the only one whose shapes match the input."""
    towers = rec.towers()
    if part.prefix:
        found = [t for t in towers if t.startswith(part.prefix + ".") and tower_kind(t) != "cross"]
    elif part.kind != "main":
        found = [t for t in towers if tower_kind(t) == part.kind]
    elif len(towers) == 1:
        found = list(towers)
    elif part.queries.keep is None:
        found = []
    else:
        nq, nk = part.queries.keep.shape[1], part.keys.keep.shape[1]
        found = [t for t, shape in towers.items() if shape == (nq, nk)]
    if len(found) != 1:
        listing = ", ".join(f"{t} ({tower_kind(t)})" for t in towers) or "none kept"
        raise ModelError(
            f"cannot tell which attention layers make the {_part_name(part.kind)}'s attention: "
            f"{'several' if found else 'no'} candidates among {listing}"
        )
    return found[0]


def _eager_parts(model, forward, parts: list[Part], meta: dict, req: Request) -> dict[str, list[Attention]]:
    import torch

    ctx = attn_implementation(model, "eager") if configs(model) else contextlib.nullcontext()
    with torch.no_grad(), ctx:
        try:
            out = forward(True)
        except TypeError as e:
            raise ModelError(f"{type(model).__name__} does not accept output_attentions: {e}") from e
    result = {}
    for part in parts:
        atts = getattr(out, part.eager_field, None)
        if atts is None and isinstance(out, dict):
            atts = out.get(part.eager_field)
        if not atts or any(a is None for a in atts):
            raise ModelError(
                f"{type(model).__name__} returned no attention weights (neither through the "
                "AttentionInterface nor output_attentions=True); for a plain torch module use "
                "aw.extraction.extract_hooks"
            )
        lids = req.layers if req.layers is not None else list(range(len(atts)))
        if max(lids) >= len(atts):
            raise AttentionIndexError(
                f"layer {max(lids)} out of range: the {_part_name(part.kind)} has {len(atts)} layers"
            )
        n_heads = atts[0].shape[1]
        hids = req.heads if req.heads is not None else list(range(n_heads))
        if max(hids) >= n_heads:
            raise AttentionIndexError(f"head {max(hids)} out of range: the {_part_name(part.kind)} has {n_heads} heads")
        rows = []
        for b in range(part.queries.batch()):
            w = torch.stack([atts[i][b].float().cpu() for i in lids]).numpy()[:, hids]
            if part.queries.keep is not None:
                w = w[:, :, part.queries.keep[b].cpu().numpy()]
            if part.keys.keep is not None:
                w = w[:, :, :, part.keys.keep[b].cpu().numpy()]
            facts = _facts(part, b, [], w.shape[2], w.shape[3])
            if part.kv_heads and n_heads % part.kv_heads == 0:
                facts.update(num_kv_heads=part.kv_heads, total_heads=n_heads)
            part_meta = dict(meta, method="eager")
            if part.kind != "main":
                part_meta["part"] = part.kind
            mask = None if part.queries is part.keys else np.ones(w.shape[2:], dtype=bool)
            rows.append(Attention(w, mask=mask, layer_ids=lids, head_ids=hids, meta=part_meta, **facts))
        result[part.kind] = rows
    return result
