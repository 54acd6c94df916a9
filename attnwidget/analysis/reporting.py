"""What one `Attention` says about a prompt, as text with its evidence: `report` (per-layer
measurements and recommendations, each with a baseline and an action, in English or Chinese) and
`shape_score` (entropy and sparsity in ranges plus locality: a description, not a prompt-quality score).

The measures are those of the `attnwidget.analysis` docstring, computed by `heads._head_stats`; the
part shares come from `segments.segment_attention`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.analysis.heads import _check_attention, _describe_hidden, _head_stats, _hidden_keys
from attnwidget.analysis.segments import SegmentAttention, segment_attention
from attnwidget.analysis.table import Table
from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError

__all__ = ["report", "Report", "shape_score", "ShapeScore", "MESSAGES", "LANGUAGES"]

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
        "part_low": "The {part} part gets {share:.1%} of {who}'s attention, {apart}; reading it "
        "as uniformly as the rest would give {uniform:.1%} ({ratio:.2f}x); relative to its length "
        "{relative:.2f}.{sink_note}",
        "part_top": "{who} reads {part} most for its length: relative share {relative:.2f}, "
        "{share:.1%} of its attention, {apart} (uniform reading: {uniform:.1%}, {ratio:.2f}x).{sink_note}",
        "part_share_action": "An attention share is not evidence of what the answer needs: measure the part's "
        "effect on the answer with aw.experiments.part_effects and pass effects= to report.",
        "part_needed": "The answer depends on {part}: blocking the answer's attention to it changes "
        "log P(target) by {knockout:+.2f} nats, removing it by {removal:+.2f} nats; {who} gives it "
        "{share:.1%} of its attention (relative share {relative:.2f}).{sink_note}",
        "part_needed_action": "Keep {part} and what it says: this is where wording changes move the answer; "
        "compare rewordings by outcome with aw.experiments.compare_templates.",
        "part_hurts": "Removing {part} raises log P(target) by {removal:+.2f} nats (blocking the answer's "
        "attention to it: {knockout:+.2f}); {who} gives it {share:.1%} of its attention (relative share "
        "{relative:.2f}).{sink_note}",
        "part_hurts_action": "Try the prompt without {part}, or with it shortened, and check the outcome "
        "with aw.experiments.compare_templates.",
        "part_idle": "{part} barely moves the answer: knockout {knockout:+.2f}, removal {removal:+.2f} nats, "
        "both within {above:.2f}; {who} gives it {share:.1%} of its attention (relative share "
        "{relative:.2f}).{sink_note}",
        "part_idle_action": "The answer does not depend on {part} here: shortening it should change little; "
        "confirm with aw.experiments.compare_templates.",
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
    # Written as Chinese, not translated word for word: full-width punctuation, one term for the sink
    # (汇聚点), names in 「」 rather than code quotes, no parenthesis inside another.
    "zh": {
        "sinks": "注意力集中在{where}上：平均占 {share:.0%}（第 {layer} 层最高，达 {top:.0%}），"
        "而均匀分布的注意力只会分给它们 {uniform:.0%}。",
        "sinks_action": "这是模型固有的注意力分配方式，并不说明提示词的内容。其余指标都已把汇聚点单独列出，"
        "只在其余内容上计算；设 hide=None 可查看原始注意力。",
        "uniform": "在 {total} 层中有 {n} 层，内容上的注意力接近均匀分布（归一化熵为 {value:.2f}，"
        "1 表示在同样数量的词元上完全均匀）。",
        "uniform_action": "模型没有突出文本的任何部分。如果答案有误，可以在答案位置之前用一句简短的话说明任务，"
        "再用 aw.experiments.compare_templates 比较实际输出。",
        "local": "在 {total} 层中有 {n} 层，注意力的局部性低于同样词元上均匀注意力的局部性"
        "（局部性为 {value:.3f}，基线为 {baseline:.3f}），说明这些层在读取较远的内容。",
        "local_action": "这本身无需修改：答案正是通过远距离读取才看到开头的指令。各部分的份额可以说明它们读的是哪一部分。",
        "part_low": "{part}部分只得到{who}注意力的 {share:.1%}（{apart}）；若与其余部分一样均匀读取，"
        "应为 {uniform:.1%}，现为其 {ratio:.2f} 倍；按长度折算的相对份额为 {relative:.2f}。{sink_note}",
        "part_top": "按长度折算，{who}读得最多的是{part}：相对份额为 {relative:.2f}，占其注意力的 {share:.1%}"
        "（均匀读取为 {uniform:.1%}，现为其 {ratio:.2f} 倍；{apart}）。{sink_note}",
        "part_share_action": "注意力份额并不能证明答案需要哪一部分：请用 aw.experiments.part_effects "
        "测量该部分对答案的影响，再通过 effects= 传给 report。",
        "part_needed": "答案依赖{part}：阻断答案位置对它的注意力后，目标答案的对数概率变化 {knockout:+.2f} 奈特；"
        "删去它则变化 {removal:+.2f} 奈特。{who}给它的注意力占 {share:.1%}，相对份额为 {relative:.2f}。{sink_note}",
        "part_needed_action": "保留{part}及其内容：改动这里的措辞最能影响答案；"
        "请用 aw.experiments.compare_templates 按实际输出比较不同措辞。",
        "part_hurts": "删去{part}后，目标答案的对数概率上升 {removal:+.2f} 奈特，阻断注意力时变化 {knockout:+.2f} 奈特；"
        "{who}给它的注意力占 {share:.1%}，相对份额为 {relative:.2f}。{sink_note}",
        "part_hurts_action": "可以试试去掉{part}或将其缩短，再用 aw.experiments.compare_templates 检查实际输出。",
        "part_idle": "{part}几乎不影响答案：阻断注意力时变化 {knockout:+.2f} 奈特，删去时变化 {removal:+.2f} 奈特，"
        "都在 ±{above:.2f} 以内；{who}给它的注意力占 {share:.1%}，相对份额为 {relative:.2f}。{sink_note}",
        "part_idle_action": "这里答案并不依赖{part}，缩短它应该影响不大；请用 aw.experiments.compare_templates 确认。",
        "none": "没有发现：汇聚点的份额低于 {sink:.0%}，内容上的注意力不接近均匀，也没有哪一部分远低于其均匀份额。",
        "who_generated": "生成的词元",
        "who_last": "最后一个词元",
        "who_rows": "所选的查询词元",
        "first_token": "汇聚点，即第一个词元{tok}",
        "sink_tokens": "汇聚点{tok}",
        "apart": "不含汇聚点",
        "apart_local": "不含汇聚点，也不含读取词元对自身位置和前一个词元的注意力——这部分局部读取占 {local:.1%}，不计入任何部分",
        "part_sink": "该部分含有作为汇聚点的词元{tok}，它计入汇聚点而不计入该部分；设 hide=None 会把它计入该部分。",
    },
}
LANGUAGES = tuple(MESSAGES)


def _lang(lang: str) -> dict:
    if lang not in MESSAGES:
        raise AttentionError(f"lang must be one of {LANGUAGES}; got {lang!r}")
    return MESSAGES[lang]


def _quote(lang: str, items: Any) -> str:
    """Names and tokens as the language writes them: 'a', 'b' in English, 「a」、「b」 in Chinese."""
    items = [items] if isinstance(items, str) else list(items)
    if lang == "zh":
        return "、".join(f"「{i}」" for i in items)
    return ", ".join(repr(i) for i in items)


# ------------------------------------------------------------------------------------- report


class Report:
    """`report`'s result: a summary, a per-layer table and recommendations.

    Attributes
    ----------
    summary : dict
        Means over layers of the per-layer values.
    layers : Table
        Per layer (means over heads): sink_share, entropy, normalized_entropy, sparsity and locality,
        measured as the `attnwidget.analysis` docstring defines them. The baseline locality_uniform is the same in
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
    effects: Any = None,
    effect_above: float = 0.5,
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
    - parts with effects (`parts` and `effects` given): each part gets a recommendation backed by
      its effect on the answer (`aw.experiments.part_effects`): the answer depends on it (knockout or
      removal lowers log P(target) by at least `effect_above` nats: keep it, its wording matters),
      removing it helps (removal raises log P(target) by at least `effect_above`: try without it),
      or it barely moves the answer (both within `effect_above`). Its attention share and its share
      relative to its length are stated beside the effect.
    - parts without effects: a part whose share of the queries' attention, sinks and local reads
      excluded (each query's own position and previous token: `segment_attention`), is below
      `part_below` times what reading every visible key alike would give it, and the part read most
      for its length (``SegmentAttention.relative_shares``) when read above its uniform share. These
      state the share and say that a share is not evidence; they advise no move or rewording: on
      held-out template sets, acting on shares did not change the answer as advised.

    The queries default to the generated tokens of an `aw.generate` result, else the last token
    (the one that predicts the answer).

    Parameters
    ----------
    att : Attention
    parts, queries, unit
        As for `segment_attention`.
    hide : "sinks", "first", None or list of int
        Keys measured apart (`attnwidget.analysis` docstring, "Sinks").
    lang : {"en", "zh"}
        Language of the messages.
    sink_above, uniform_above, part_below : float in [0, 1]
        The rules' thresholds.
    effects : PartEffects, optional
        `aw.experiments.part_effects` on the same text and parts; the part recommendations rest on it.
    effect_above : float
        Nats of log P(target) a part's effect must reach to count (0.5: a 1.6x change).

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
            toks = _quote(lang, [att.tokens[i] for i in hidden[:4]])
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
    if effects is not None and parts is None:
        raise AttentionError("effects= needs the parts they were measured on: pass parts= as well")
    if parts is not None:
        effect_above = V.number("effect_above", effect_above, low=0)
        seg = segment_attention(att, parts, queries=queries, unit=unit, hide=hidden, effects=effects)
        recs += _part_recs(att, seg, words, lang, part_below, effect_above)
    if not recs:
        recs.append(_rec("none", words["none"].format(sink=sink_above), {}, {}, ""))
    return Report(summary, layers, recs, hidden, seg)


def _part_recs(
    att: Attention, seg: SegmentAttention, words: dict, lang: str, part_below: float, effect_above: float
) -> list[dict]:
    """The part recommendations: backed by each part's effect when `seg` carries effects, else the
    shares stated as shares, with no advice to move or reword a part."""
    who = words[{"generated": "who_generated", "last": "who_last"}.get(seg.queries_label, "who_rows")]
    named = list(seg.part_names)
    content, even, relative = seg.content_shares(), seg.content_uniform(), seg.relative_shares()
    ratios = {n: content[n] / even[n] if even[n] > 0 else math.nan for n in named}
    apart = words["apart_local"].format(local=seg.shares["local"]) if "local" in seg.shares else words["apart"]

    def say(n: str, key: str, **extra: float) -> dict:
        inside = seg.part_sinks.get(n, [])
        note = words["part_sink"].format(tok=_quote(lang, [att.tokens[t] for t in inside])) if inside else ""
        part = _quote(lang, n)
        shares = {"share": content[n], "uniform": even[n], "ratio": ratios[n], "relative": relative[n]}
        text = words[key].format(part=part, who=who, apart=apart, sink_note=note, **shares, **extra)
        action = words[(key if key in ("part_needed", "part_hurts", "part_idle") else "part_share") + "_action"]
        measured = {
            "share": content[n],
            "relative_share": relative[n],
            **{k: v for k, v in extra.items() if k != "above"},
        }
        return _rec("part", text, measured, {"uniform": even[n]}, action.format(part=part))

    if seg.effects is not None:
        recs = []
        for n in named:
            k, r = seg.effects[n]["knockout"], seg.effects[n]["removal"]
            if min(k, r) <= -effect_above:
                recs.append(say(n, "part_needed", knockout=k, removal=r))
            elif r >= effect_above:
                recs.append(say(n, "part_hurts", knockout=k, removal=r))
            else:
                recs.append(say(n, "part_idle", knockout=k, removal=r, above=effect_above))
        return recs
    recs = [say(n, "part_low") for n in named if ratios[n] < part_below]
    # "Read most" by the share relative to length: the largest absolute share favours long parts.
    best = max(named, key=lambda n: relative[n])
    if ratios[best] > 1 + 1e-6 and relative[best] > 1 + 1e-6:  # above a uniform reading, not a tie
        recs.append(say(best, "part_top"))
    return recs


def _rec(kind: str, finding: str, measurement: dict, baseline: dict, action: str) -> dict:
    finding = finding[:1].upper() + finding[1:]
    # Chinese sentences follow one another without a space; English ones take one.
    message = (finding + action if finding.endswith(("。", "）", "；")) else f"{finding} {action}").strip()
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
    locality are those of the `attnwidget.analysis` docstring (means over heads, sinks hidden by default).

    This is **not** a prompt-quality score, and it is reachable as ``aw.analysis.shape_score`` only
    (not at the top level) for that reason. Its documented limits:

    - It tracks length: on held-out template sets it correlates with the log of the token count
      (r = 0.85), so a longer prompt scores differently for being longer.
    - It does not find the working prompt: it picked the template that works 10 of 17 times, which
      is chance; on `benchmarks/prompt_quality.py` (prompt pairs where the bundled SmolLM2 answers
      right with one and wrong with the other) it does not rank the working prompt above the
      failing one more often than chance either.

    To choose a prompt, compare outcomes with `aw.experiments.compare_templates(..., target=...)`,
    and to see which part of it matters, `aw.experiments.part_effects`.

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
