"""Per-head measurements of one `Attention`: its sinks, the per-head metric table (`analyze`), role
labels from per-head scores, and the hints (tints and badges) the dashboard's head grid shows.

Every measure is defined once, in the `attnwidget.analysis` docstring (sinks, sink_share, entropy,
normalized_entropy, sparsity, locality); `_head_stats` computes them for `report`, `shape_score` and
`attnwidget.analysis.experiments` too. Nothing here runs a model.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.analysis.table import Table
from attnwidget.attention.arrays import FLOAT16_NORMAL, coarse_float16_rows, hidden_keys_mask
from attnwidget.attention.core import Attention, renormalize
from attnwidget.errors import ArgumentTypeError, AttentionError, NoQualifyingRowError

__all__ = [
    "find_sinks",
    "analyze",
    "roles_from_scores",
    "role_counts",
    "head_hints",
    "ROLES",
    "DEFAULT_ROLE_THRESHOLDS",
    "HEAD_METRICS",
    "SINK_THRESHOLD",
    "SINK_MIN_ROWS",
    "BADGE_SHARE",
]

# A key other than the first is a sink when some head gives it at least this much of the attention
# of the rows that see it, on average. Content tokens rarely pass 0.3 over many rows; sinks sit
# at 0.5-0.97 in the bundled SmolLM2.
SINK_THRESHOLD = 0.5
SINK_MIN_ROWS = 4

# Head roles, in the order a head is labelled when several scores pass their thresholds: the
# rarer, more specific mechanisms first, broad attention last.
ROLES = ("induction", "previous_token", "self", "first_token", "local", "broad")
"""The role names `roles_from_scores` and `aw.experiments.head_roles` give heads."""

DEFAULT_ROLE_THRESHOLDS = {
    "induction": 0.3,  # share of attention on the induction target in the repeated half
    "previous_token": 0.5,  # share of attention on key i - 1
    "self": 0.5,  # share on key i
    "first_token": 0.5,  # sink mass: attention on the first token from later rows
    "local": 0.7,  # share within `window` positions, the first token excluded
    "broad": 0.75,  # normalised entropy (1 = uniform over visible keys)
}


def _check_attention(att: Any, what: str) -> Attention:
    if not isinstance(att, Attention):
        raise ArgumentTypeError(
            f"{what} takes an aw.Attention (from aw.extract or aw.generate, or aw.Attention(weights, tokens)); "
            f"got {type(att).__name__}"
        )
    if att.n_key < 2:
        raise AttentionError(
            f"{what} needs at least two tokens (sinks, neighbours and spread are undefined for one); got {att.n_key}"
        )
    return att


# ------------------------------------------------------------------------------------- sinks


def find_sinks(att: Attention, *, threshold: float = SINK_THRESHOLD, min_rows: int = SINK_MIN_ROWS) -> list[int]:
    """Key positions that heads park attention on (see the `attnwidget.analysis` docstring, "Sinks").

    Parameters
    ----------
    att : Attention
    threshold : float in [0, 1]
        A key other than the first is a sink when some head of some layer gives it at least this
        share of the attention of the query rows that see it (its own row left out), on average.
    min_rows : int
        Rows that must see the key for that average to count (the last keys of a causal model are
        seen by few rows, and a mean over one or two rows is no evidence of parking).

    Returns
    -------
    list of int
        Sorted key positions; always starts with 0.
    """
    att = _check_attention(att, "find_sinks")
    threshold = V.fraction("threshold", threshold)
    min_rows = V.integer("min_rows", min_rows, low=1)
    offset = att.n_key - att.n_query
    seen = att.mask.copy()
    rows_abs = np.arange(att.n_query) + offset
    own = rows_abs < att.n_key
    seen[np.flatnonzero(own), rows_abs[own]] = False  # a token attending to itself is not parking
    counts = seen.sum(axis=0)
    received = np.zeros((att.num_layers, att.num_heads, att.n_key))
    for start, stop, w in att.iter_row_blocks():
        received += np.where(seen[start:stop], w, 0).sum(axis=2, dtype=np.float64)
    mean = np.divide(received, counts, out=np.zeros_like(received), where=counts > 0)
    strong = (mean.max(axis=(0, 1)) >= threshold) & (counts >= min_rows)
    strong[0] = True
    return np.flatnonzero(strong).tolist()


def _hidden_keys(att: Attention, hide: Any) -> list[int]:
    """The key positions `hide` names: "sinks", "first", None, or positions."""
    if hide is None or hide is False:
        return []
    if isinstance(hide, str):
        if hide == "sinks":
            return find_sinks(att)
        if hide == "first":
            return [0]
        raise AttentionError(f"hide must be 'sinks', 'first', None or a list of token positions; got {hide!r}")
    try:
        # int() would read '0' as position 0 and 1.5 as 1: only ints are positions.
        if isinstance(hide, (bytes, dict)) or not all(V._is_int(i) for i in hide):
            raise TypeError
        keys = sorted({int(i) for i in hide})
    except (TypeError, ValueError):
        raise AttentionError(
            f"hide must be 'sinks', 'first', None or a list of token positions; got {hide!r}"
        ) from None
    bad = [i for i in keys if not 0 <= i < att.n_key]
    if bad:
        raise AttentionError(f"hide holds positions {bad} outside the {att.n_key} tokens")
    return keys


def _describe_hidden(att: Attention, hidden: Sequence[int]) -> str:
    if not hidden:
        return "nothing hidden"
    shown = ", ".join(f"{i} {att.tokens[i]!r}" for i in hidden[:6])
    more = f" and {len(hidden) - 6} more" if len(hidden) > 6 else ""
    return f"sinks apart: {shown}{more}"


# ------------------------------------------------------------------------------------- per-head stats


def _head_stats(
    att: Attention, hidden: Sequence[int], specs: Mapping[str, Any], *, uniform: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Metrics of every head, ``(layers, heads)``, with `hidden` keys removed and rows renormalised.

    Also ``sink_share`` (raw attention on the hidden keys) and, for each name in `uniform`,
    ``<name>_uniform``: the metric of uniform rows over the same kept keys.
    """
    keep = hidden_keys_mask(att.mask, hidden)
    if not keep.any():
        raise AttentionError("every key is hidden; nothing is left to measure (pass hide=None)")
    on_hidden = np.zeros(att.n_key, bool)
    on_hidden[list(hidden)] = True
    rows_with_keys = np.asarray(keep.any(axis=1))
    out: dict[str, list] = {k: [] for k in specs}
    out["sink_share"] = []
    # Held at float16, a row that keeps under float16's normal range of its weight once the sinks
    # are hidden is rebuilt from a few bits (or zeros): such rows are left out like empty ones. The
    # rule is `coarse_float16_rows`, the one `Attention.hide_tokens` warns by.
    half = att.dtype == np.float16
    coarse_rows = 0
    for layer in att.layer_ids:
        w = att.layer(layer)
        sink = np.where(att.mask & on_hidden, w, 0).sum(axis=-1, dtype=np.float64)  # (H, Q)
        out["sink_share"].append(sink.mean(axis=-1))
        if hidden:
            mass = np.where(keep, w, 0).sum(axis=-1)  # (H, Q)
            empty = (mass <= 0) & rows_with_keys
            if half:
                coarse = coarse_float16_rows(w, keep)
                coarse_rows += int(coarse.sum())
                empty |= coarse
            w = np.where(empty[..., None], 0, renormalize(w, keep))
        if hidden and empty.any():
            # A head that puts a row's whole attention on the sinks has nothing left to measure in
            # that row: the row is left out of that head's means (as rows that see no key are).
            with warnings.catch_warnings():
                # A head whose rows left hold no key of a pattern has nothing to measure there: NaN,
                # like its empty rows, and not the warning a pattern on hidden keys alone deserves.
                warnings.filterwarnings("ignore", message="pattern_match: ", category=UserWarning)
                per = [
                    _compute(w[h : h + 1], specs, keep & ~empty[h][:, None], att.token_ids, 1)
                    if (keep & ~empty[h][:, None]).any()
                    else {k: np.full(1, np.nan) for k in specs}
                    for h in range(att.num_heads)
                ]
            vals = {k: np.concatenate([np.atleast_1d(p[k]) for p in per]) for k in specs}
        else:
            vals = _compute(w, specs, keep, att.token_ids, att.num_heads)
        for k in specs:
            out[k].append(np.asarray(vals[k], dtype=np.float64))
    if coarse_rows:
        warnings.warn(
            f"{coarse_rows} (layer, head, row) rows keep under {FLOAT16_NORMAL:.1e} of their weight with the "
            f"{_describe_hidden(att, hidden)}; held at float16 their other weights have too few bits to "
            "renormalise, so those rows are left out of the per-head means (which then differ from a "
            "float32 extraction's). Extract with dtype='float32' to measure them.",
            stacklevel=3,
        )
    result = {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
    if uniform:
        flat = keep.astype(np.float32)
        flat = np.divide(flat, flat.sum(-1, keepdims=True), out=np.zeros_like(flat), where=rows_with_keys[:, None])
        base = M.compute(flat, {k: specs[k] for k in uniform}, mask=keep, token_ids=att.token_ids)
        for k in uniform:
            result[f"{k}_uniform"] = np.full((att.num_layers, att.num_heads), float(base[k]))
    return result


def _compute(w: np.ndarray, specs: Mapping[str, Any], keep: np.ndarray, token_ids: Any, heads: int) -> dict:
    """`metrics.compute`, with NaN for a metric no row qualifies for (normalised entropy of rows that
    see one key once the sinks are hidden)."""
    try:
        return M.compute(w, specs, mask=keep, token_ids=token_ids)
    except NoQualifyingRowError:
        pass
    out = {}
    for k, spec in specs.items():
        try:
            out[k] = M.compute(w, {k: spec}, mask=keep, token_ids=token_ids)[k]
        except NoQualifyingRowError:
            out[k] = np.full(heads, np.nan)
    return out


# ------------------------------------------------------------------------------------- analyze

HEAD_METRICS = {
    "entropy": "entropy",
    "normalized_entropy": ("entropy", {"normalized": True}),
    "sparsity": "sparsity",
    "locality": "locality",
    "focus_consistency": "focus_consistency",
    "confidence": "confidence",
    "sink_mass": "sink_mass",
    "previous_token": ("pattern_match", {"pattern": "previous_token"}),
    "self": ("pattern_match", {"pattern": "self"}),
}


def analyze(
    att: Attention, *, hide: Any = "sinks", sparsity_threshold: float = 0.01, top_k: int = 3, sink_k: int = 1
) -> Table:
    """Every head's metrics, with sinks apart.

    Parameters
    ----------
    att : Attention
    hide : "sinks", "first", None or list of int
        Keys measured apart (`attnwidget.analysis` docstring, "Sinks"); None measures the raw maps.
    sparsity_threshold, top_k, sink_k
        Passed to `metrics.sparsity`, `metrics.focus_consistency` and `metrics.sink_mass`.

    Returns
    -------
    Table
        One row per (layer, head): ``sink_share`` (raw attention on the hidden keys), then on the
        rest: entropy, normalized_entropy, sparsity, locality, focus_consistency, confidence,
        previous_token and self (see `attnwidget.metrics.rows`); with ``hide=None``, no sink_share but
        sink_mass (attention on the first `sink_k` keys).
    """
    att = _check_attention(att, "analyze")
    V.fraction("sparsity_threshold", sparsity_threshold)
    hidden = _hidden_keys(att, hide)
    specs: dict[str, Any] = dict(HEAD_METRICS)
    specs["sparsity"] = ("sparsity", {"threshold": sparsity_threshold})
    specs["focus_consistency"] = ("focus_consistency", {"top_k": top_k})
    specs["sink_mass"] = ("sink_mass", {"k": sink_k})
    if hidden:
        del specs["sink_mass"]  # with the sinks hidden it is measured as sink_share instead
    with warnings.catch_warnings(record=True) as caught:
        # A table says it in its title: a pattern column whose keys are all hidden is NaN, not 0.
        warnings.filterwarnings("always", message="pattern_match: ", category=UserWarning)
        values = _head_stats(att, hidden, specs)
    for w in caught:
        if not str(w.message).startswith("pattern_match: "):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    blind = [k for k in ("previous_token", "self") if any(str(w.message).startswith("pattern_match: ") for w in caught) and np.isnan(values[k]).any()]  # fmt: skip
    note = f"; {', '.join(blind)} NaN where the pattern's keys are all hidden (hide=None measures them)" if blind else ""  # fmt: skip
    L, H = att.num_layers, att.num_heads
    cols: dict[str, Any] = {"layer": np.repeat(att.layer_ids, H), "head": np.tile(att.head_ids, L)}
    if hidden:
        cols["sink_share"] = values["sink_share"].reshape(L * H)
    for k in specs:
        cols[k] = values[k].reshape(L * H)
    return Table.from_columns(
        cols,
        title=f"per-head metrics ({L} layers x {H} heads, {att.n_key} tokens; {_describe_hidden(att, hidden)}){note}",
    )


# ------------------------------------------------------------------------------------- head roles


def roles_from_scores(
    att: Attention,
    *,
    window: int = 3,
    thresholds: Mapping[str, float] | None = None,
    induction: np.ndarray | None = None,
) -> Table:
    """Label each head by what it mostly does, from its scores on `att`, with the score behind the label.

    The labelling step of `aw.experiments.head_roles`, which also measures the induction scores on
    the model; call this one directly with induction scores you already have (a `census`'s
    ``tint("induction")``, or `aw.experiments.induction_scores`).

    Scores per head (on `att`, raw maps: the sink is itself one of the roles): ``previous_token``
    and ``self`` (`metrics.pattern_match`), ``first_token`` (`metrics.sink_mass`, k=1), ``local``
    (share of attention on keys within `window` positions, the first token excluded), ``broad``
    (normalised entropy) and ``induction`` when `induction` scores are given
    (`aw.experiments.induction_scores`; `aw.experiments.head_roles` with a model measures them). A head takes the
    first role of `ROLES` whose score passes its threshold, else "mixed".

    Parameters
    ----------
    thresholds : dict, optional
        Role -> threshold (a number >= 0; every score is a share, so above 1 switches the role
        off), overriding `DEFAULT_ROLE_THRESHOLDS`.
    induction : ndarray (layers, heads), optional

    Returns
    -------
    Table
        layer, head, role, score (the score of that role; for "mixed" the largest score relative
        to its threshold), every role's score, and ``roles``: every role passed.
    """
    att = _check_attention(att, "roles_from_scores")
    th = dict(DEFAULT_ROLE_THRESHOLDS)
    if thresholds is not None and not isinstance(thresholds, Mapping):
        raise V.ArgumentTypeError(f"thresholds must be a dict of role -> threshold; got {V.show(thresholds)}")
    for k, v in (thresholds or {}).items():
        if k not in th:
            raise AttentionError(f"unknown role {k!r} in thresholds; roles are {ROLES}")
        th[k] = V.number(f"thresholds[{k!r}]", v, low=0)  # above 1 (every score is a share) switches a role off
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise AttentionError(f"window must be a positive int; got {window!r}")
    i = np.arange(att.n_query)[:, None] + att.n_key - att.n_query
    j = np.arange(att.n_key)[None, :]
    band = (np.abs(i - j) <= window) & (j >= 1)
    vals = M.compute(
        att,
        {
            "previous_token": ("pattern_match", {"pattern": "previous_token"}),
            "self": ("pattern_match", {"pattern": "self"}),
            "first_token": ("sink_mass", {"k": 1}),
            "local": ("pattern_match", {"pattern": band}),
            "broad": ("entropy", {"normalized": True}),
        },
    )
    L, H = att.num_layers, att.num_heads
    if induction is None:
        vals["induction"] = np.full((L, H), np.nan)
    else:
        induction = np.asarray(induction, dtype=np.float64)
        if induction.shape != (L, H):
            raise AttentionError(f"induction scores must have shape (layers, heads) = {(L, H)}; got {induction.shape}")
        vals["induction"] = induction
    scores = {r: np.asarray(vals[r], dtype=np.float64).reshape(L * H) for r in ROLES}
    role, score, passed = [], [], []
    for n in range(L * H):
        hits = [r for r in ROLES if not np.isnan(scores[r][n]) and scores[r][n] >= th[r]]
        passed.append(",".join(hits))
        if hits:
            role.append(hits[0])
            score.append(scores[hits[0]][n])
        else:
            ratio = {r: scores[r][n] / th[r] for r in ROLES if not np.isnan(scores[r][n]) and th[r] > 0}
            best = max(ratio, key=lambda r: ratio[r])
            role.append("mixed")
            score.append(scores[best][n])
    cols = {
        "layer": np.repeat(att.layer_ids, H),
        "head": np.tile(att.head_ids, L),
        "role": np.array(role, dtype=object),
        "score": score,
        **scores,
        "roles": np.array(passed, dtype=object),
    }
    return Table.from_columns(cols, "head roles")


def role_counts(roles: Table) -> dict[str, int]:
    """How many heads carry each label."""
    labels, counts = np.unique(roles["role"].astype(str), return_counts=True)
    return {str(layer): int(c) for layer, c in zip(labels, counts, strict=False)}


# ------------------------------------------------------------------------------------- head hints

# A hint badge needs this share of the head's attention on the badge's pattern, on this text.
BADGE_SHARE = {"sink": 0.8, "prev": 0.5, "ind": 0.3}


def head_hints(att: Attention) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """Per-head values and role badges for a head grid, from the attention itself (`aw.show` uses them).

    Parameters
    ----------
    att : Attention
        Any attention, one token included.

    Returns
    -------
    tints : dict of str to ndarray (layers, heads)
        ``{"entropy (nats)": ..., "sink mass": ...}``: `metrics.entropy` and `metrics.sink_mass` per
        (layer, head), float32. Sink mass is left out where no query row qualifies for it.
    labels : list of list of str
        Per layer, per head: a badge naming the patterns that take at least `BADGE_SHARE` of the
        head's attention on this text: ``sink`` (the first token), ``prev`` (the previous token),
        ``ind`` (the induction target, only when the text repeats tokens and carries token ids).
        Badges describe where a head looks on this input, not a causal test of what it does
        (``aw.experiments.head_roles`` runs the model for that).
    """
    if att.n_key < 2:  # one token: no later token to measure a sink from, no neighbour, no badge
        return (
            {"entropy (nats)": np.asarray(M.entropy(att), np.float32)},
            [[""] * att.num_heads for _ in range(att.num_layers)],
        )
    tints = {"entropy (nats)": np.asarray(M.entropy(att), np.float32)}
    # A measure no query row qualifies for (every row after the sink masked out) gets no tint and
    # no badge rather than stopping the whole dashboard.
    sink = _per_head_or_none(M.sink_mass, att)
    if sink is not None:
        tints["sink mass"] = sink
    shares = {"sink": sink, "prev": _per_head_or_none(M.pattern_match, att, "previous_token")}
    ids = att.token_ids
    if ids is not None and len(set(ids)) < len(ids) and att.n_query == att.n_key:
        shares["ind"] = _per_head_or_none(M.pattern_match, att, "induction")
    L, H = att.num_layers, att.num_heads
    found = {k: v for k, v in shares.items() if v is not None}
    labels = [
        [" ".join(k for k, v in found.items() if v[li, hi] >= BADGE_SHARE[k]) for hi in range(H)] for li in range(L)
    ]
    return tints, labels


def _per_head_or_none(measure: Any, att: Attention, *args: Any) -> np.ndarray | None:
    """`measure(att, *args)` per (layer, head) as float32, or None where no query row qualifies."""
    try:
        # A pattern whose keys are all masked gives NaN, which earns no badge; its warning is for
        # callers of pattern_match, not for the dashboard's hints.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="pattern_match: ", category=UserWarning)
            return np.asarray(measure(att, *args), np.float32)
    except NoQualifyingRowError:
        return None
