"""A census of heads over many prompts: what each head does on average, not on one text.

`census` streams prompts through the model in batches, reduces each prompt's attention to a few
numbers per head (sink mass, entropy, previous-token and induction scores and, with ``norms=True``,
the same sink mass by value-weighted norms and how small the first token's value vectors are) and
keeps only running sums, so memory does not grow with the number of prompts. A model spread over
several GPUs with accelerate (``device_map="auto"``) runs as it is: inputs go to the device of its
input embeddings. Under ``torchrun`` or ``accelerate launch`` (torch.distributed's default process
group initialised) the prompts are sharded by rank and the running sums are added up with
``all_reduce``, so every rank returns the census one process would have.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sized
from typing import Any, cast

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.analysis.sharding import Group, agree, process_group
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


def _batches(items: Iterable, size: int):
    it = iter(items)
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
        Prompts; a generator is read one batch at a time. Under several processes every rank reads
        all of it (see Notes), so give every rank the same prompts.
    batch_size : int
        Prompts per forward pass (padded; padding is removed before any statistic); per rank under
        several processes.
    norms : bool
        Also run the value-weighted norms (one more forward pass per batch): ``norm_sink_mass`` and
        ``sink_value_ratio``.
    layers, heads : optional
        Model layer and head numbers to keep (default all).
    progress : bool
        Show a progress bar (tqdm) over the prompts; under several processes on rank 0 only.

    Returns
    -------
    Census
        ``.table`` (one row per head), ``.tint(column)`` for a head grid, ``.n_prompts``. Under
        several processes every rank returns the same census, over all the prompts.

    Raises
    ------
    AttentionError
        Under several processes, on every rank: when the ranks were given different prompts (their
        number or their text) or different arguments, when any rank failed (that rank raises its own
        error, the others name it), or when the process group's backend cannot reduce on the CPU or
        on the model's device (NCCL with a model on the CPU).

    Notes
    -----
    When ``torch.distributed`` has an initialised default process group of more than one process
    (``torchrun --nproc_per_node=N script.py``, or ``accelerate launch`` once an ``Accelerator`` or
    ``PartialState`` exists), the census is sharded: rank ``r`` of ``N`` runs prompts ``r, r + N,
    r + 2N, ...``. Every rank reads the whole iterable (a generator is consumed on every rank, each
    keeping its own share; the others' prompts are only counted and hashed), so each rank must be
    given the same prompts in the same order. At the end the ranks exchange a small signature
    (prompt count, a hash of the prompts, ``batch_size``, ``norms``, ``layers``, ``heads``, the
    model's name, any error) with ``all_gather_object``; if they disagree, every rank raises an
    `AttentionError` naming what differs. The per-head running sums (each statistic times its
    weight, the weights and the counts) are then added up in float64 with one ``all_reduce`` on the
    process group as given: on the CPU when its backend can (gloo, or ``"cpu:gloo,cuda:nccl"``),
    otherwise on the model's device (NCCL). Every rank returns the result one process would give on
    all the prompts, up to float summation order. Each rank's model must be on its own device
    (``model.to(local_rank)``); a model spread with ``device_map="auto"`` is one process's business.
    """
    from attnwidget.extraction.api import extract

    norms = bool(V.flag("norms", norms))
    progress = bool(V.flag("progress", progress))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise AttentionError(f"batch_size must be a positive int; got {batch_size!r}")
    if isinstance(texts, str):
        raise ArgumentTypeError("texts must be an iterable of prompts (a list of str), not one str")
    group = process_group(model, "census")
    rank, world = (group.rank, group.world) if group is not None else (0, 1)
    prompts = _Prompts(texts, rank, world)
    total = len(texts) if isinstance(texts, Sized) else None
    from tqdm.auto import tqdm

    sums: dict[str, np.ndarray] = {}
    weights: dict[str, float] = {}
    counts: dict[str, int] = {}
    ids = None
    failure: Exception | None = None
    bar = tqdm(total=total, desc="census", unit="prompt", disable=not progress or rank != 0)
    try:
        for batch in _batches(prompts, int(batch_size)):
            index = [i for i, _ in batch]
            chunk = [t for _, t in batch]
            atts = cast(list, _extract_batch(extract, model, tokenizer, chunk, index, layers, heads, "weights"))
            normed = (
                cast(list, _extract_batch(extract, model, tokenizer, chunk, index, layers, heads, "norms"))
                if norms
                else None
            )
            for b, att in enumerate(atts):
                if ids is None:
                    ids = (list(att.layer_ids), list(att.head_ids))
                try:
                    stats = _prompt_stats(att, None if normed is None else normed[b])
                except AttentionError as e:  # a prompt too short for a statistic (no row after the first)
                    raise _prompt_error(e, index[b], chunk[b]) from e
                for key, (value, weight) in stats.items():
                    sums[key] = sums.get(key, 0) + value * weight
                    weights[key] = weights.get(key, 0) + weight
                    counts[key] = counts.get(key, 0) + 1
            bar.update(prompts.read - bar.n)
    except Exception as e:
        if group is None:
            raise
        failure = e  # the other ranks must hear of it, or they would wait for this one forever
    finally:
        bar.close()
    n = prompts.read
    if group is not None:
        settings = {"batch_size": int(batch_size), "norms": norms, "layers": repr(layers), "heads": repr(heads)}
        settings["model"] = _model_name(model)
        ids = _combine(group, prompts, sums, weights, counts, ids, failure, settings)
    if n == 0 or ids is None:
        raise AttentionError("texts is empty; a census needs at least one prompt")
    means = {k: (sums[k] / weights[k]).astype(np.float32) for k in CENSUS_COLUMNS if k in sums}
    if "induction" not in means:  # no prompt repeated a token: say so with NaN rather than zeros
        means["induction"] = np.full(sums["sink_mass"].shape, np.nan, np.float32)
        counts["induction"] = 0
    means = {k: means[k] for k in CENSUS_COLUMNS if k in means}
    return Census(ids[0], ids[1], means, counts, n, _model_name(model))


def _model_name(model: Any) -> str:
    cfg = getattr(model, "config", None)
    return getattr(cfg, "_name_or_path", "") or type(model).__name__


class _Prompts:
    """The prompts of a census, read in order on every rank: each checked to be a str, counted and
    (under several processes) hashed, so that ranks can confirm they read the same prompts; yields
    ``(index, text)`` for this rank's share, rank r of N taking prompts r, r + N, r + 2N, ..."""

    def __init__(self, texts: Iterable[str], rank: int, world: int):
        self.texts, self.rank, self.world = texts, rank, world
        self.read = 0
        self._hash = hashlib.sha256()

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for i, text in enumerate(self.texts):
            if not isinstance(text, str):
                raise ArgumentTypeError(f"prompt {i} is a {type(text).__name__}, not a str")
            self.read = i + 1
            if self.world > 1:
                data = text.encode("utf-8", "surrogatepass")
                self._hash.update(len(data).to_bytes(8, "little") + data)
            if i % self.world == self.rank:
                yield i, text

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:16]


_SETTINGS = (
    ("prompts", "the number of prompts"),
    ("digest", "the prompts' text or order (a hash of each rank's prompts)"),
    ("batch_size", "batch_size"),
    ("norms", "norms"),
    ("layers", "layers"),
    ("heads", "heads"),
    ("model", "the model"),
    ("ids", "the layers and heads the extraction kept"),
)


def _combine(group: Group, prompts: _Prompts, sums, weights, counts, ids, failure, settings):
    """Add up every rank's running sums in place (float64, one all_reduce) after checking, with an
    all_gather of a small signature, that the ranks ran the same census; the agreed (layers, heads)."""
    import torch
    import torch.distributed as dist

    mine = {"prompts": prompts.read, "digest": prompts.digest, "ids": ids, "keys": sorted(sums), **settings}
    fix = (
        "Give every rank the same prompts in the same order and the same census arguments; each rank reads "
        f"them all and keeps its own share (rank r takes prompts r, r + {group.world}, ...)"
    )
    signatures = agree(group, mine, failure, _SETTINGS, "census", fix)
    agreed = next((s["ids"] for s in signatures if s["ids"] is not None), None)
    if agreed is None:  # no prompt at all: the caller says so
        return None
    keys = [k for k in CENSUS_COLUMNS if any(k in s["keys"] for s in signatures)]
    shape = (len(agreed[0]), len(agreed[1]))
    size = shape[0] * shape[1]
    parts = []
    for k in keys:
        parts.append(np.asarray(sums.get(k, np.zeros(shape)), np.float64).reshape(size))
        parts.append(np.array([weights.get(k, 0.0), counts.get(k, 0)], np.float64))
    flat = torch.from_numpy(np.concatenate(parts)).to(group.device)
    with group.collective():
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    total = flat.cpu().numpy()
    for j, k in enumerate(keys):
        part = total[j * (size + 2) : (j + 1) * (size + 2)]
        sums[k] = part[:size].reshape(shape).copy()
        weights[k] = float(part[size])
        counts[k] = int(round(part[size + 1]))
    return agreed


def _extract_batch(extract, model, tokenizer, batch, index, layers, heads, measure):
    """One batch's attention; a refusal names the census, the prompt (by its number among all the
    prompts, `index`) and why, since the batch hides which prompt it was (the batch is retried
    prompt by prompt to find it)."""
    try:
        return extract(model, tokenizer, batch, layers=layers, heads=heads, measure=measure)
    except AttentionError as e:
        if len(batch) == 1:
            raise _prompt_error(e, index[0], batch[0]) from e
        for i, text in enumerate(batch):
            try:
                extract(model, tokenizer, text, layers=layers, heads=heads, measure=measure)
            except AttentionError as one:
                raise _prompt_error(one, index[i], text) from one
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
