"""What the attention means: per-head tables, reports, quality scores, prompt segments, template and
language comparisons, and head roles.

Every number here comes from `attnwidget.metrics`; this module chooses which maps to measure (each
head, or each layer's head-averaged map), names the results and explains them. Functions that run a
model (`compare_templates`, `compare_languages`, `induction_scores`) call `aw.extract`.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _validate as V
from . import metrics as M
from .attention import Attention

__all__ = [
    "Table", "analyze", "report", "Report", "evaluate_quality", "Quality", "segment_attention",
    "SegmentAttention", "compare_templates", "TemplateComparison", "compare_languages",
    "LanguageComparison", "head_roles", "induction_scores", "role_counts", "ROLES",
]

# Head roles, in the order a head is labelled when several scores pass their thresholds: the
# rarer, more specific mechanisms first, broad attention last.
ROLES = ("induction", "previous_token", "self", "first_token", "local", "broad")

DEFAULT_ROLE_THRESHOLDS = {
    "induction": 0.3,       # share of attention on the induction target in the repeated half
    "previous_token": 0.5,  # share of attention on key i - 1
    "self": 0.5,            # share on key i
    "first_token": 0.5,     # sink mass: attention on the first token from later rows
    "local": 0.7,           # share within `window` positions, the first token excluded
    "broad": 0.75,          # normalised entropy (1 = uniform over visible keys)
}


# ------------------------------------------------------------------------------------- tables


class Table:
    """Rows of named values: a numpy structured array with a readable text form.

    Index with a column name for a column array, an int for one row as a dict; iterate for dicts.
    """

    def __init__(self, records: np.ndarray, title: str = ""):
        self.records = records
        self.title = title

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], title: str = "") -> "Table":
        cols = {k: np.asarray(v) for k, v in columns.items()}
        n = {len(v) for v in cols.values()}
        if len(n) != 1:
            raise ValueError(f"columns have different lengths: { {k: len(v) for k, v in cols.items()} }")
        dtype = [(k, v.dtype if v.dtype.kind != "U" else object) for k, v in cols.items()]
        rec = np.empty(n.pop(), dtype=dtype)
        for k, v in cols.items():
            rec[k] = v
        return cls(rec, title)

    @property
    def columns(self) -> list[str]:
        return list(self.records.dtype.names)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"no column {key!r}; columns are {self.columns}")
            return self.records[key]
        return self.to_dicts()[key]

    def __iter__(self):
        return iter(self.to_dicts())

    def to_dicts(self) -> list[dict]:
        return [{k: _plain(row[k]) for k in self.columns} for row in self.records]

    def where(self, **equal: Any) -> "Table":
        """Rows whose columns equal the given values, e.g. ``table.where(layer=3)``."""
        keep = np.ones(len(self), bool)
        for k, v in equal.items():
            keep &= self[k] == v
        return Table(self.records[keep], self.title)

    def __repr__(self) -> str:
        return _format_table(self.columns, [[row[k] for k in self.columns] for row in self.records], self.title)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", limit: int = 40) -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "nan" if np.isnan(v) else f"{v:.3f}"
        return str(v)

    shown = list(rows[:limit])
    cells = [[cell(v) for v in r] for r in shown]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    return "\n".join(lines)


def _check_attention(att: Any, what: str) -> Attention:
    if not isinstance(att, Attention):
        raise TypeError(
            f"{what} takes an aw.Attention (from aw.extract, or aw.Attention(weights, tokens)); "
            f"got {type(att).__name__}")
    if att.n_key < 2:
        raise ValueError(f"{what} needs at least two tokens (sinks, neighbours and spread are "
                         f"undefined for one); got {att.n_key}")
    return att


# ------------------------------------------------------------------------------------- analyze

HEAD_METRICS = {
    "entropy": "entropy",
    "sparsity": "sparsity",
    "locality": "locality",
    "focus_consistency": "focus_consistency",
    "confidence": "confidence",
    "sink_mass": "sink_mass",
    "previous_token": ("pattern_match", {"pattern": "previous_token"}),
    "self": ("pattern_match", {"pattern": "self"}),
}


def analyze(att: Attention, *, sparsity_threshold: float = 0.01, top_k: int = 3, sink_k: int = 1) -> Table:
    """Every head's metrics, in one pass over the attention.

    Parameters
    ----------
    att : Attention
        Lazy attention is streamed block by block.
    sparsity_threshold, top_k, sink_k
        Passed to `metrics.sparsity`, `metrics.focus_consistency` and `metrics.sink_mass`.

    Returns
    -------
    Table
        One row per (layer, head): entropy, sparsity, locality, focus_consistency, confidence,
        sink_mass, previous_token and self (see `attnwidget.metrics` for the definitions).
    """
    att = _check_attention(att, "analyze")
    specs = dict(HEAD_METRICS)
    specs["sparsity"] = ("sparsity", {"threshold": sparsity_threshold})
    specs["focus_consistency"] = ("focus_consistency", {"top_k": top_k})
    specs["sink_mass"] = ("sink_mass", {"k": sink_k})
    values = M.compute(att, specs)
    L, H = att.num_layers, att.num_heads
    cols: dict[str, Any] = {
        "layer": np.repeat(att.layer_ids, H),
        "head": np.tile(att.head_ids, L),
    }
    for k in specs:
        cols[k] = np.asarray(values[k]).reshape(L * H)
    return Table.from_columns(cols, title=f"per-head metrics ({L} layers x {H} heads, {att.n_key} tokens)")


def _fused_layer_metrics(att: Attention, specs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Metrics of each layer's head-averaged map, one layer at a time (lazy-friendly)."""
    out: dict[str, list] = {k: [] for k in specs}
    for l in att.layer_ids:
        fused = att.fuse("mean", layer=l)
        values = M.compute(fused, specs, mask=att.mask, token_ids=att.token_ids)
        for k in specs:
            out[k].append(values[k])
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


# ------------------------------------------------------------------------------------- report


class Report:
    """`report`'s result: a summary, a per-layer table and recommendations.

    Attributes
    ----------
    summary : dict
        Mean over layers of each layer's head-averaged entropy, sparsity and locality.
    layers : Table
        Per layer: entropy, sparsity, locality of the head-averaged map.
    recommendations : list of dict
        ``{"metric", "rule", "threshold", "layers", "values", "message"}``, one per triggered rule.
    """

    def __init__(self, summary: dict, layers: Table, recommendations: list[dict]):
        self.summary, self.layers, self.recommendations = summary, layers, recommendations

    def __repr__(self) -> str:
        lines = ["Attention report",
                 "summary: " + ", ".join(f"{k} {v:.3f}" for k, v in self.summary.items()),
                 repr(self.layers), "recommendations:"]
        lines += [f"  - {r['message']}" for r in self.recommendations] or ["  (none: no threshold crossed)"]
        return "\n".join(lines)


def report(att: Attention, *, entropy_below: float = 1.0, sparsity_above: float = 0.8,
           locality_below: float = 0.3, sparsity_threshold: float = 0.01) -> Report:
    """Summary, layer analysis and recommendations from thresholds.

    Each layer's heads are averaged into one map and measured. A recommendation is made for each
    rule some layers break, naming those layers and their values: entropy below `entropy_below`
    (attention very concentrated), sparsity above `sparsity_above` (very sparse), locality below
    `locality_below` (weak locality).
    """
    att = _check_attention(att, "report")
    entropy_below = V.number("entropy_below", entropy_below, low=0)  # nats
    sparsity_above = V.fraction("sparsity_above", sparsity_above)
    locality_below = V.fraction("locality_below", locality_below)
    vals = _fused_layer_metrics(att, {"entropy": "entropy", "locality": "locality",
                                      "sparsity": ("sparsity", {"threshold": sparsity_threshold})})
    layers = Table.from_columns({"layer": att.layer_ids, **{k: vals[k] for k in ("entropy", "sparsity", "locality")}},
                                title="per layer (head-averaged maps)")
    summary = {f"mean_{k}": float(vals[k].mean()) for k in ("entropy", "sparsity", "locality")}
    rules = [
        ("entropy", "below", entropy_below, "attention very concentrated"),
        ("sparsity", "above", sparsity_above, "very sparse attention"),
        ("locality", "below", locality_below, "weak locality"),
    ]
    recs = []
    for metric, side, threshold, meaning in rules:
        v = vals[metric]
        hit = v < threshold if side == "below" else v > threshold
        if hit.any():
            ids = [att.layer_ids[i] for i in np.flatnonzero(hit)]
            shown = ", ".join(f"{l} ({x:.3f})" for l, x in zip(ids, v[hit]))
            recs.append({
                "metric": metric, "rule": side, "threshold": threshold, "layers": ids,
                "values": [float(x) for x in v[hit]],
                "message": f"{meaning}: {metric} {side} {threshold} in layer(s) {shown}",
            })
    return Report(summary, layers, recs)


# ------------------------------------------------------------------------------------- quality


class Quality:
    """`evaluate_quality`'s result: per-layer values and the overall score (mean of layer scores)."""

    def __init__(self, layers: Table, score: float, patterns: list[str]):
        self.layers, self.score, self.patterns = layers, score, patterns

    def __repr__(self) -> str:
        return f"Attention quality: overall score {self.score:.3f}\n{self.layers!r}"


def _expected(expected_patterns: Any) -> dict[str, Any]:
    if expected_patterns is None:
        return {}
    if isinstance(expected_patterns, str):
        expected_patterns = [expected_patterns]
    if isinstance(expected_patterns, Mapping):
        return dict(expected_patterns)
    out = {}
    for p in expected_patterns:
        if not isinstance(p, str):
            raise ValueError("expected_patterns must be pattern names or a dict of name -> pattern "
                             f"(a name from {M.PATTERNS} or an (n_query, n_key) array); got {type(p).__name__}")
        out[p] = p
    return out


def evaluate_quality(att: Attention, expected_patterns: Any = None, *, entropy_range: tuple[float, float] = (1.0, 3.0),
                     sparsity_range: tuple[float, float] = (0.3, 0.7), entropy_points: float = 0.3,
                     sparsity_points: float = 0.3, locality_weight: float = 0.4) -> Quality:
    """Per-layer entropy, sparsity, locality, focus consistency, pattern matches, and a score.

    A layer (its head-averaged map) scores `entropy_points` when its entropy lies strictly inside
    `entropy_range`, plus `sparsity_points` when its sparsity lies strictly inside `sparsity_range`,
    plus ``locality_weight * locality``; the overall score is the mean over layers.

    Parameters
    ----------
    expected_patterns : str, list of str or dict, optional
        Pattern names (see `metrics.pattern`), or ``{label: name or (n_query, n_key) array}``;
        each layer's `metrics.pattern_match` is reported as ``pattern_<label>``.
    """
    att = _check_attention(att, "evaluate_quality")
    for name, rng in (("entropy_range", entropy_range), ("sparsity_range", sparsity_range)):
        if isinstance(rng, (str, bytes)) or not hasattr(rng, "__len__") or len(rng) != 2 \
                or not V.number(f"{name}[0]", rng[0]) < V.number(f"{name}[1]", rng[1]):
            raise ValueError(f"{name} must be (low, high) with low < high; got {rng!r}")
    entropy_points = V.number("entropy_points", entropy_points, low=0)
    sparsity_points = V.number("sparsity_points", sparsity_points, low=0)
    locality_weight = V.number("locality_weight", locality_weight, low=0)
    patterns = _expected(expected_patterns)
    specs: dict[str, Any] = {"entropy": "entropy", "sparsity": "sparsity", "locality": "locality",
                             "focus_consistency": "focus_consistency"}
    for label, p in patterns.items():
        specs[f"pattern_{label}"] = ("pattern_match", {"pattern": p})
    vals = _fused_layer_metrics(att, specs)
    e, s = vals["entropy"], vals["sparsity"]
    score = (entropy_points * ((entropy_range[0] < e) & (e < entropy_range[1]))
             + sparsity_points * ((sparsity_range[0] < s) & (s < sparsity_range[1]))
             + locality_weight * vals["locality"])
    layers = Table.from_columns({"layer": att.layer_ids, **vals, "score": score},
                                title="per layer (head-averaged maps)")
    return Quality(layers, float(score.mean()), list(patterns))


# ------------------------------------------------------------------------------------- segments


class SegmentAttention:
    """Attention between named parts of a text.

    Attributes
    ----------
    names : list of str
        Segment names in text order (with `other` last when some tokens fall outside every segment).
    matrix : ndarray (layers, S, S)
        Row ``s`` column ``t``: the share of the attention of segment ``s``'s query tokens that goes
        to segment ``t``'s tokens, averaged over heads; rows sum to 1 (rows of segments with no
        query row are 0).
    per_head : ndarray (layers, heads, S, S)
    token_index : dict
        Segment name -> token positions; `tokens` gives their text.
    spans : dict
        Segment name -> (start, end) character span in the text.
    """

    def __init__(self, names, matrix, per_head, token_index, tokens, spans, layer_ids):
        self.names, self.matrix, self.per_head = names, matrix, per_head
        self.token_index, self.tokens, self.spans, self.layer_ids = token_index, tokens, spans, layer_ids

    def layer(self, layer: int) -> np.ndarray:
        """The ``(S, S)`` matrix of one model layer number."""
        if layer not in self.layer_ids:
            raise IndexError(f"layer {layer} is not in this result; it holds layers {self.layer_ids}")
        return self.matrix[self.layer_ids.index(layer)]

    def mean(self) -> np.ndarray:
        """``(S, S)`` averaged over layers."""
        return self.matrix.mean(axis=0)

    def __repr__(self) -> str:
        m = self.mean()
        rows = [[n] + list(m[i]) + [len(self.token_index[n])] for i, n in enumerate(self.names)]
        return _format_table(["from \\ to"] + self.names + ["tokens"], rows,
                             f"segment attention, mean over {len(self.layer_ids)} layers (rows sum to 1)")


def _segment_spans(text: str, segments: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    if not isinstance(segments, Mapping) or not segments:
        raise ValueError("segments must be a non-empty dict of name -> (start, end) character span "
                         "or substring of the text")
    spans = {}
    for name, seg in segments.items():
        if isinstance(seg, str):
            if not seg:
                raise ValueError(f"segment {name!r} is an empty string; give a substring of the text")
            count = text.count(seg)
            if count == 0:
                raise ValueError(f"segment {name!r}: {seg[:40]!r} does not occur in the text")
            if count > 1:
                raise ValueError(f"segment {name!r}: {seg[:40]!r} occurs {count} times in the text; "
                                 "pass a (start, end) character span to say which")
            start = text.index(seg)
            spans[name] = (start, start + len(seg))
        else:
            try:
                start, end = (int(v) for v in seg)
            except (TypeError, ValueError):
                raise ValueError(f"segment {name!r} must be a substring or a (start, end) character span; "
                                 f"got {seg!r}") from None
            if not 0 <= start < end <= len(text):
                raise ValueError(f"segment {name!r} span ({start}, {end}) is empty or outside the text "
                                 f"(expected 0 <= start < end <= {len(text)})")
            spans[name] = (start, end)
    ordered = sorted(spans.items(), key=lambda kv: kv[1])
    for (a, sa), (b, sb) in zip(ordered, ordered[1:]):
        if sb[0] < sa[1]:
            raise ValueError(f"segments {a!r} {sa} and {b!r} {sb} overlap; segments must not share characters")
    return dict(ordered)


def _token_segments(att: Attention, spans: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """Segment number per token (-1: none); a token belongs to the segment its characters overlap."""
    seg = np.full(att.n_key, -1)
    for t, (a, b) in enumerate(att.offsets):
        if b <= a:  # special tokens have empty spans
            continue
        for s, (start, end) in enumerate(spans.values()):
            if a < end and b > start:
                seg[t] = s
                break
    return seg


def segment_attention(att: Attention, segments: Mapping[str, Any], *, other: str | None = "other") -> SegmentAttention:
    """Segment-by-segment attention per layer (system / instructions / examples / question ...).

    Parameters
    ----------
    att : Attention
        With character `offsets` and `text` (as `aw.extract` gives with a fast tokenizer).
    segments : dict
        Name -> substring of ``att.text`` (it must occur once) or ``(start, end)`` character span.
        Spans must not overlap. Tokens are assigned by their character offsets.
    other : str or None
        Name of the segment collecting tokens outside every segment (special tokens, template
        markup); None drops them, and rows are then normalised over the named segments only.

    Raises
    ------
    ValueError
        No offsets or text, empty segments, overlapping spans, spans outside the text, a substring
        that is missing or ambiguous, a segment that covers no token.
    """
    att = _check_attention(att, "segment_attention")
    if att.text is None or att.offsets is None:
        raise ValueError("segment_attention needs the attention's text and character offsets "
                         "(aw.extract with a fast tokenizer records them)")
    spans = _segment_spans(att.text, segments)
    seg = _token_segments(att, spans)
    names = list(spans)
    for s, name in enumerate(names):
        if not np.any(seg == s):
            raise ValueError(f"segment {name!r} {spans[name]} covers no token")
    if other is not None and np.any(seg < 0):
        if other in names:
            raise ValueError(f"a segment is named {other!r}, the name for tokens outside every segment; "
                             "pass other=<another name>")
        seg = np.where(seg < 0, len(names), seg)
        names.append(other)
    S = len(names)
    onehot = np.zeros((att.n_key, S), np.float32)  # float32 like the weights: no upcast copy per block
    keep = seg >= 0
    onehot[np.flatnonzero(keep), seg[keep]] = 1.0
    q_seg = seg[att.n_key - att.n_query:]
    L, H = att.num_layers, att.num_heads
    mass = np.zeros((L, H, S, S))
    for start, stop, w in att.iter_row_blocks():
        w = np.where(att.mask[start:stop], w, 0)
        to_seg = w @ onehot  # (L, H, rows, S)
        rows_seg = q_seg[start:stop]
        for s in range(S):
            sel = rows_seg == s
            if sel.any():
                mass[:, :, s] += to_seg[:, :, sel].sum(axis=2, dtype=np.float64)
    total = mass.sum(axis=-1, keepdims=True)
    per_head = np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)
    token_index = {n: np.flatnonzero(seg == s).tolist() for s, n in enumerate(names)}
    tokens = {n: [att.tokens[i] for i in idx] for n, idx in token_index.items()}
    return SegmentAttention(names, per_head.mean(axis=1), per_head, token_index, tokens, spans,
                            list(att.layer_ids))


# ------------------------------------------------------------------------------------- templates


class TemplateComparison:
    """`compare_templates`' result.

    Attributes
    ----------
    table : Table
        Per template: tokens, entropy, max_attention, coverage.
    segments : dict
        Shared segment name -> {template: attention the segment receives}.
    attentions : dict
        Template name -> its `Attention`.
    """

    def __init__(self, table: Table, segments: dict, attentions: dict):
        self.table, self.segments, self.attentions = table, segments, attentions

    def __repr__(self) -> str:
        out = [repr(self.table)]
        for seg, per in self.segments.items():
            out.append(f"attention received by segment {seg!r}: "
                       + ", ".join(f"{t} {v:.3f}" for t, v in per.items()))
        return "\n".join(out)


def _run(model, tokenizer, spec: Any, what: str) -> tuple[Attention, dict]:
    from .extract import extract

    if isinstance(spec, str):
        return extract(model, tokenizer, spec), {}
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"text", "messages", "segments"}
        if unknown or ("text" in spec) == ("messages" in spec):
            raise ValueError(f"{what} must be a str or a dict with 'text' or 'messages' (one of them) and "
                             f"optional 'segments'; got keys {sorted(spec)}")
        att = extract(model, tokenizer, spec.get("text"), messages=spec.get("messages"))
        return att, dict(spec.get("segments") or {})
    raise ValueError(f"{what} must be a str or a dict with 'text' or 'messages'; got {type(spec).__name__}")


def _received(att: Attention, positions: Sequence[int]) -> float:
    """Mean over layers, heads and the query rows that see the segment of the weight on it."""
    inside = np.zeros(att.n_key, bool)
    inside[list(positions)] = True
    rows = (att.mask & inside).any(axis=1)
    total = 0.0
    for start, stop, w in att.iter_row_blocks():
        sel = rows[start:stop]
        if sel.any():
            total += np.where(att.mask[start:stop], w, 0)[:, :, sel][..., inside].sum(dtype=np.float64)
    return total / (att.num_layers * att.num_heads * rows.sum())


def compare_templates(model: Any, tokenizer: Any, templates: Mapping[str, Any], *, threshold: float = 0.01) -> TemplateComparison:
    """Compare prompt templates by the attention the model gives them.

    Parameters
    ----------
    templates : dict
        Name -> text, or name -> ``{"text": str}`` / ``{"messages": [...]}`` with optional
        ``"segments": {segment name: substring or (start, end)}`` marking parts of the rendered text.
    threshold : float
        Weights above it count towards coverage.

    Returns
    -------
    TemplateComparison
        Per template (means over layers and heads): ``entropy``; ``max_attention``, the mean over
        query rows of the largest weight; ``coverage``, the fraction of visible entries above
        `threshold`. For each segment name marked in two or more templates, the attention it
        receives in each: the mean over layers, heads and the query rows that can see it (its own
        rows included), of the total weight on its tokens.
    """
    if not isinstance(templates, Mapping) or len(templates) == 0:
        raise ValueError("templates must be a non-empty dict of name -> text or {'text'|'messages', 'segments'}")
    threshold = V.fraction("threshold", threshold)  # before the model runs
    rows = {"template": [], "tokens": [], "entropy": [], "max_attention": [], "coverage": []}
    marked: dict[str, dict[str, list[int]]] = {}
    atts = {}
    for name, spec in templates.items():
        att, segs = _run(model, tokenizer, spec, f"template {name!r}")
        atts[name] = att
        # Every head has the same visible entries, so the mean of per-head coverage is the share
        # over all of them.
        vals = M.compute(att, {"entropy": "entropy", "confidence": "confidence",
                               "coverage": ("coverage", {"threshold": threshold})})
        rows["template"].append(name)
        rows["tokens"].append(att.n_key)
        rows["entropy"].append(float(np.mean(vals["entropy"])))
        rows["max_attention"].append(float(np.mean(vals["confidence"])))
        rows["coverage"].append(float(np.mean(vals["coverage"])))
        if segs:
            spans = _segment_spans(att.text, segs)
            seg = _token_segments(att, spans)
            for s, seg_name in enumerate(spans):
                pos = np.flatnonzero(seg == s).tolist()
                if not pos:
                    raise ValueError(f"template {name!r}: segment {seg_name!r} covers no token")
                marked.setdefault(seg_name, {})[name] = pos
    shared = {seg: {t: _received(atts[t], pos) for t, pos in per.items()}
              for seg, per in marked.items() if len(per) >= 2}
    return TemplateComparison(Table.from_columns(rows, "templates (means over layers and heads)"), shared, atts)


# ------------------------------------------------------------------------------------- languages


class LanguageComparison:
    """`compare_languages`' result.

    Attributes
    ----------
    table : Table
        Per language and layer: entropy and sparsity (means over heads), and the top tokens.
    top_tokens : dict
        Language -> list over layers of ``[(token, position, attention received), ...]``.
    attentions : dict
        Language -> its `Attention`.
    """

    def __init__(self, table: Table, top_tokens: dict, attentions: dict):
        self.table, self.top_tokens, self.attentions = table, top_tokens, attentions

    def summary(self) -> Table:
        """Per language: tokens, characters per token, mean entropy and sparsity over layers."""
        langs = list(self.attentions)
        rows = {"language": langs,
                "tokens": [self.attentions[l].n_key for l in langs],
                "chars_per_token": [len(self.attentions[l].text) / self.attentions[l].n_key for l in langs],
                "entropy": [float(self.table.where(language=l)["entropy"].mean()) for l in langs],
                "sparsity": [float(self.table.where(language=l)["sparsity"].mean()) for l in langs]}
        return Table.from_columns(rows, "languages (means over layers and heads)")

    def __repr__(self) -> str:
        return repr(self.summary())


def _received_per_key(att: Attention, layer: int) -> np.ndarray:
    """Column mean of the head-averaged map over the query rows that see each key."""
    fused = att.fuse("mean", layer=layer)
    visible = att.mask.sum(axis=0)
    col = np.where(att.mask, fused, 0).sum(axis=0)
    return np.divide(col, visible, out=np.zeros(att.n_key), where=visible > 0)


def compare_languages(model: Any, tokenizer: Any, texts: Mapping[str, str], *, top: int = 5) -> LanguageComparison:
    """The same content in several languages: which tokens draw attention, how spread it is.

    Parameters
    ----------
    texts : dict
        Language name -> text.
    top : int
        Tokens listed per layer: those receiving the most attention, measured as the column mean
        of the head-averaged map over the query rows that can see the token.

    Returns
    -------
    LanguageComparison
        Per language and layer: entropy, sparsity (means over heads) and the `top` tokens.
    """
    if not isinstance(texts, Mapping) or len(texts) == 0:
        raise ValueError("texts must be a non-empty dict of language -> text")
    if not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive int; got {top!r}")
    rows: dict[str, list] = {"language": [], "layer": [], "entropy": [], "sparsity": [], "top_tokens": []}
    tops, atts = {}, {}
    for lang, text in texts.items():
        if not isinstance(text, str):
            raise ValueError(f"text for {lang!r} must be a str; got {type(text).__name__}")
        att = _run(model, tokenizer, text, f"text for {lang!r}")[0]
        atts[lang] = att
        vals = M.compute(att, {"entropy": "entropy", "sparsity": "sparsity"})
        tops[lang] = []
        for li, l in enumerate(att.layer_ids):
            received = _received_per_key(att, l)
            best = np.argsort(-received, kind="stable")[:top]
            entry = [(att.tokens[i], int(i), float(received[i])) for i in best]
            tops[lang].append(entry)
            rows["language"].append(lang)
            rows["layer"].append(l)
            rows["entropy"].append(float(vals["entropy"][li].mean()))
            rows["sparsity"].append(float(vals["sparsity"][li].mean()))
            rows["top_tokens"].append(" | ".join(repr(t) for t, _, _ in entry))
    return LanguageComparison(Table.from_columns(rows, "languages per layer"), tops, atts)


# ------------------------------------------------------------------------------------- head roles


def _random_words(tokenizer: Any, length: int, seed: int) -> list[str]:
    """`length` distinct vocabulary words that each encode, with a leading space, to one token."""
    rng = np.random.default_rng(seed)
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    vocab = len(tokenizer)
    words, seen = [], set()
    for tid in rng.permutation(vocab):
        tid = int(tid)
        if tid in special:
            continue
        word = tokenizer.decode([tid]).strip()
        if not (word.isascii() and word.isalpha() and word.islower() and len(word) >= 3) or word in seen:
            continue
        if tokenizer(" " + word, add_special_tokens=False)["input_ids"] != [tid]:
            continue
        seen.add(word)
        words.append(word)
        if len(words) == length:
            return words
    raise ValueError(f"the tokenizer has fewer than {length} single-token words; pass a smaller length")


def induction_scores(model: Any, tokenizer: Any, *, length: int = 40, seed: int = 0,
                     layers: Sequence[int] | None = None, heads: Sequence[int] | None = None) -> np.ndarray:
    """Induction score of every head: run the model on a random word sequence repeated twice.

    In the second copy the token that followed the current token's first occurrence is predictable
    only by looking it up; an induction head attends to it. The score of a head is the mean, over
    the query rows of the second copy, of the weight on that token (`metrics.pattern` "induction").

    Parameters
    ----------
    length : int
        Words in the random sequence (each one token, all distinct).
    seed : int
        For the random choice of words.
    layers, heads : list of int, optional
        Passed to `aw.extract`.

    Returns
    -------
    ndarray (layers, heads)
    """
    from .extract import extract

    if not isinstance(length, (int, np.integer)) or length < 4:
        raise ValueError(f"length must be an int >= 4; got {length!r}")
    words = _random_words(tokenizer, int(length), seed)
    text = " ".join(words + words)
    att = extract(model, tokenizer, text, layers=layers, heads=heads)
    P = M.pattern("induction", att.n_query, att.n_key, token_ids=att.token_ids)
    rows = P.any(axis=1)
    if rows.sum() < length // 2:
        raise ValueError("the repeated sequence did not tokenize into repeated tokens; the induction "
                         "test needs a tokenizer that keeps single-token words")
    return np.asarray(M.pattern_match(att.weights[..., rows, :], P[rows], att.mask[rows]))


def head_roles(att: Attention, model: Any = None, tokenizer: Any = None, *, window: int = 3,
               thresholds: Mapping[str, float] | None = None, induction_length: int = 40, seed: int = 0) -> Table:
    """Label each head by what it mostly does, with the score behind the label.

    Scores per head (on `att`): ``previous_token`` and ``self`` (`metrics.pattern_match`),
    ``first_token`` (`metrics.sink_mass`, k=1), ``local`` (share of attention on keys within
    `window` positions, the first token excluded), ``broad`` (normalised entropy) and, when `model`
    and `tokenizer` are given, ``induction`` (`induction_scores` on a repeated random sequence built
    here). A head takes the first role of `ROLES` whose score passes its threshold, else "mixed".

    Parameters
    ----------
    thresholds : dict, optional
        Role -> threshold, overriding `DEFAULT_ROLE_THRESHOLDS`.

    Returns
    -------
    Table
        layer, head, role, score (the score of that role; for "mixed" the largest score relative
        to its threshold), every role's score, and ``roles``: every role passed.
    """
    att = _check_attention(att, "head_roles")
    if (model is None) != (tokenizer is None):
        raise ValueError("pass both model and tokenizer for the induction test, or neither")
    th = dict(DEFAULT_ROLE_THRESHOLDS)
    for k, v in (thresholds or {}).items():
        if k not in th:
            raise ValueError(f"unknown role {k!r} in thresholds; roles are {ROLES}")
        th[k] = V.number(f"thresholds[{k!r}]", v, low=0)  # above 1 (every score is a share) switches a role off
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int; got {window!r}")
    i = np.arange(att.n_query)[:, None] + att.n_key - att.n_query
    j = np.arange(att.n_key)[None, :]
    band = (np.abs(i - j) <= window) & (j >= 1)
    vals = M.compute(att, {
        "previous_token": ("pattern_match", {"pattern": "previous_token"}),
        "self": ("pattern_match", {"pattern": "self"}),
        "first_token": ("sink_mass", {"k": 1}),
        "local": ("pattern_match", {"pattern": band}),
        "broad": ("entropy", {"normalized": True}),
    })
    L, H = att.num_layers, att.num_heads
    if model is not None:
        vals["induction"] = induction_scores(model, tokenizer, length=induction_length, seed=seed,
                                             layers=att.layer_ids, heads=att.head_ids)
    else:
        vals["induction"] = np.full((L, H), np.nan)
    scores = {r: np.asarray(vals[r], dtype=np.float64).reshape(L * H) for r in ROLES}
    role, score, passed = [], [], []
    for k in range(L * H):
        hits = [r for r in ROLES if not np.isnan(scores[r][k]) and scores[r][k] >= th[r]]
        passed.append(",".join(hits))
        if hits:
            role.append(hits[0])
            score.append(scores[hits[0]][k])
        else:
            ratio = {r: scores[r][k] / th[r] for r in ROLES if not np.isnan(scores[r][k])}
            best = max(ratio, key=ratio.get)
            role.append("mixed")
            score.append(scores[best][k])
    cols = {"layer": np.repeat(att.layer_ids, H), "head": np.tile(att.head_ids, L),
            "role": np.array(role, dtype=object), "score": score, **scores,
            "roles": np.array(passed, dtype=object)}
    return Table.from_columns(cols, "head roles")


def role_counts(roles: Table) -> dict[str, int]:
    """How many heads carry each label."""
    labels, counts = np.unique(roles["role"].astype(str), return_counts=True)
    return {str(l): int(c) for l, c in zip(labels, counts)}
