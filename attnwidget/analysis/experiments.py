"""Analysis that runs the model: prompt templates judged by their outcome, languages, induction heads.

Each function calls `aw.extract` (and the model itself for answers and log-probabilities), then
measures the attention with `attnwidget.analysis.heads` and `segments`; the `attnwidget.analysis`
docstring defines every name used here (sinks, sink_share, entropy, normalized_entropy, share).
Answers, log P and verdicts live in `outcomes`; template comparisons shard their prompts over
torch.distributed ranks through `sharding`, as `census` does. torch is imported inside the functions
that need it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget import metrics as M
from attnwidget.analysis.ablation import HeadEffects, head_effects
from attnwidget.analysis.heads import ROLES, _check_attention, _head_stats, _hidden_keys, roles_from_scores
from attnwidget.analysis.knockout import PartEffects, part_effects
from attnwidget.analysis.outcomes import (
    TIE_NATS,
    _greedy,
    _ids,
    _logprob,
    _one,
    _probability,  # noqa: F401  (read by the template tests as experiments._probability)
    _targets,
    _times,  # noqa: F401
    _verdict,
    answer_logprob,
    gives_target,
    greedy_answer,
)
from attnwidget.analysis.segments import segment_attention
from attnwidget.analysis.table import Table
from attnwidget.attention.arrays import hidden_keys_mask
from attnwidget.attention.core import Attention, _memory_budget
from attnwidget.errors import ArgumentTypeError, AttentionError, ModelError

__all__ = [
    "head_effects",
    "HeadEffects",
    "part_effects",
    "PartEffects",
    "compare_templates",
    "TemplateComparison",
    "compare_template_sets",
    "TemplateSetComparison",
    "compare_languages",
    "LanguageComparison",
    "induction_scores",
    "head_roles",
    "greedy_answer",
    "answer_logprob",
    "gives_target",
    "TIE_NATS",
    "ROLES",
]


# ------------------------------------------------------------------------------------- model runs


def _model_shape(model: Any) -> tuple[int, int, int | None]:
    """(layers, heads, positions) from the model's config, 1 where unknown."""
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    layers = next((getattr(cfg, n) for n in ("num_hidden_layers", "n_layer", "num_layers") if getattr(cfg, n, None)), 1)
    heads = next((getattr(cfg, n) for n in ("num_attention_heads", "n_head", "num_heads") if getattr(cfg, n, None)), 1)
    positions = next(
        (getattr(cfg, n) for n in ("max_position_embeddings", "n_positions") if getattr(cfg, n, None)), None
    )
    return int(layers), int(heads), positions


def _check_memory(
    model: Any, n_tokens: int, what: str, layers: Sequence[int] | None = None, heads: Sequence[int] | None = None
) -> None:
    """Raise a clear error before extraction when the attention would not fit in memory."""
    L, H, _ = _model_shape(model)
    L = len(layers) if layers is not None else L
    H = len(heads) if heads is not None else H
    need = L * H * n_tokens * n_tokens * 4
    budget = _memory_budget()
    if need > budget:
        raise MemoryError(
            f"{what} needs the attention of {L} layers x {H} heads over {n_tokens} tokens: "
            f"{_size(need)} of float32, more than the {_size(budget)} this machine can spare; "
            "pass layers=/heads= to keep fewer, or a shorter input"
        )


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _tokenizer_count(tokenizer: Any, spec: Any) -> int:
    if isinstance(spec, Mapping) and spec.get("messages") is not None:
        return len(tokenizer.apply_chat_template(spec["messages"], tokenize=True, add_generation_prompt=True))
    text = spec if isinstance(spec, str) else (spec or {}).get("text", "")
    return len(tokenizer(text)["input_ids"]) if isinstance(text, str) else 0


def _run(model, tokenizer, spec: Any, what: str) -> tuple[Attention, dict]:
    """Extract a template given as text or {"text"|"messages", "parts"}; return it and its parts."""
    from attnwidget.extraction.api import extract

    if isinstance(spec, str):
        _check_memory(model, _tokenizer_count(tokenizer, spec), what)
        return _one(extract(model, tokenizer, spec)), {}
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"text", "messages", "parts", "segments"}
        if unknown or ("text" in spec) == ("messages" in spec) or ("parts" in spec and "segments" in spec):
            raise AttentionError(
                f"{what} must be a str or a dict with 'text' or 'messages' (one of them) and "
                f"optional 'parts'; got keys {sorted(spec)}"
            )
        _check_memory(model, _tokenizer_count(tokenizer, spec), what)
        att = _one(extract(model, tokenizer, spec.get("text"), messages=spec.get("messages")))
        return att, dict(spec.get("parts") or spec.get("segments") or {})
    raise ArgumentTypeError(f"{what} must be a str or a dict with 'text' or 'messages'; got {type(spec).__name__}")


# ------------------------------------------------------------------------------------- templates


class TemplateComparison:
    """`compare_templates`' result.

    Attributes
    ----------
    table : Table
        Per template: tokens, answer (greedy), logprob and p_target (when a target was given),
        sink_share and entropy (module `analysis` definitions, means over layers and heads), and
        ``read_<part>``: the share of the last token's attention on each part, sinks and local reads
        (its own position and the previous token, `segment_attention`) excluded.
    best : str or None
        Among the templates whose greedy answer gives the target, the one whose prompt gives the
        target the highest probability. None without a target (attention alone does not say which
        template works), when no template's answer gives the target, and on a tie.
    ties : tuple of str
        The templates that tie for best: answers giving the target, log P of the target within
        `TIE_NATS` (0.1 nats, a 1.1x likelihood ratio) of the highest. Empty unless there is a tie;
        then no template is picked.
    verdict : {"best", "tie", "none", "no target"}
        Which of these cases holds.
    right : list of str
        The templates whose greedy answer gives the target (see `gives_target`).
    evidence : str
        Why `best` was chosen, in numbers, or why none was.
    parts : dict
        Template name -> `SegmentAttention` of its last token (what the answer read), for templates
        with parts.
    attentions, answers : dict
        Template name -> its `Attention` and its greedy answer.
    """

    def __init__(
        self,
        table: Table,
        best: str | None,
        evidence: str,
        parts: dict,
        attentions: dict,
        answers: dict,
        *,
        ties: tuple[str, ...] = (),
        verdict: str = "no target",
        right: list[str] | None = None,
    ):
        self.table, self.best, self.evidence = table, best, evidence
        self.parts, self.attentions, self.answers = parts, attentions, answers
        self.ties, self.verdict, self.right = ties, verdict, list(right or [])

    def __repr__(self) -> str:
        if self.best:
            head = f"best: {self.best}"
        elif self.ties:
            head = "best: none (tie: " + ", ".join(self.ties) + ")"
        else:
            head = "best: none"
        return "\n".join([repr(self.table), head, self.evidence])


def compare_templates(
    model: Any,
    tokenizer: Any,
    templates: Mapping[str, Any],
    *,
    target: Any = None,
    parts: Mapping[str, Any] | None = None,
    hide: Any = "sinks",
    max_new_tokens: int = 8,
) -> TemplateComparison:
    """Compare prompt templates by what the model answers, with what the answer read beside it.

    Parameters
    ----------
    templates : dict
        Name -> text, or name -> ``{"text": str}`` / ``{"messages": [...]}`` with optional
        ``"parts": {part name: substring, ...}`` (see `aw.analysis.segment_attention`).
    target : str or list of str, optional
        The expected answer as it would follow the prompt (mind the leading space: ``" positive"``).
        Each template is scored by ``log P(target | prompt)`` (nats; several targets: the
        probability of any). `best` is the highest among the templates whose greedy answer gives
        the target; None when none does (the evidence names the closest), on a tie within
        `TIE_NATS` (named in ``.ties``), and without a target (only the greedy answers are given).
    parts : dict, optional
        Parts marked in every template (substrings), besides each template's own.
    hide : "sinks", "first", None or list of int
        Keys measured apart (`analysis` module docstring).
    max_new_tokens : int
        Length of the greedy answer shown.

    Returns
    -------
    TemplateComparison

    Notes
    -----
    Under torchrun or accelerate launch (torch.distributed's default process group initialised, gloo
    or NCCL) the templates are sharded over the ranks as in `compare_template_sets`, and every rank
    returns the same table, answers, parts and verdict; ``attentions`` then holds the maps of the
    templates this rank ran (they are not sent between processes).
    """
    (comparison,) = _compare(model, tokenizer, [templates], [target], parts, hide, max_new_tokens, "compare_templates")
    return comparison


class TemplateSetComparison:
    """`compare_template_sets`' result: one `TemplateComparison` per set, and each template over all sets.

    Attributes
    ----------
    comparisons : list of TemplateComparison
        One per set, in order (also ``result[i]``). Their ``attentions`` are empty: the maps of many
        sets are not kept (run `compare_templates` on one set for them); tables, answers, parts and
        verdicts are complete.
    table : Table
        Per template name, in first-seen order: ``sets`` (how many sets have it), ``right`` (sets where
        its greedy answer gives the target), ``best`` (sets where it was picked), ``tie`` (sets where it
        tied for best) and ``mean_logprob`` (over the sets it is in, when targets were given).
    verdicts : list of str
        Each set's verdict.
    """

    def __init__(self, comparisons: list[TemplateComparison], scored: bool):
        self.comparisons = comparisons
        self.verdicts = [c.verdict for c in comparisons]
        names = list(dict.fromkeys(n for c in comparisons for n in c.table["template"]))
        rows: dict[str, list] = {"template": names, "sets": [], "right": [], "best": [], "tie": []}
        if scored:
            rows["mean_logprob"] = []
        for name in names:
            having = [c for c in comparisons if name in c.answers]
            rows["sets"].append(len(having))
            rows["right"].append(sum(name in c.right for c in having))
            rows["best"].append(sum(c.best == name for c in having))
            rows["tie"].append(sum(name in c.ties for c in having))
            if scored:
                lps = [float(c.table.where(template=name)["logprob"][0]) for c in having]
                rows["mean_logprob"].append(float(np.mean(lps)))
        title = f"templates over {len(comparisons)} sets (right: answer gives the target; best and tie: verdicts)"
        self.table = Table.from_columns(rows, title)

    def __len__(self) -> int:
        return len(self.comparisons)

    def __getitem__(self, i: int) -> TemplateComparison:
        return self.comparisons[i]

    def __repr__(self) -> str:
        return repr(self.table)


def compare_template_sets(
    model: Any,
    tokenizer: Any,
    sets: Sequence[Mapping[str, Any]],
    *,
    target: Any = None,
    targets: Sequence[Any] | None = None,
    parts: Mapping[str, Any] | None = None,
    hide: Any = "sinks",
    max_new_tokens: int = 8,
) -> TemplateSetComparison:
    """`compare_templates` over many sets of templates (the same templates filled with one example
    each, say), sharded over processes under torchrun or accelerate launch.

    Parameters
    ----------
    sets : list of dict
        One dict of templates per set, as `compare_templates` takes.
    target, targets : optional
        The expected answer of every set (`target`), or one per set (`targets`, a list as long as
        `sets`; each a str or a list of accepted answers). Not both.
    parts, hide, max_new_tokens
        As for `compare_templates`, for every set.

    Returns
    -------
    TemplateSetComparison
        ``.comparisons`` (one `TemplateComparison` per set, without the maps), ``.table`` (each
        template over all sets), ``.verdicts``.

    Notes
    -----
    When ``torch.distributed``'s default process group is initialised with more than one process
    (gloo on the CPU, NCCL with each rank's model on its own GPU), the (set, template) pairs are
    sharded as census shards prompts: rank r of N runs pairs r, r + N, ... in the order of the sets
    and their templates. Every rank then gathers every pair's numbers (greedy answer, log P, sink
    share, entropy, part shares) with ``all_gather_object`` and returns what one process returns. Give
    every rank the same sets and arguments: ranks that disagree, or one that fails, stop every rank
    with an `AttentionError` saying so; another backend is refused.
    """
    if isinstance(sets, (Mapping, str)) or not isinstance(sets, Sequence):
        raise ArgumentTypeError(
            f"sets must be a list of template dicts, one per set; got {type(sets).__name__} "
            "(for one set, call compare_templates)"
        )
    if targets is None:
        targets = [target] * len(sets)
    elif target is not None:
        raise AttentionError("pass target (every set's answer) or targets (one per set), not both")
    elif isinstance(targets, str) or not isinstance(targets, Sequence) or len(targets) != len(sets):
        raise AttentionError(f"targets must be a list with one target per set ({len(sets)}); got {targets!r}")
    found = _compare(model, tokenizer, sets, targets, parts, hide, max_new_tokens, "compare_template_sets", keep=False)
    return TemplateSetComparison(found, any(t is not None for t in targets))


def _compare(
    model: Any,
    tokenizer: Any,
    sets: Sequence[Any],
    targets: Sequence[Any],
    parts: Mapping[str, Any] | None,
    hide: Any,
    max_new_tokens: Any,
    what: str,
    keep: bool = True,
) -> list[TemplateComparison]:
    """Each set's `TemplateComparison`; the (set, template) pairs sharded over the ranks when a process
    group is initialised (`sharding.map_sharded`), every pair's numbers gathered to every rank."""
    from attnwidget.analysis.sharding import map_sharded, process_group

    group = process_group(model, what, ("gloo", "nccl"))
    items: list[tuple[int, Any, Any]] = []
    scored: list[list[str] | None] = []
    failure: Exception | None = None
    try:  # checked inside, so that a rank given bad input tells the others instead of leaving them waiting
        max_new_tokens = V.integer("max_new_tokens", max_new_tokens, low=1)
        for s, templates in enumerate(sets):
            if not isinstance(templates, Mapping) or len(templates) == 0:
                where = "templates" if len(sets) == 1 else f"set {s}"
                raise AttentionError(
                    f"{where} must be a non-empty dict of name -> text or {{'text'|'messages', 'parts'}}"
                )
            scored.append(None if targets[s] is None else _targets(targets[s]))
            items += [(s, name, spec) for name, spec in templates.items()]
        if not items:
            raise AttentionError("sets is empty; compare_template_sets needs at least one set of templates")
    except Exception as e:
        if group is None:
            raise
        failure = e
    atts: dict[Any, Attention] = {}

    def work(_: int, item: tuple[int, Any, Any]) -> dict:
        s, name, spec = item
        label = f"template {name!r}" if len(sets) == 1 else f"set {s}, template {name!r}"
        att, own = _run(model, tokenizer, spec, label)
        if keep:
            atts[name] = att
        ids = _ids(att)
        hidden = _hidden_keys(att, hide)
        vals = _head_stats(att, hidden, {"entropy": "entropy"})
        out = {"tokens": att.n_key, "answer": _greedy(model, tokenizer, ids, max_new_tokens), "seg": None}
        out.update(sink_share=float(vals["sink_share"].mean()), entropy=float(vals["entropy"].mean()))
        want = scored[s]
        out["logprob"] = None if want is None else _logprob(model, tokenizer, ids, want)
        marked = {**(parts or {}), **own}
        if marked:
            try:
                out["seg"] = segment_attention(att, marked, queries="last", hide=hidden)
            except AttentionError as e:
                raise type(e)(f"{label}: {e}") from None
        return out

    settings = {"sets": len(sets), "targets": repr(scored), "parts": repr(parts), "hide": repr(hide)}
    name = getattr(getattr(model, "config", None), "_name_or_path", "") or ""
    settings.update(max_new_tokens=repr(max_new_tokens), model=f"{type(model).__name__} {name}".strip())
    checks = [("sets", "the number of template sets"), ("targets", "the targets"), ("parts", "parts")]
    checks += [("hide", "hide"), ("max_new_tokens", "max_new_tokens"), ("model", "the model")]
    fix = "Give every rank the same template sets in the same order and the same arguments"
    found = map_sharded(
        group, work, items, failure=failure, settings=settings, checks=checks, what=what, fix=fix, noun="templates"
    )
    by_set: list[dict[str, dict]] = [{} for _ in sets]
    for (s, name, _), out in zip(items, found, strict=True):
        by_set[s][name] = out
    return [_assemble(by_set[s], scored[s], atts) for s in range(len(sets))]


def _assemble(found: dict[str, dict], targets: list[str] | None, atts: dict) -> TemplateComparison:
    """One set's comparison from each template's numbers (in the set's order)."""
    rows: dict[str, list] = {"template": list(found), "tokens": [], "answer": []}
    if targets:
        rows.update(logprob=[], p_target=[])
    rows.update(sink_share=[], entropy=[])
    answers = {n: r["answer"] for n, r in found.items()}
    logps = {n: r["logprob"] for n, r in found.items()}
    segs = {n: r["seg"] for n, r in found.items() if r["seg"] is not None}
    for r in found.values():
        for key in ("tokens", "answer", "sink_share", "entropy"):
            rows[key].append(r[key])
        if targets:
            rows["logprob"].append(r["logprob"])
            rows["p_target"].append(math.exp(r["logprob"]))
    all_parts = sorted({p for s in segs.values() for p in s.part_names})
    for p in all_parts:
        rows[f"read_{p}"] = [segs[n].content_shares().get(p, math.nan) if n in segs else math.nan for n in found]
    absent = any(p not in segs[n].part_names if n in segs else True for p in all_parts for n in found)
    table = Table.from_columns(
        rows,
        "templates (attention: means over layers and heads, sinks apart; "
        "read_<part>: share of the last token's attention, sinks and its own and previous position excluded"
        + ("; —: the template has no such part" if absent else "")
        + ")",
        missing="—",
    )
    if targets:
        best, ties, verdict, right, evidence = _verdict(logps, answers, targets)
    else:
        best, ties, verdict, right = None, (), "no target", []
        evidence = (
            "no target given: the greedy answers are listed, but no template is called better; "
            "pass target=<expected answer> to score them by outcome"
        )
    kept = {n: atts[n] for n in found if n in atts}
    return TemplateComparison(table, best, evidence, segs, kept, answers, ties=ties, verdict=verdict, right=right)


# ------------------------------------------------------------------------------------- languages


class LanguageComparison:
    """`compare_languages`' result.

    Attributes
    ----------
    table : Table
        Per language and layer: sink_share, entropy and normalized_entropy (means over heads, sinks
        apart), and the top tokens.
    top_tokens : dict
        Language -> list over layers of ``[(token, position, attention received), ...]``.
    unknown : dict
        Language -> number of tokens that are the tokenizer's unknown token.
    attentions : dict
        Language -> its `Attention`.
    """

    def __init__(self, table: Table, top_tokens: dict, attentions: dict, unknown: dict):
        self.table, self.top_tokens, self.attentions, self.unknown = table, top_tokens, attentions, unknown

    def summary(self) -> Table:
        """Per language: tokens, characters, characters per token, unknown tokens, and means over layers
        of sink_share, entropy, normalized_entropy (entropy per ln(keys): comparable across token
        counts) and entropy per character (nats of the mean row over the text's characters)."""
        langs = list(self.attentions)
        chars = [len(self.attentions[lang].text or "") for lang in langs]
        entropy = [float(self.table.where(language=lang)["entropy"].mean()) for lang in langs]
        rows = {
            "language": langs,
            "tokens": [self.attentions[lang].n_key for lang in langs],
            "characters": chars,
            "chars_per_token": [c / self.attentions[lang].n_key for c, lang in zip(chars, langs, strict=False)],
            "unknown": [self.unknown[lang] for lang in langs],
            "sink_share": [float(self.table.where(language=lang)["sink_share"].mean()) for lang in langs],
            "entropy": entropy,
            "normalized_entropy": [
                float(self.table.where(language=lang)["normalized_entropy"].mean()) for lang in langs
            ],
            "entropy_per_char": [e / c if c else math.nan for e, c in zip(entropy, chars, strict=False)],
        }
        return Table.from_columns(rows, "languages (means over layers and heads, sinks apart)")

    def __repr__(self) -> str:
        return repr(self.summary())


def _received_per_key(att: Attention, layer: int, hidden: Sequence[int]) -> np.ndarray:
    """Column mean of the head-averaged map (sinks removed, rows renormalised) over the rows that see each key."""
    from attnwidget.attention.core import renormalize

    keep = hidden_keys_mask(att.mask, hidden)
    fused = renormalize(att.layer(layer), keep).mean(axis=0)
    visible = keep.sum(axis=0)
    col = np.where(keep, fused, 0).sum(axis=0)
    return np.divide(col, visible, out=np.zeros(att.n_key), where=visible > 0)


def compare_languages(
    model: Any, tokenizer: Any, texts: Mapping[str, str], *, top_k: int = 5, hide: Any = "sinks"
) -> LanguageComparison:
    """The same content in several languages: tokenisation, which tokens draw attention, how spread it is.

    Token counts differ between languages, so the table normalises: ``normalized_entropy``
    divides each row's entropy by ``ln(keys it sees)`` and the summary gives characters per token
    and entropy per character. A warning names every language with unknown tokens (an English
    vocabulary such as MiniLM's turns most Chinese characters into ``[UNK]``; their attention says
    nothing about the text).

    Parameters
    ----------
    texts : dict
        Language name -> text.
    top_k : int
        Tokens listed per layer: those receiving the most attention (sinks excluded), measured as
        the column mean of the head-averaged map over the query rows that see the token.
    hide : "sinks", "first", None or list of int
        Keys measured apart (`analysis` module docstring).
    """
    if not isinstance(texts, Mapping) or len(texts) == 0:
        raise AttentionError("texts must be a non-empty dict of language -> text")
    top_k = V.integer("top_k", top_k, low=1)
    rows: dict[str, list] = {
        "language": [],
        "layer": [],
        "sink_share": [],
        "entropy": [],
        "normalized_entropy": [],
        "top_tokens": [],
    }
    tops: dict[str, list] = {}
    atts: dict[str, Attention] = {}
    unknown: dict[str, int] = {}
    unk_id = getattr(tokenizer, "unk_token_id", None)
    for lang, text in texts.items():
        if not isinstance(text, str):
            raise ArgumentTypeError(f"text for {lang!r} must be a str; got {type(text).__name__}")
        att = _run(model, tokenizer, text, f"text for {lang!r}")[0]
        atts[lang] = att
        unknown[lang] = sum(t == unk_id for t in att.token_ids) if unk_id is not None and att.token_ids else 0
        hidden = _hidden_keys(att, hide)
        vals = _head_stats(att, hidden, {"entropy": "entropy", "normalized_entropy": ("entropy", {"normalized": True})})
        tops[lang] = []
        for li, layer in enumerate(att.layer_ids):
            received = _received_per_key(att, layer, hidden)
            best = np.argsort(-received, kind="stable")[:top_k]
            entry = [(att.tokens[i], int(i), float(received[i])) for i in best]
            tops[lang].append(entry)
            rows["language"].append(lang)
            rows["layer"].append(layer)
            rows["sink_share"].append(float(vals["sink_share"][li].mean()))
            rows["entropy"].append(float(vals["entropy"][li].mean()))
            rows["normalized_entropy"].append(float(vals["normalized_entropy"][li].mean()))
            rows["top_tokens"].append(" | ".join(repr(t) for t, _, _ in entry))
    lost = {lang: n for lang, n in unknown.items() if n}
    if lost:
        unk = getattr(tokenizer, "unk_token", "[UNK]")
        said = "; ".join(f"{lang}: {n} of {atts[lang].n_key} tokens" for lang, n in lost.items())
        warnings.warn(
            f"the tokenizer turned part of the text into its unknown token {unk!r} ({said}); the model "
            "does not see those characters, so their attention says nothing about the text",
            UserWarning,
            stacklevel=2,
        )
    return LanguageComparison(Table.from_columns(rows, "languages per layer (sinks apart)"), tops, atts, unknown)


# ------------------------------------------------------------------------------------- induction


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
    raise ModelError(f"the tokenizer has fewer than {length} single-token words; pass a smaller length")


def induction_scores(
    model: Any,
    tokenizer: Any,
    *,
    length: int = 40,
    seed: int = 0,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
) -> np.ndarray:
    """Induction score of every head: run the model on a random word sequence repeated twice.

    In the second copy the token that followed the current token's first occurrence is predictable
    only by looking it up; an induction head attends to it. The score of a head is the mean, over
    the query rows of the second copy, of the weight on that token (`metrics.pattern` "induction").

    The attention's size is checked first: when ``layers x heads x (2 length)^2`` float32 would not
    fit in memory, a MemoryError says so (and what to pass) before the model runs.

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
    from attnwidget.extraction.api import extract

    if not isinstance(length, (int, np.integer)) or isinstance(length, bool) or length < 4:
        raise AttentionError(f"length must be an int >= 4; got {length!r}")
    _, _, positions = _model_shape(model)
    if positions is not None and 2 * length + 2 > positions:
        raise AttentionError(
            f"length {length} repeated twice needs about {2 * length} positions; the model has "
            f"{positions}: pass length <= {(positions - 2) // 2}"
        )
    _check_memory(model, 2 * int(length) + 2, f"induction_scores(length={length})", layers, heads)
    words = _random_words(tokenizer, int(length), seed)
    text = " ".join(words + words)
    att = _one(extract(model, tokenizer, text, layers=layers, heads=heads))
    P = M.pattern("induction", att.n_query, att.n_key, token_ids=att.token_ids)
    rows = P.any(axis=1)
    if rows.sum() < length // 2:
        raise ModelError(
            "the repeated sequence did not tokenize into repeated tokens; the induction "
            "test needs a tokenizer that keeps single-token words"
        )
    return np.asarray(M.pattern_match(att.weights[..., rows, :], P[rows], att.mask[rows]))


def head_roles(
    att: Attention,
    model: Any = None,
    tokenizer: Any = None,
    *,
    window: int = 3,
    thresholds: Mapping[str, float] | None = None,
    induction_length: int = 40,
    seed: int = 0,
) -> Table:
    """Label each head by what it mostly does (`analysis.roles_from_scores`), with induction scores
    measured on the model when it is given.

    Parameters
    ----------
    model, tokenizer : optional
        Both or neither; with them `induction_scores` runs on a repeated random sequence of
        `induction_length` words.
    window, thresholds
        As for `analysis.roles_from_scores`.
    """
    att = _check_attention(att, "head_roles")
    if (model is None) != (tokenizer is None):
        raise AttentionError("pass both model and tokenizer for the induction test, or neither")
    induction = None
    if model is not None:
        induction = induction_scores(
            model, tokenizer, length=induction_length, seed=seed, layers=att.layer_ids, heads=att.head_ids
        )
    return roles_from_scores(att, window=window, thresholds=thresholds, induction=induction)
