"""A census of heads over many prompts: what each head does on average, not on one text.

`census` streams prompts through the model in batches, reduces each prompt's attention to a few
numbers per head (sink mass, entropy, previous-token and induction scores and, with ``norms=True``,
the same sink mass by value-weighted norms and how small the first token's value vectors are) and
keeps only running sums, so memory does not grow with the number of prompts. A model spread over
several GPUs with accelerate (``device_map="auto"``) runs as it is: inputs go to the device of its
input embeddings, and nothing else is distributed here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sized
from typing import Any, cast

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.analysis.table import Table
from attnwidget.attention.core import Attention
from attnwidget.errors import ArgumentTypeError, AttentionError
from attnwidget.extraction.norms import value_norms_of

__all__ = ["census", "Census", "CENSUS_COLUMNS"]

CENSUS_COLUMNS = {
    "sink_mass": "mean share on the first token, from later rows",
    "entropy": "normalised row entropy (1 = uniform over visible keys)",
    "previous_token": "share of attention on the previous token",
    "induction": "share on the token after an earlier copy of the current one, over rows that have one",
    "norm_sink_mass": "sink mass of the value-weighted norm maps",
    "sink_value_ratio": "first token's value norm ||f_h(x_0)|| over the median of the others",
}


class Census:
    """Per-head averages over the prompts of a `census`.

    Attributes
    ----------
    table : Table
        One row per (layer, head): the columns of `CENSUS_COLUMNS` that were computed.
    n_prompts : int
        Prompts seen; ``counts`` says how many entered each column (induction needs repeats).
    """

    def __init__(
        self,
        layer_ids: list[int],
        head_ids: list[int],
        means: dict[str, np.ndarray],
        counts: dict[str, int],
        n_prompts: int,
        model_name: str,
    ):
        self.layer_ids, self.head_ids = layer_ids, head_ids
        self._means = means
        self.counts = counts
        self.n_prompts = n_prompts
        L, H = len(layer_ids), len(head_ids)
        cols: dict[str, Any] = {"layer": np.repeat(layer_ids, H), "head": np.tile(head_ids, L)}
        for k, v in means.items():
            cols[k] = v.reshape(L * H)
        self.table = Table.from_columns(cols, title=f"head census of {model_name} over {n_prompts} prompts")

    def tint(self, column: str = "sink_mass") -> np.ndarray:
        """``(layers, heads)`` values of one column, to tint a head grid:
        ``aw.HeadGrid(att, tint=result.tint("induction"))``, with `att` extracted with the census's
        ``layers=`` and ``heads=``."""
        if column not in self._means:
            raise KeyError(f"no census column {column!r}; it holds {list(self._means)}")
        return self._means[column].copy()

    def __repr__(self) -> str:
        return repr(self.table)


def _batches(texts: Iterable[str], size: int):
    it = iter(texts)
    while True:
        batch = list(itertools.islice(it, size))
        if not batch:
            return
        yield batch


def census(
    model: Any,
    tokenizer: Any,
    texts: Iterable[str],
    *,
    batch_size: int = 8,
    norms: bool = False,
    layers: Any = None,
    heads: Any = None,
    progress: bool = True,
) -> Census:
    """Per-head statistics over many prompts, streamed in batches.

    Parameters
    ----------
    model, tokenizer
        As for `aw.extract`. A model loaded with ``device_map="auto"`` over several GPUs works as is.
    texts : iterable of str
        Prompts; a generator is read one batch at a time.
    batch_size : int
        Prompts per forward pass (padded; padding is removed before any statistic).
    norms : bool
        Also run the value-weighted norms (one more forward pass per batch): ``norm_sink_mass`` and
        ``sink_value_ratio``.
    layers, heads : optional
        Model layer and head numbers to keep (default all).
    progress : bool
        Show a progress bar (tqdm) over the prompts.

    Returns
    -------
    Census
        ``.table`` (one row per head), ``.tint(column)`` for a head grid, ``.n_prompts``.
    """
    from attnwidget.extraction.api import extract

    norms = bool(V.flag("norms", norms))
    progress = bool(V.flag("progress", progress))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise AttentionError(f"batch_size must be a positive int; got {batch_size!r}")
    if isinstance(texts, str):
        raise ArgumentTypeError("texts must be an iterable of prompts (a list of str), not one str")
    total = len(texts) if isinstance(texts, Sized) else None
    from tqdm.auto import tqdm

    sums: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    counts: dict[str, int] = {}
    ids = None
    n = 0
    bar = tqdm(total=total, desc="census", unit="prompt", disable=not progress)
    try:
        for batch in _batches(texts, int(batch_size)):
            for i, t in enumerate(batch):
                if not isinstance(t, str):
                    raise ArgumentTypeError(f"prompt {n + i} is a {type(t).__name__}, not a str")
            atts = cast(list, _extract_batch(extract, model, tokenizer, batch, n, layers, heads, "weights"))
            normed = (
                cast(list, _extract_batch(extract, model, tokenizer, batch, n, layers, heads, "norms"))
                if norms
                else None
            )
            for b, att in enumerate(atts):
                if ids is None:
                    ids = (list(att.layer_ids), list(att.head_ids))
                try:
                    stats = _prompt_stats(att, None if normed is None else normed[b])
                except AttentionError as e:  # a prompt too short for a statistic (no row after the first)
                    raise _prompt_error(e, n + b, batch[b]) from e
                for key, (value, weight) in stats.items():
                    sums[key] = sums.get(key, 0) + value * weight
                    weights[key] = weights.get(key, 0) + weight
                    counts[key] = counts.get(key, 0) + 1
            n += len(batch)
            bar.update(len(batch))
    finally:
        bar.close()
    if n == 0 or ids is None:
        raise AttentionError("texts is empty; a census needs at least one prompt")
    means = {k: (sums[k] / weights[k]).astype(np.float32) for k in CENSUS_COLUMNS if k in sums}
    if "induction" not in means:  # no prompt repeated a token: say so with NaN rather than zeros
        means["induction"] = np.full(sums["sink_mass"].shape, np.nan, np.float32)
        counts["induction"] = 0
    means = {k: means[k] for k in CENSUS_COLUMNS if k in means}
    cfg = getattr(model, "config", None)
    name = getattr(cfg, "_name_or_path", "") or type(model).__name__
    return Census(ids[0], ids[1], means, counts, n, name)


def _extract_batch(extract, model, tokenizer, batch, start, layers, heads, measure):
    """One batch's attention; a refusal names the census, the prompt and why, since the batch
    hides which prompt it was (the batch is retried prompt by prompt to find it)."""
    try:
        return extract(model, tokenizer, batch, layers=layers, heads=heads, measure=measure)
    except AttentionError as e:
        if len(batch) == 1:
            raise _prompt_error(e, start, batch[0]) from e
        for i, text in enumerate(batch):
            try:
                extract(model, tokenizer, text, layers=layers, heads=heads, measure=measure)
            except AttentionError as one:
                raise _prompt_error(one, start + i, text) from one
        raise  # no single prompt is refused: the batch itself is the problem


def _prompt_error(e: AttentionError, index: int, text: str) -> AttentionError:
    """`e` again, of its own class, with the census and the prompt named first."""
    head = text[:40] + ("..." if len(text) > 40 else "")
    message = f"census: prompt {index} ({head!r}) was refused: {e}"
    try:
        return type(e)(message)
    except TypeError:  # an error class with its own constructor: the base class carries the text
        return AttentionError(message)


def _prompt_stats(att: Attention, normed: Attention | None) -> dict[str, tuple[np.ndarray, float]]:
    """Each statistic of one prompt with the weight it carries in the mean: 1 per prompt, except
    induction, which counts per query row that has an induction target."""
    specs: dict[str, tuple[str, dict] | str] = {
        "sink_mass": ("sink_mass", {"k": 1}),
        "entropy": ("entropy", {"normalized": True}),
        "previous_token": ("pattern_match", {"pattern": "previous_token"}),
    }
    out = {k: (np.asarray(v, np.float64), 1.0) for k, v in M.compute(att, specs).items()}
    if att.token_ids is not None:
        target = M.pattern("induction", att.n_query, att.n_key, att.token_ids).astype(bool)
        rows = target.any(axis=1)
        if rows.any():
            # Only rows that have a target: the share they put on it (each row sums to 1), not
            # diluted by the rows that have none.
            on_target = np.zeros((att.num_layers, att.num_heads))
            for li, layer in enumerate(att.layer_ids):
                on_target[li] = (att.layer(layer)[:, rows] * target[rows]).sum(axis=(-1, -2))
            out["induction"] = (on_target / rows.sum(), float(rows.sum()))
    if normed is not None:
        out["norm_sink_mass"] = (np.asarray(M.sink_mass(normed), np.float64), 1.0)
        vn = value_norms_of(normed).astype(np.float64)  # (layers, heads, keys)
        if vn.shape[-1] > 1:
            rest = np.median(vn[..., 1:], axis=-1)
            out["sink_value_ratio"] = (np.divide(vn[..., 0], rest, out=np.zeros_like(rest), where=rest > 0), 1.0)
    return out
