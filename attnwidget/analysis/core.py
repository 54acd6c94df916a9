"""What an `Attention` means: per-head tables, reports with recommendations, prompt parts, head roles.

Nothing here runs a model (`attnwidget.analysis.experiments` does: templates, languages, induction). Every
number comes from `attnwidget.metrics.rows` on maps chosen here, and each name means one thing in every
function of this module and of `experiments`:

Sinks
    Keys that heads park attention on whatever the text says: the first token always, and any
    other key that some head gives, on average over the query rows that see it (its own row left
    out, at least `min_rows` of them), at least `threshold` of its attention (`find_sinks`). By
    default (``hide="sinks"``) sinks are reported apart as ``sink_share`` and every other measure
    is taken on the rest: each query row with the sink keys removed and renormalised over the
    keys it still sees. ``hide=None`` measures the raw maps; ``hide=[0, 5]`` removes given keys.
sink_share
    Mean over query rows of the attention on the sink keys (raw maps, never renormalised).
entropy
    Row entropy ``-sum_j a_ij ln a_ij`` in nats, mean over the query rows that see a key; computed
    per head, then averaged over heads (and over layers for one number per text).
normalized_entropy
    Each row's entropy divided by ``ln(keys it sees)``: 1 is uniform, whatever the length. Rows
    that see one key are left out.
sparsity
    Fraction of the visible entries strictly below `sparsity_threshold` (0.01).
locality
    Mean over rows of ``1 / (1 + sum_j |i - j| a_ij)``. Its baseline ``locality_uniform`` is the same
    measure on uniform rows over the same visible keys, so a long prompt is not called non-local for
    being long.
share (of a part)
    Mean over the chosen query rows and heads of the attention on that part's tokens
    (`segment_attention`); with sinks apart the shares of the parts, "other" and "sinks" sum to 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.attention.arrays import FLOAT16_NORMAL, hidden_keys_mask
from attnwidget.attention.core import Attention, renormalize
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError, NoQualifyingRowError

__all__ = [
    "Table",
    "analyze",
    "report",
    "Report",
    "shape_score",
    "ShapeScore",
    "segment_attention",
    "SegmentAttention",
    "tokens_span",
    "TokenSpan",
    "find_sinks",
    "head_roles",
    "role_counts",
    "ROLES",
    "SINK_THRESHOLD",
]

# A key other than the first is a sink when some head gives it at least this much of the attention
# of the rows that see it, on average. Content tokens rarely pass 0.3 over many rows; sinks sit
# at 0.5-0.97 in the bundled SmolLM2.
SINK_THRESHOLD = 0.5
SINK_MIN_ROWS = 4

# Head roles, in the order a head is labelled when several scores pass their thresholds: the
# rarer, more specific mechanisms first, broad attention last.
ROLES = ("induction", "previous_token", "self", "first_token", "local", "broad")

DEFAULT_ROLE_THRESHOLDS = {
    "induction": 0.3,  # share of attention on the induction target in the repeated half
    "previous_token": 0.5,  # share of attention on key i - 1
    "self": 0.5,  # share on key i
    "first_token": 0.5,  # sink mass: attention on the first token from later rows
    "local": 0.7,  # share within `window` positions, the first token excluded
    "broad": 0.75,  # normalised entropy (1 = uniform over visible keys)
}


# ------------------------------------------------------------------------------------- tables


class Table:
    """Rows of named values: a numpy structured array with a readable text form.

    Index with a column name for a column array, an int for one row as a dict; iterate for dicts.
    In a notebook it shows as an HTML table (through pandas when installed); `sort` orders it and
    `to_frame` gives a pandas DataFrame to sort and filter interactively.
    """

    def __init__(self, records: np.ndarray, title: str = "", missing: str = "nan"):
        self.records = records
        self.title = title
        self.missing = missing  # how a NaN cell is shown; the data keep NaN

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], title: str = "", missing: str = "nan") -> Table:
        cols = {k: np.asarray(v) for k, v in columns.items()}
        n = {len(v) for v in cols.values()}
        if len(n) != 1:
            raise AttentionError(f"columns have different lengths: { {k: len(v) for k, v in cols.items()} }")
        dtype = [(k, v.dtype if v.dtype.kind != "U" else object) for k, v in cols.items()]
        rec = np.empty(n.pop(), dtype=dtype)
        for k, v in cols.items():
            rec[k] = v
        return cls(rec, title, missing)

    @property
    def columns(self) -> list[str]:
        return list(self.records.dtype.names or ())

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

    def where(self, **equal: Any) -> Table:
        """Rows whose columns equal the given values, e.g. ``table.where(layer=3)``."""
        keep = np.ones(len(self), bool)
        for k, v in equal.items():
            keep &= self[k] == v
        return Table(self.records[keep], self.title, self.missing)

    def sort(self, column: str, *, descending: bool = True) -> Table:
        """Rows ordered by one column (largest first by default; NaN last)."""
        values = self[column]
        if values.dtype.kind in "fiub":
            key = np.where(np.isnan(values.astype(float)), np.inf, -values.astype(float) if descending else values)
            order = np.argsort(key, kind="stable")
        else:
            order = np.argsort(values.astype(str), kind="stable")
            order = order[::-1] if descending else order
        return Table(self.records[order], self.title, self.missing)

    def head(self, n: int = 15) -> Table:
        """The first `n` rows (after `sort`, the top ones); the title says how many of how many."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise V.ArgumentTypeError(f"head takes a positive int; got {V.show(n)}")
        if n >= len(self):
            return self
        title = f"{self.title} (first {n} of {len(self)} rows)" if self.title else f"first {n} of {len(self)} rows"
        return Table(self.records[:n], title, self.missing)

    def to_frame(self):
        """A pandas DataFrame of the rows (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Table.to_frame needs pandas: pip install pandas") from None
        return pd.DataFrame({k: self.records[k] for k in self.columns})

    def _repr_html_(self) -> str:
        import html

        try:
            frame = self.to_frame()
        except ImportError:
            frame = None
        title = f"<b>{html.escape(self.title)}</b>" if self.title else ""
        if frame is not None:
            numeric = [c for c in frame.columns if frame[c].dtype.kind == "f"]
            styler = frame.style.format({c: "{:.3f}" for c in numeric}, na_rep=self.missing).hide(axis="index")
            # Bars need no matplotlib (a background gradient would); one bar scale per column.
            varied = [c for c in numeric if np.isfinite(frame[c]).any() and frame[c].max() > frame[c].min()]
            styler = styler.bar(subset=varied, color="#9ecae1")
            return title + styler.to_html()
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(row[k], self.missing))}</td>" for k in self.columns) + "</tr>"
            for row in self.records
        )
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def __repr__(self) -> str:
        rows = [[row[k] for k in self.columns] for row in self.records]
        return _format_table(self.columns, rows, self.title, missing=self.missing)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _cell(v: Any, missing: str = "nan") -> str:
    if isinstance(v, (float, np.floating)):
        return missing if np.isnan(v) else f"{v:.3f}"
    v = str(v)
    return v if v.isprintable() else repr(v)  # newlines in answers would break the rows


def _format_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", limit: int = 40, missing: str = "nan"
) -> str:
    shown = list(rows[:limit])
    cells = [[_cell(v, missing) for v in r] for r in shown]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [title] if title else []
    lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=False)))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=False)) for r in cells]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    return "\n".join(lines)


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
    """Key positions that heads park attention on (see the module docstring, "Sinks").

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
    # are hidden is rebuilt from a few bits (or zeros): such rows are left out like empty ones.
    floor = FLOAT16_NORMAL if att.dtype == np.float16 else 0.0
    coarse_rows = 0
    for layer in att.layer_ids:
        w = att.layer(layer)
        sink = np.where(att.mask & on_hidden, w, 0).sum(axis=-1, dtype=np.float64)  # (H, Q)
        out["sink_share"].append(sink.mean(axis=-1))
        if hidden:
            mass = np.where(keep, w, 0).sum(axis=-1)  # (H, Q)
            empty = (mass <= floor) & rows_with_keys
            coarse_rows += int(empty.sum()) if floor else 0
            w = np.where(empty[..., None], 0, renormalize(w, keep))
        if hidden and empty.any():
            # A head that puts a row's whole attention on the sinks has nothing left to measure in
            # that row: the row is left out of that head's means (as rows that see no key are).
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
        Keys measured apart (module docstring, "Sinks"); None measures the raw maps.
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
    values = _head_stats(att, hidden, specs)
    L, H = att.num_layers, att.num_heads
    cols: dict[str, Any] = {"layer": np.repeat(att.layer_ids, H), "head": np.tile(att.head_ids, L)}
    if hidden:
        cols["sink_share"] = values["sink_share"].reshape(L * H)
    for k in specs:
        cols[k] = values[k].reshape(L * H)
    return Table.from_columns(
        cols, title=f"per-head metrics ({L} layers x {H} heads, {att.n_key} tokens; {_describe_hidden(att, hidden)})"
    )


# ------------------------------------------------------------------------------------- messages

MESSAGES = {
    "en": {
        "sinks": "Attention parked on {where}: {share:.0%} on average (up to {top:.0%} in layer {layer}); "
        "uniform attention would put {uniform:.0%} there.",
        "sinks_action": "This is how the model parks attention, not a fact about the prompt: read the other "
        "numbers, measured on the rest with the sinks hidden (hide=None shows the raw maps).",
        "uniform": "Attention over the content is nearly uniform (normalised entropy {value:.2f}, where 1 is "
        "uniform over the same number of keys) in {n} of {total} layers.",
        "uniform_action": "The model singles out no part of this text; if the answer is wrong, state the task "
        "in one short line right before the answer and compare the outcome with "
        "aw.experiments.compare_templates.",
        "local": "Attention is less local than uniform attention over the same keys would be "
        "(locality {value:.3f} against {baseline:.3f}) in {n} of {total} layers: those layers read far back.",
        "local_action": "Nothing to fix by itself: far reads are how the answer reaches an instruction at the "
        "start. Use the part shares to see which part they read.",
        "part_low": "The {part!r} part gets {share:.1%} of {who}'s attention, {apart}; reading it "
        "as uniformly as the rest would give {uniform:.1%} ({ratio:.2f}x).{sink_note}",
        "part_low_action": "If the answer needs {part!r}, put it right before where the answer goes (or repeat "
        "it there), then check the outcome with aw.experiments.compare_templates.",
        "part_top": "{who} reads {part!r} most: {share:.1%} of its attention, {apart} "
        "(uniform reading: {uniform:.1%}, {ratio:.2f}x).{sink_note}",
        "part_top_action": "Keep what the answer needs in {part!r}; a part read far above its share is where "
        "wording changes matter most.",
        "none": "No finding: sinks below {sink:.0%}, content attention not near uniform, no part far below "
        "its uniform share.",
        "who_generated": "the generated tokens",
        "who_last": "the last token",
        "who_rows": "the chosen query tokens",
        "first_token": "the first token {tok}",
        "sink_tokens": "the sink tokens {tok}",
        "apart": "sinks excluded",
        "apart_local": "sinks and each reading token's own position and previous token excluded (those "
        "local reads take {local:.1%} and are credited to no part)",
        "part_sink": " The part holds the attention sink {tok}, counted with the sinks, not the part "
        "(hide=None counts it in).",
    },
    "zh": {
        "sinks": "注意力停放在{where}上:平均 {share:.0%}(第 {layer} 层最高 {top:.0%});均匀注意力只会给 {uniform:.0%}。",
        "sinks_action": '这是模型"停放"注意力的方式,并不反映提示词本身:请看其余指标,它们已隐藏汇聚点、'
        "只在剩余内容上计算(hide=None 可查看原始注意力)。",
        "uniform": "在 {total} 层中有 {n} 层,内容上的注意力接近均匀(归一化熵 {value:.2f},1 表示在同样多的"
        "词元上均匀分布)。",
        "uniform_action": "模型没有突出文本的任何部分;如果答案错误,请在答案位置之前用一句简短的话说明任务,"
        "并用 aw.experiments.compare_templates 比较实际输出。",
        "local": "在 {total} 层中有 {n} 层,注意力的局部性低于同样词元上均匀注意力的局部性"
        "(局部性 {value:.3f},基线 {baseline:.3f}):这些层在读取较远的内容。",
        "local_action": "这本身不需要修改:远距离读取正是答案读取开头指令的方式。请用各部分的份额查看它们读了哪一部分。",
        "part_low": "{part!r} 部分只得到{who}注意力的 {share:.1%}({apart});若与其余部分同样均匀地读取,"
        "应为 {uniform:.1%}({ratio:.2f} 倍)。{sink_note}",
        "part_low_action": "如果答案需要 {part!r},请把它放在答案位置之前(或在那里重复一遍),再用 aw.experiments.compare_templates 检查输出。",
        "part_top": "{who}读得最多的是 {part!r}:占其注意力的 {share:.1%}({apart};均匀读取为 {uniform:.1%},"
        "{ratio:.2f} 倍)。{sink_note}",
        "part_top_action": "把答案需要的内容放在 {part!r} 中;被读取远高于其份额的部分,措辞的改动影响最大。",
        "none": "没有发现:汇聚点低于 {sink:.0%},内容注意力不接近均匀,也没有部分远低于其均匀份额。",
        "who_generated": "生成的词元",
        "who_last": "最后一个词元",
        "who_rows": "所选的查询词元",
        "first_token": "第一个词元 {tok}",
        "sink_tokens": "汇聚词元 {tok}",
        "apart": "不含汇聚点",
        "apart_local": "不含汇聚点,也不含读取词元对自身位置和前一个词元的注意力(这部分局部读取占 {local:.1%},不计入任何部分)",
        "part_sink": "该部分含有汇聚词元 {tok},它计入汇聚点而不计入该部分(hide=None 会把它算进去)。",
    },
}
LANGUAGES = tuple(MESSAGES)


def _lang(lang: str) -> dict:
    if lang not in MESSAGES:
        raise AttentionError(f"lang must be one of {LANGUAGES}; got {lang!r}")
    return MESSAGES[lang]


# ------------------------------------------------------------------------------------- report


class Report:
    """`report`'s result: a summary, a per-layer table and recommendations.

    Attributes
    ----------
    summary : dict
        Means over layers of the per-layer values.
    layers : Table
        Per layer (means over heads): sink_share, entropy, normalized_entropy, sparsity and locality,
        measured as the module docstring defines them. The baseline locality_uniform is the same in
        every layer when the layers share one mask: then the table's title gives it once (and
        ``summary["mean_locality_uniform"]`` holds it); otherwise it is a column.
    recommendations : list of dict
        ``{"kind", "finding", "measurement", "baseline", "action", "message"}``, one per finding;
        ``measurement`` and ``baseline`` are the numbers the finding compares.
    sinks : list of int
        The hidden key positions.
    parts : SegmentAttention or None
        What the chosen queries read, when `parts` was given.
    """

    def __init__(
        self,
        summary: dict,
        layers: Table,
        recommendations: list[dict],
        sinks: list[int],
        parts: SegmentAttention | None = None,
    ):
        self.summary, self.layers, self.recommendations = summary, layers, recommendations
        self.sinks, self.parts = sinks, parts

    def __repr__(self) -> str:
        lines = [
            "Attention report",
            "summary: " + ", ".join(f"{k} {v:.3f}" for k, v in self.summary.items()),
            repr(self.layers),
        ]
        if self.parts is not None:
            lines.append(repr(self.parts))
        lines.append("recommendations:")
        lines += [f"  - {r['message']}" for r in self.recommendations]
        return "\n".join(lines)


def report(
    att: Attention,
    *,
    parts: Mapping[str, Any] | None = None,
    queries: Any = None,
    unit: str | None = None,
    hide: Any = "sinks",
    lang: str = "en",
    sink_above: float = 0.3,
    uniform_above: float = 0.9,
    part_below: float = 0.5,
    sparsity_threshold: float = 0.01,
) -> Report:
    """Per-layer measurements and recommendations, each with its evidence, a baseline and an action.

    Findings (each only when its rule fires):

    - sinks: ``sink_share`` above `sink_above` on average; baseline: the share uniform attention
      would give those keys. The action is to read the other numbers, which are measured with the
      sinks hidden.
    - near-uniform content attention: ``normalized_entropy`` above `uniform_above` in more than half
      of the layers; baseline: 1 (uniform over the same keys, so length does not trigger it).
    - far-reading layers (a note): locality below ``locality_uniform``, uniform attention over the
      same keys, in more than half of the layers.
    - parts (when `parts` is given): a part whose share of the queries' attention, sinks and local
      reads excluded (each query's own position and previous token: `segment_attention`), is below `part_below` times what reading every visible key alike would give it, and the part
      read most when it is read above that uniform share. The queries default to the generated tokens of an `aw.generate` result, else the
      last token (the one that predicts the answer).

    Parameters
    ----------
    att : Attention
    parts, queries, unit
        As for `segment_attention`.
    hide : "sinks", "first", None or list of int
        Keys measured apart (module docstring).
    lang : {"en", "zh"}
        Language of the messages.
    sink_above, uniform_above, part_below : float in [0, 1]
        The rules' thresholds.

    Notes
    -----
    Attention shows what the model read, not whether the answer is right: compare prompts by their
    outcome with `aw.experiments.compare_templates` before changing one on the strength of a recommendation.
    """
    att = _check_attention(att, "report")
    words = _lang(lang)
    sink_above = V.fraction("sink_above", sink_above)
    uniform_above = V.fraction("uniform_above", uniform_above)
    part_below = V.fraction("part_below", part_below)
    V.fraction("sparsity_threshold", sparsity_threshold)
    hidden = _hidden_keys(att, hide)
    specs = {
        "entropy": "entropy",
        "normalized_entropy": ("entropy", {"normalized": True}),
        "sparsity": ("sparsity", {"threshold": sparsity_threshold}),
        "locality": "locality",
    }
    vals = _head_stats(att, hidden, specs, uniform=("locality",))
    names = ["sink_share", "entropy", "normalized_entropy", "sparsity", "locality", "locality_uniform"]
    per_layer = {k: vals[k].mean(axis=1) for k in names}
    base = per_layer["locality_uniform"]
    shown = dict(per_layer)
    title = f"per layer (means over heads; {_describe_hidden(att, hidden)}"
    # Uniform attention over the same keys is the same in every layer (one mask, one set of sinks):
    # say it once in the title, not as a column repeating one number.
    if np.isfinite(base).all() and np.ptp(base) <= 1e-9:
        del shown["locality_uniform"]
        title += f"; locality of uniform attention over the same keys: {float(base[0]):.3f} in every layer"
    layers = Table.from_columns({"layer": att.layer_ids, **shown}, title=title + ")")
    summary = {f"mean_{k}": float(np.nanmean(v)) if np.isfinite(v).any() else math.nan for k, v in per_layer.items()}
    L = att.num_layers
    recs: list[dict] = []

    if hidden:
        s = per_layer["sink_share"]
        if s.mean() > sink_above:
            top = int(np.argmax(s))
            on = np.zeros(att.n_key, bool)
            on[hidden] = True
            visible = att.mask.sum(axis=1)
            uniform = float(np.mean((att.mask & on).sum(axis=1) / np.maximum(visible, 1)))
            toks = ", ".join(repr(att.tokens[i]) for i in hidden[:4])
            where = (words["first_token"] if hidden == [0] else words["sink_tokens"]).format(tok=toks)
            finding = words["sinks"].format(
                where=where, share=float(s.mean()), top=float(s[top]), layer=att.layer_ids[top], uniform=uniform
            )
            recs.append(
                _rec("sinks", finding, {"sink_share": float(s.mean())}, {"uniform": uniform}, words["sinks_action"])
            )
    ne = per_layer["normalized_entropy"]
    flat = ne > uniform_above
    if flat.sum() > L / 2:
        value = float(np.nanmean(ne[flat]))
        recs.append(
            _rec(
                "uniform",
                words["uniform"].format(value=value, n=int(flat.sum()), total=L),
                {"normalized_entropy": value},
                {"uniform": 1.0},
                words["uniform_action"],
            )
        )
    loc, base = per_layer["locality"], per_layer["locality_uniform"]
    far = loc < base
    if far.sum() > L / 2:
        value, baseline = float(loc[far].mean()), float(base[far].mean())
        recs.append(
            _rec(
                "note",
                words["local"].format(value=value, baseline=baseline, n=int(far.sum()), total=L),
                {"locality": value},
                {"locality_uniform": baseline},
                words["local_action"],
            )
        )

    seg = None
    if parts is not None:
        seg = segment_attention(att, parts, queries=queries, unit=unit, hide=hidden)
        who = words[{"generated": "who_generated", "last": "who_last"}.get(seg.queries_label, "who_rows")]
        named = [n for n in seg.part_names]
        content, even = seg.content_shares(), seg.content_uniform()
        ratios = {n: content[n] / even[n] if even[n] > 0 else math.nan for n in named}
        apart = words["apart_local"].format(local=seg.shares["local"]) if "local" in seg.shares else words["apart"]

        def sink_note(n: str) -> str:
            inside = seg.part_sinks.get(n, [])
            return words["part_sink"].format(tok=", ".join(repr(att.tokens[t]) for t in inside)) if inside else ""

        def part_rec(n: str, finding: str) -> dict:
            text = words[finding].format(
                part=n, share=content[n], uniform=even[n], ratio=ratios[n], who=who, apart=apart, sink_note=sink_note(n)
            )
            return _rec(
                "part", text, {"share": content[n]}, {"uniform": even[n]}, words[finding + "_action"].format(part=n)
            )

        for n in named:
            if ratios[n] < part_below:
                recs.append(part_rec(n, "part_low"))
        best = max(named, key=lambda n: content[n])
        if ratios[best] > 1 + 1e-6:  # "read most" only when read above a uniform reading, not on a tie
            recs.append(part_rec(best, "part_top"))
    if not recs:
        recs.append(_rec("none", words["none"].format(sink=sink_above), {}, {}, ""))
    return Report(summary, layers, recs, hidden, seg)


def _rec(kind: str, finding: str, measurement: dict, baseline: dict, action: str) -> dict:
    finding = finding[:1].upper() + finding[1:]
    message = f"{finding} {action}".strip()
    return {
        "kind": kind,
        "finding": finding,
        "measurement": measurement,
        "baseline": baseline,
        "action": action,
        "message": message,
    }


# ------------------------------------------------------------------------------------- shape score


class ShapeScore:
    """`shape_score`'s result: per-layer values and the overall score (mean of layer scores).

    The score says whether entropy and sparsity fall in chosen ranges and how local attention is;
    it does not say whether a prompt works (see `shape_score`).
    """

    def __init__(self, layers: Table, score: float, patterns: list[str]):
        self.layers, self.score, self.patterns = layers, score, patterns

    def __repr__(self) -> str:
        return (
            f"Attention shape score {self.score:.3f} (ranges and locality; not a measure of whether the "
            f"prompt works)\n{self.layers!r}"
        )


def _expected(expected_patterns: Any) -> dict[str, Any]:
    if expected_patterns is None:
        return {}
    if isinstance(expected_patterns, str):
        expected_patterns = [expected_patterns]
    if isinstance(expected_patterns, Mapping):
        return dict(expected_patterns)
    if not isinstance(expected_patterns, (list, tuple)):
        raise V.ArgumentTypeError(
            f"expected_patterns must be a pattern name, a list of names or a dict; got {V.show(expected_patterns)}"
        )
    out = {}
    for p in expected_patterns:
        if not isinstance(p, str):
            raise AttentionError(
                "expected_patterns must be pattern names or a dict of name -> pattern "
                f"(a name from {M.PATTERNS} or an (n_query, n_key) array); got {type(p).__name__}"
            )
        out[p] = p
    return out


def shape_score(
    att: Attention,
    expected_patterns: Any = None,
    *,
    hide: Any = "sinks",
    entropy_range: tuple[float, float] = (1.0, 3.0),
    sparsity_range: tuple[float, float] = (0.3, 0.7),
    entropy_points: float = 0.3,
    sparsity_points: float = 0.3,
    locality_weight: float = 0.4,
) -> ShapeScore:
    """How the attention is shaped: entropy and sparsity inside ranges, and locality, as one number.

    A layer scores `entropy_points` when its entropy lies strictly inside `entropy_range`, plus
    `sparsity_points` when its sparsity lies strictly inside `sparsity_range`, plus
    ``locality_weight * locality``; the score is the mean over layers. Entropy, sparsity and
    locality are the module's definitions (means over heads, sinks hidden by default).

    This is **not** a prompt-quality score. On `benchmarks/prompt_quality.py` (prompt pairs where
    the bundled SmolLM2 answers right with one prompt and wrong with the other) it does not rank the
    working prompt above the failing one more often than chance. To choose a prompt, compare
    outcomes with `aw.experiments.compare_templates(..., target=...)`.

    Parameters
    ----------
    expected_patterns : str, list of str or dict, optional
        Pattern names (see `metrics.pattern`), or ``{label: name or (n_query, n_key) array}``;
        each layer's `metrics.pattern_match` (mean over heads) is reported as ``pattern_<label>``.
    hide : "sinks", "first", None or list of int
        Keys measured apart.
    """
    att = _check_attention(att, "shape_score")
    for name, rng in (("entropy_range", entropy_range), ("sparsity_range", sparsity_range)):
        if (
            not isinstance(rng, (tuple, list, np.ndarray))
            or len(rng) != 2
            or not V.number(f"{name}[0]", rng[0]) < V.number(f"{name}[1]", rng[1])
        ):
            raise AttentionError(f"{name} must be (low, high) with low < high; got {rng!r}")
    entropy_points = V.number("entropy_points", entropy_points, low=0)
    sparsity_points = V.number("sparsity_points", sparsity_points, low=0)
    locality_weight = V.number("locality_weight", locality_weight, low=0)
    patterns = _expected(expected_patterns)
    specs: dict[str, Any] = {
        "entropy": "entropy",
        "sparsity": "sparsity",
        "locality": "locality",
        "focus_consistency": "focus_consistency",
    }
    for label, p in patterns.items():
        specs[f"pattern_{label}"] = ("pattern_match", {"pattern": p})
    hidden = _hidden_keys(att, hide)
    vals = {k: v.mean(axis=1) for k, v in _head_stats(att, hidden, specs).items() if k in specs}
    e, s = vals["entropy"], vals["sparsity"]
    score = (
        entropy_points * ((entropy_range[0] < e) & (e < entropy_range[1]))
        + sparsity_points * ((sparsity_range[0] < s) & (s < sparsity_range[1]))
        + locality_weight * vals["locality"]
    )
    layers = Table.from_columns(
        {"layer": att.layer_ids, **vals, "score": score},
        title=f"per layer (means over heads; {_describe_hidden(att, hidden)})",
    )
    return ShapeScore(layers, float(score.mean()), list(patterns))


# ------------------------------------------------------------------------------------- parts


class TokenSpan(NamedTuple):
    """Token positions ``start`` (inclusive) to ``stop`` (exclusive), as a part of `segment_attention`."""

    start: int
    stop: int


def tokens_span(start: int, stop: int) -> TokenSpan:
    """A part given by token positions ``[start, stop)``, e.g. ``{"question": aw.analysis.tokens_span(66, 79)}``."""
    try:
        a, b = int(start), int(stop)
    except (TypeError, ValueError):
        raise AttentionError(f"tokens_span takes two ints; got {start!r}, {stop!r}") from None
    if not 0 <= a < b:
        raise AttentionError(f"tokens_span({start}, {stop}) is empty or negative; expected 0 <= start < stop")
    return TokenSpan(a, b)


def _offsets(att: Attention) -> list[tuple[int, int]] | None:
    """Character spans of the tokens: recorded ones, or found by reading the tokens along the text."""
    if att.offsets is not None:
        return att.offsets
    text = att.text
    if text is None:
        return None
    # Tokens that spell the text in order, with only whitespace between them (aw.generate's
    # byte-level tokens spell it exactly; word-level tokens drop the spaces).
    spans, pos = [], 0
    for tok in att.tokens:
        at = text.find(tok, pos) if tok else pos
        if at < 0 or (at > pos and not text[pos:at].isspace()):
            return None
        spans.append((at, at + len(tok)))
        pos = at + len(tok)
    return spans


def _part_tokens(att: Attention, parts: Mapping[str, Any], unit: str | None) -> dict[str, list[int]]:
    """Part name -> token positions (in text order); every ambiguity is an error."""
    if not isinstance(parts, Mapping) or not parts:
        raise AttentionError(
            "parts must be a non-empty dict of name -> substring, (start, end) span with "
            "unit='char' or 'token', or aw.analysis.tokens_span(start, stop)"
        )
    if unit not in (None, "char", "token"):
        raise AttentionError(f"unit must be 'char' or 'token' (what a (start, end) pair counts); got {unit!r}")
    text = att.text
    offsets = None
    out: dict[str, list[int]] = {}
    for name, part in parts.items():
        if not isinstance(name, str):
            raise AttentionError(f"part names must be str; got {name!r}")
        if isinstance(part, TokenSpan) or (unit == "token" and not isinstance(part, str)):
            start, end = _pair(name, part, "token")
            if not end <= att.n_key:
                raise AttentionError(
                    f"part {name!r} token span ({start}, {end}) is outside the {att.n_key} tokens "
                    f"(expected 0 <= start < end <= {att.n_key})"
                )
            out[name] = list(range(start, end))
            continue
        if isinstance(part, str):
            if text is None:
                raise AttentionError(
                    f"part {name!r} is a substring, but the attention has no text; give token "
                    "spans (aw.analysis.tokens_span or unit='token')"
                )
            if not part:
                raise AttentionError(f"part {name!r} is an empty string; give a substring of the text")
            count = text.count(part)
            if count == 0:
                raise AttentionError(f"part {name!r}: {part[:40]!r} does not occur in the text")
            if count > 1:
                raise AttentionError(
                    f"part {name!r}: {part[:40]!r} occurs {count} times in the text; "
                    "pass a (start, end) span with unit='char' to say which"
                )
            start = text.index(part)
            span = (start, start + len(part))
        else:
            if unit is None:
                raise AttentionError(
                    f"part {name!r} is a pair of numbers {part!r}: say what they count with "
                    "unit='char' or unit='token' (or use aw.analysis.tokens_span(start, stop))"
                )
            span = _pair(name, part, "char")
            if text is None or not span[1] <= len(text):
                limit = "no text" if text is None else f"expected 0 <= start < end <= {len(text)}"
                raise AttentionError(f"part {name!r} span {span} is outside the text ({limit})")
        if offsets is None:
            offsets = _offsets(att)
            if offsets is None:
                raise AttentionError(
                    "character parts need the attention's text and character offsets (aw.extract "
                    "with a fast tokenizer records them); give token spans instead"
                )
        a, b = span
        toks = []
        for t, (x, y) in enumerate(offsets):
            if text is not None:
                # A token's edge spaces (" The" in byte-level BPE) do not make it straddle a part.
                while x < y and text[x].isspace() and x < a:
                    x += 1
                while y > x and text[y - 1].isspace() and y > b:
                    y -= 1
            if y <= x or not (x < b and y > a):
                continue
            if x < a or y > b:
                raise AttentionError(
                    f"token {t} {att.tokens[t]!r} (characters {x}-{y}) straddles the edge of part "
                    f"{name!r} {span}; move the edge to a token boundary or use token spans"
                )
            toks.append(t)
        if not toks:
            raise AttentionError(f"part {name!r} {span} covers no token")
        out[name] = toks
    owner: dict[int, str] = {}
    for name, toks in out.items():
        for t in toks:
            if t in owner:
                raise AttentionError(
                    f"parts {owner[t]!r} and {name!r} overlap at token {t} {att.tokens[t]!r}; "
                    "parts must not share tokens"
                )
            owner[t] = name
    return dict(sorted(out.items(), key=lambda kv: kv[1][0]))


def _pair(name: str, part: Any, what: str) -> tuple[int, int]:
    try:
        start, end = (int(v) for v in part)
    except (TypeError, ValueError):
        raise AttentionError(
            f"part {name!r} must be a substring, a (start, end) {what} span or aw.analysis.tokens_span; got {part!r}"
        ) from None
    if not 0 <= start < end:
        raise AttentionError(
            f"part {name!r} {what} span ({start}, {end}) is empty or negative (expected 0 <= start < end)"
        )
    return start, end


def _query_rows(att: Attention, queries: Any, parts: Mapping[str, list[int]]) -> tuple[np.ndarray, str]:
    """Absolute positions of the query tokens, and a label for them."""
    offset = att.n_key - att.n_query
    generated = att.generated is not None and bool(np.any(att.generated))
    if queries is None:
        queries = "generated" if generated else "last"
    if isinstance(queries, str):
        if queries == "generated":
            n_prompt = att.meta.get("prompt_length")
            if not generated or n_prompt is None:
                raise AttentionError(
                    "queries='generated' needs attention from aw.generate; for a prompt use "
                    "queries='last' (the token that predicts the answer)"
                )
            # Generated token s was produced while reading row prompt_length - 1 + s.
            return np.arange(n_prompt - 1, att.n_key - 1), "generated"
        if queries == "last":
            return np.array([att.n_key - 1]), "last"
        if queries == "all":
            return np.arange(offset, att.n_key), "all"
        if queries in parts:
            rows = np.array([t for t in parts[queries] if t >= offset])
            if rows.size == 0:
                raise AttentionError(
                    f"part {queries!r} has no query rows (the attention holds rows {offset}-{att.n_key - 1})"
                )
            return rows, queries
        raise AttentionError(
            f"queries must be 'generated', 'last', 'all', a part name ({list(parts)}) or token "
            f"positions; got {queries!r}"
        )
    try:
        rows = np.array(sorted({int(q) for q in np.atleast_1d(queries)}))
    except (TypeError, ValueError):
        raise AttentionError(
            f"queries must be 'generated', 'last', 'all', a part name or token positions; got {queries!r}"
        ) from None
    if rows.size == 0:
        raise AttentionError("queries is empty")
    bad = rows[(rows < offset) | (rows >= att.n_key)]
    if bad.size:
        raise AttentionError(
            f"query positions {bad.tolist()} are not query rows of this attention (rows {offset}-{att.n_key - 1})"
        )
    return rows, "rows"


class SegmentAttention:
    """What the query tokens read, part by part, with sinks apart.

    Attributes
    ----------
    names : list of str
        The parts in text order, then ``"other"`` (tokens in no part) and ``"sinks"`` when present,
        then ``"local"``: each query's attention to its own position and the previous token, which
        is not credited to the part those tokens are in (``local=False`` leaves it out).
    part_names : list of str
        The named parts only.
    shares : dict
        Name -> share of the queries' attention (mean over query rows, heads and layers); the
        values sum to 1.
    per_layer : ndarray (layers, names)
    per_head : ndarray (layers, heads, names)
    uniform : dict
        Name -> the share the queries would give it if each read every visible key alike.
    queries : ndarray
        Absolute positions of the query tokens; `queries_label` says how they were chosen.
    matrix : ndarray (layers, names, names)
        Row ``s``: where the tokens of ``s`` look (all their query rows), mean over heads; rows sum
        to 1 (0 for names with no query row).
    token_index, tokens : dict
        Name -> token positions and their text (no ``"local"`` entry: it depends on the query).
    sinks : list of int
        Hidden key positions (the ``"sinks"`` entry).
    part_sinks : dict
        Part name -> the sink positions inside that part's text, counted as sinks, not as the part.
    """

    def __init__(
        self,
        names,
        part_names,
        per_head,
        uniform,
        queries,
        queries_label,
        matrix,
        token_index,
        tokens,
        layer_ids,
        sinks,
        part_sinks=None,
    ):
        self.names, self.part_names = names, part_names
        self.per_head = per_head
        self.per_layer = per_head.mean(axis=1)
        self.shares = {n: float(v) for n, v in zip(names, self.per_layer.mean(axis=0), strict=False)}
        self.uniform = uniform
        self.queries, self.queries_label = queries, queries_label
        self.matrix = matrix
        self.token_index, self.tokens = token_index, tokens
        self.layer_ids, self.sinks = layer_ids, sinks
        self.part_sinks = part_sinks or {n: [] for n in part_names}

    def content_shares(self) -> dict[str, float]:
        """Shares of the parts and "other" among the attention left once the sinks and the local
        reads (each query's own position and previous token) are set apart; they sum to 1."""
        rest = {n: v for n, v in self.shares.items() if n not in ("sinks", "local")}
        total = sum(rest.values())
        return {n: v / total if total > 0 else math.nan for n, v in rest.items()}

    def content_uniform(self) -> dict[str, float]:
        """`uniform` among the same keys (the baseline for `content_shares`)."""
        rest = {n: v for n, v in self.uniform.items() if n not in ("sinks", "local")}
        total = sum(rest.values())
        return {n: v / total if total > 0 else math.nan for n, v in rest.items()}

    def layer(self, layer: int) -> dict[str, float]:
        """Shares in one model layer (mean over heads)."""
        if layer not in self.layer_ids:
            raise AttentionIndexError(f"layer {layer} is not in this result; it holds layers {self.layer_ids}")
        return {n: float(v) for n, v in zip(self.names, self.per_layer[self.layer_ids.index(layer)], strict=False)}

    def table(self) -> Table:
        """Per layer: each name's share."""
        return Table.from_columns(
            {"layer": self.layer_ids, **{n: self.per_layer[:, i] for i, n in enumerate(self.names)}},
            title=f"share of the {self.queries_label} queries' attention per layer",
        )

    def chart(self, **kwargs: Any):
        """A bqplot bar chart of the shares (see `charts.segment_shares`)."""
        from attnwidget.widgets.charts import segment_shares

        return segment_shares(self, **kwargs)

    def __repr__(self) -> str:
        content, uni = self.content_shares(), self.content_uniform()
        rows = []
        for n in self.names:
            c = content.get(n, math.nan)
            u = uni.get(n, math.nan)
            apart = n in ("sinks", "local")
            size = "" if n == "local" else len(self.token_index[n])
            rows.append([n, self.shares[n], "" if apart else c, "" if apart else u, size])
        who = {"generated": f"the {len(self.queries)} generated tokens", "last": "the last token"}.get(
            self.queries_label, f"{len(self.queries)} query tokens ({self.queries_label})"
        )
        title = (
            f"what {who} read (means over {len(self.layer_ids)} layers and heads; shares sum to 1"
            + ("; content: share with sinks and local reads apart" if "local" in self.names or self.sinks else "")
            + ("; local: each query's own position and previous token" if "local" in self.names else "")
            + ")"
        )
        return _format_table(["part", "share", "content", "uniform", "tokens"], rows, title)


def segment_attention(
    att: Attention,
    parts: Mapping[str, Any],
    *,
    queries: Any = None,
    unit: str | None = None,
    hide: Any = "sinks",
    other: str = "other",
    local: bool = True,
) -> SegmentAttention:
    """Which part of the prompt the query tokens read: shares per part, sinks apart.

    Parameters
    ----------
    att : Attention
        From `aw.extract` or `aw.generate` (any `Attention`; character parts need its text).
    parts : dict
        Name -> a substring of the text (it must occur once), a ``(start, end)`` pair with `unit`
        saying whether it counts characters or tokens, or ``aw.analysis.tokens_span(start, stop)``. Parts
        must not share tokens, and a token may not straddle a part's edge.
    queries : "generated", "last", "all", a part name, or token positions, optional
        Whose attention to measure. Default: the generated tokens of an `aw.generate` result (the
        rows that produced them), else the last token (the row that predicts the next token).
    unit : {"char", "token"}, optional
        What ``(start, end)`` pairs count; required when a part is such a pair.
    hide : "sinks", "first", None or list of int
        Keys reported apart as ``"sinks"`` (module docstring); a sink inside a part counts as a
        sink, not as the part. None keeps every key in its part.
    other : str
        Name for tokens in no part (chat markup, special tokens).
    local : bool
        Count each query row's attention to its own position and to the previous token apart, as
        ``"local"`` (default), not as the part those tokens are in. A reading token inside a part
        gives that part much of its attention by looking at itself and its neighbour; that says
        nothing about the part's content. A sink keeps its ``"sinks"`` entry even when it is the
        previous token. False keeps those reads in their parts.

    Returns
    -------
    SegmentAttention
        ``.shares`` sums to 1 over the parts, ``other``, ``sinks`` and ``local``.

    Raises
    ------
    ValueError
        Empty or unknown parts, a missing or repeated substring, a number pair without `unit`,
        spans outside the text, overlapping parts, a token straddling a part edge, bad queries.
    """
    att = _check_attention(att, "segment_attention")
    if not isinstance(other, str) or not other:
        raise AttentionError(f"other must be a non-empty str; got {other!r}")
    part_tokens = _part_tokens(att, parts, unit)
    if not isinstance(local, bool):
        raise V.ArgumentTypeError(f"local must be True or False; got {V.show(local)}")
    for reserved in (other, "sinks", "local"):
        if reserved in part_tokens:
            raise AttentionError(
                f"a part is named {reserved!r}, a name the result uses itself; rename the part"
                + (" or pass other=<another name>" if reserved == other else "")
            )
    hidden = _hidden_keys(att, hide)
    rows, label = _query_rows(att, queries, part_tokens)
    group = np.full(att.n_key, -1)
    names = list(part_tokens)
    for g, toks in enumerate(part_tokens.values()):
        group[toks] = g
    group[hidden] = -2
    if np.any(group == -1):
        names.append(other)
    if hidden:
        names.append("sinks")
    group = np.where(group == -1, names.index(other) if other in names else -1, group)
    if hidden:
        group = np.where(group == -2, names.index("sinks"), group)
    part_sinks = {n: [t for t in toks if t in hidden] for n, toks in part_tokens.items()}
    if local:
        names.append("local")  # a column no key belongs to: each row's own and previous key move there
    G = len(names)
    onehot = np.zeros((att.n_key, G), np.float32)
    onehot[np.arange(att.n_key), group] = 1.0
    is_hidden = np.zeros(att.n_key, bool)
    is_hidden[hidden] = True

    def near(qrows: np.ndarray, visible: np.ndarray):
        """(row index, key) pairs of each row's own and previous key, sinks and hidden keys left out."""
        for d in (0, 1):
            keys = qrows - d
            safe = np.maximum(keys, 0)
            ok = (keys >= 0) & ~is_hidden[safe] & visible[np.arange(len(qrows)), safe]
            idx = np.flatnonzero(ok)
            if idx.size:
                yield idx, keys[idx]

    offset = att.n_key - att.n_query
    L, H = att.num_layers, att.num_heads
    per_head = np.zeros((L, H, G))
    matrix_mass = np.zeros((L, G, G))
    sel = np.zeros(att.n_query, bool)
    sel[rows - offset] = True
    q_group = group[offset:]
    for start, stop, w in att.iter_row_blocks():
        to_group = np.where(att.mask[start:stop], w, 0) @ onehot  # (L, H, rows, G)
        if local:
            for idx, keys in near(offset + np.arange(start, stop), att.mask[start:stop]):
                moved = w[:, :, idx, keys]  # (L, H, len(idx))
                to_group[:, :, idx, group[keys]] -= moved
                to_group[:, :, idx, G - 1] += moved
        s = sel[start:stop]
        if s.any():
            per_head += to_group[:, :, s].sum(axis=2, dtype=np.float64)
        mean_heads = to_group.mean(axis=1)  # (L, rows, G)
        for g in range(G):
            mine = q_group[start:stop] == g
            if mine.any():
                matrix_mass[:, g] += mean_heads[:, mine].sum(axis=1, dtype=np.float64)
    per_head /= len(rows)
    if local:
        np.maximum(per_head, 0, out=per_head)  # a moved read leaves float dust below 0 in its part
        np.maximum(matrix_mass, 0, out=matrix_mass)
    total = matrix_mass.sum(axis=-1, keepdims=True)
    matrix = np.divide(matrix_mass, total, out=np.zeros_like(matrix_mass), where=total > 0)
    vis = att.mask[rows - offset].astype(np.float64)
    uni = (vis / vis.sum(axis=1, keepdims=True)) @ onehot.astype(np.float64)
    if local:
        per_key = 1 / vis.sum(axis=1)
        for idx, keys in near(rows, vis.astype(bool)):
            uni[idx, group[keys]] -= per_key[idx]
            uni[idx, G - 1] += per_key[idx]
        np.maximum(uni, 0, out=uni)
    uniform = {n: float(v) for n, v in zip(names, uni.mean(axis=0), strict=False)}
    token_index = {n: np.flatnonzero(group == g).tolist() for g, n in enumerate(names) if n != "local"}
    tokens = {n: [att.tokens[i] for i in idx] for n, idx in token_index.items()}
    return SegmentAttention(
        names,
        list(part_tokens),
        per_head,
        uniform,
        rows,
        label,
        matrix,
        token_index,
        tokens,
        list(att.layer_ids),
        hidden,
        part_sinks,
    )


# ------------------------------------------------------------------------------------- head roles


def head_roles(
    att: Attention,
    *,
    window: int = 3,
    thresholds: Mapping[str, float] | None = None,
    induction: np.ndarray | None = None,
) -> Table:
    """Label each head by what it mostly does, with the score behind the label.

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
    att = _check_attention(att, "head_roles")
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
