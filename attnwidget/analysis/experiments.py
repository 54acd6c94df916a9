"""Analysis that runs the model: prompt templates judged by their outcome, languages, induction heads.

Each function calls `aw.extract` (and the model itself for answers and log-probabilities), then
measures the attention with `attnwidget.analysis.heads` and `segments`; the `attnwidget.analysis`
docstring defines every name used here (sinks, sink_share, entropy, normalized_entropy, share).
torch is imported inside the functions that need it.
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


# ------------------------------------------------------------------------------------- model helpers


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


def _one(att: object) -> Attention:
    """The single `Attention` aw.extract returns for one text."""
    if isinstance(att, list):
        (att,) = att
    if not isinstance(att, Attention):
        raise AttentionError(
            f"this comparison reads one Attention per prompt; the model gave {type(att).__name__} "
            "(encoder-decoder models need a target and are not compared here)"
        )
    return att


def _ids(att: Attention) -> list[int]:
    if att.token_ids is None:
        raise AttentionError("the attention carries no token ids; extract it with aw.extract")
    return list(att.token_ids)


def _device(model: Any):
    # The input device, also for a model accelerate placed or offloaded (its weights may be meta).
    from attnwidget.extraction.facts import input_device

    try:
        return input_device(model)
    except (StopIteration, AttributeError):
        return "cpu"


def _greedy(model: Any, tokenizer: Any, ids: Sequence[int], max_new_tokens: int) -> str:
    import torch

    x = torch.tensor([list(ids)], device=_device(model))
    kwargs = {"do_sample": False, "max_new_tokens": max_new_tokens}
    if getattr(tokenizer, "pad_token_id", None) is not None:
        kwargs["pad_token_id"] = tokenizer.pad_token_id
    with torch.no_grad():
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), **kwargs)
    return tokenizer.decode(out[0, len(ids) :].tolist(), skip_special_tokens=True)


def _logprob(model: Any, tokenizer: Any, ids: Sequence[int], targets: Sequence[str]) -> float:
    """log P(any of `targets` follows `ids`): the log of the summed probabilities of each full target."""
    import torch

    logps = []
    for target in targets:
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        if not t:
            raise AttentionError(f"target {target!r} encodes to no tokens")
        x = torch.tensor([list(ids) + list(t)], device=_device(model))
        with torch.no_grad():
            logits = model(input_ids=x).logits[0].float()
        lp = torch.log_softmax(logits[len(ids) - 1 : -1], dim=-1)
        logps.append(float(lp[torch.arange(len(t)), torch.tensor(t)].sum()))
    m = max(logps)
    return m + math.log(sum(math.exp(v - m) for v in logps))


def _targets(target: Any) -> list[str]:
    targets = [target] if isinstance(target, str) else list(dict.fromkeys(target))
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise AttentionError(f"target must be a non-empty str or a list of them (accepted answers); got {target!r}")
    return targets


def greedy_answer(model: Any, tokenizer: Any, prompt: str | Mapping, *, max_new_tokens: int = 8) -> str:
    """The model's greedy continuation of `prompt` (text, or ``{"messages": [...]}``), tokenised as aw.extract does."""
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise AttentionError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")
    return _greedy(model, tokenizer, _prompt_ids(tokenizer, prompt), max_new_tokens)


def answer_logprob(model: Any, tokenizer: Any, prompt: str | Mapping, target: str | Sequence[str]) -> float:
    """log P(target | prompt) in nats, summed over the target's tokens (several targets: P of any)."""
    return _logprob(model, tokenizer, _prompt_ids(tokenizer, prompt), _targets(target))


def _prompt_ids(tokenizer: Any, prompt: Any) -> list[int]:
    if isinstance(prompt, Mapping) and prompt.get("messages") is not None:
        text = tokenizer.apply_chat_template(prompt["messages"], tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    text = prompt.get("text") if isinstance(prompt, Mapping) else prompt
    if not isinstance(text, str) or not text.strip():
        raise AttentionError(f"prompt must be a non-empty str or a dict with 'text' or 'messages'; got {prompt!r}")
    return tokenizer(text)["input_ids"]


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


TIE_NATS = 0.1
"""Templates whose log P of the target lies within this many nats of the best tie (1.1x or less)."""


def gives_target(answer: str, targets: Sequence[str]) -> bool:
    """Whether a greedy `answer` gives one of `targets`: it begins with the target's words (spaces
    compared loosely, since tokenizers give them back differently) and the target does not end
    inside a longer word (" positive" is not given by " positively")."""
    said = " ".join(answer.split())
    for target in targets:
        want = " ".join(target.split())
        if want and said.startswith(want) and not (want[-1].isalnum() and said[len(want) : len(want) + 1].isalnum()):
            return True
    return False


def _probability(p: float) -> str:
    """A probability as text: three decimals, or two significant digits below 0.001 (never "0.000")."""
    return f"{p:.3f}" if p >= 1e-3 or p == 0 else f"{p:.1e}"


def _times(ratio: float) -> str:
    """A likelihood ratio as text: 2.5x, 87x, 31,835x."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"


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
    """
    if not isinstance(templates, Mapping) or len(templates) == 0:
        raise AttentionError("templates must be a non-empty dict of name -> text or {'text'|'messages', 'parts'}")
    max_new_tokens = V.integer("max_new_tokens", max_new_tokens, low=1)
    targets = None if target is None else _targets(target)
    rows: dict[str, list] = {"template": [], "tokens": [], "answer": []}
    if targets:
        rows.update(logprob=[], p_target=[])
    rows.update(sink_share=[], entropy=[])
    atts, answers, segs, logps = {}, {}, {}, {}
    for name, spec in templates.items():
        att, own = _run(model, tokenizer, spec, f"template {name!r}")
        atts[name] = att
        ids = _ids(att)
        answers[name] = _greedy(model, tokenizer, ids, max_new_tokens)
        hidden = _hidden_keys(att, hide)
        vals = _head_stats(att, hidden, {"entropy": "entropy"})
        rows["template"].append(name)
        rows["tokens"].append(att.n_key)
        rows["answer"].append(answers[name])
        if targets:
            logps[name] = _logprob(model, tokenizer, ids, targets)
            rows["logprob"].append(logps[name])
            rows["p_target"].append(math.exp(logps[name]))
        rows["sink_share"].append(float(vals["sink_share"].mean()))
        rows["entropy"].append(float(vals["entropy"].mean()))
        marked = {**(parts or {}), **own}
        if marked:
            try:
                segs[name] = segment_attention(att, marked, queries="last", hide=hidden)
            except AttentionError as e:
                raise type(e)(f"template {name!r}: {e}") from None
    all_parts = sorted({p for s in segs.values() for p in s.part_names})
    for p in all_parts:
        rows[f"read_{p}"] = [segs[n].content_shares().get(p, math.nan) if n in segs else math.nan for n in templates]
    absent = any(p not in segs[n].part_names if n in segs else True for p in all_parts for n in templates)
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
    return TemplateComparison(table, best, evidence, segs, atts, answers, ties=ties, verdict=verdict, right=right)


def _verdict(
    logps: dict[str, float], answers: dict[str, str], targets: list[str]
) -> tuple[str | None, tuple[str, ...], str, list[str], str]:
    """best, ties, verdict, the right templates and the evidence, from each template's outcome.

    A template is picked only when its greedy answer gives the target: a higher log P among wrong
    answers is the least wrong, not a working prompt. Within `TIE_NATS` of the best is a tie.
    """
    order = sorted(logps, key=lambda n: logps[n], reverse=True)
    right = [n for n in order if gives_target(answers[n], targets)]
    shown = " or ".join(repr(t) for t in targets)

    def line(n: str, ref: str) -> str:
        p = _probability(math.exp(logps[n]))
        says = "gives the target" if n in right else "does not give the target"
        if n == ref:
            return f"  {n!r}: log P = {logps[n]:.2f} (p {p}), greedy answer {answers[n]!r} ({says})"
        ratio = _times(math.exp(logps[ref] - logps[n]))
        return f"  {n!r}: log P = {logps[n]:.2f} (p {p}, {ratio} less likely), greedy answer {answers[n]!r} ({says})"

    if not right:
        top = order[0]
        near = [repr(n) for n in order[1:] if logps[top] - logps[n] <= TIE_NATS]
        tie = f"; {', '.join(near)} within {TIE_NATS} nats, a tie" if near else ""
        closest = [
            f"no template gives the target; the closest is {top!r} (log P = {logps[top]:.2f}, "
            f"p {_probability(math.exp(logps[top]))}{tie}), which still answers {answers[top]!r}: no greedy "
            f"answer begins with {shown}, so none is picked"
        ]
        return None, (), "none", [], "\n".join(closest + [line(n, top) for n in order])
    top = right[0]
    tied = tuple(n for n in right if logps[top] - logps[n] <= TIE_NATS)
    rest = [line(n, top) for n in order]
    if len(tied) > 1:
        names = ", ".join(repr(n) for n in tied)
        spread = logps[top] - logps[tied[-1]]
        head = (
            f"tie: {names} give {shown} with log P within {spread:.2f} nats of each other "
            f"({_times(math.exp(spread))}, at most {TIE_NATS} nats): none is picked; compare them on more inputs"
        )
        return None, tied, "tie", right, "\n".join([head] + rest)
    head = (
        f"{top!r} gives {shown} the highest probability among the templates whose answer gives it: "
        f"log P = {logps[top]:.2f} (p {_probability(math.exp(logps[top]))}), greedy answer {answers[top]!r}"
    )
    return top, (), "best", right, "\n".join([head] + rest)


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
