"""Which part of a prompt the query tokens read: parts named by substring or span
(`tokens_span`), resolved to tokens, and `segment_attention`'s shares per part with the sinks and
each query's local reads apart (`SegmentAttention`). A part's share is defined in the
`attnwidget.analysis` docstring; `attnwidget.widgets.charts` draws these results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from attnwidget import _validate as V
from attnwidget.analysis.heads import _check_attention, _hidden_keys
from attnwidget.analysis.table import Table, _format_table
from attnwidget.attention.core import Attention
from attnwidget.attention.words import read_offsets
from attnwidget.errors import AttentionError, AttentionIndexError

__all__ = ["segment_attention", "SegmentAttention", "tokens_span", "TokenSpan"]


class TokenSpan(NamedTuple):
    """Token positions ``start`` (inclusive) to ``stop`` (exclusive), as a part of `segment_attention`."""

    start: int
    stop: int


def tokens_span(start: int, stop: int) -> TokenSpan:
    """A part given by token positions ``[start, stop)``, e.g. ``{"question": aw.analysis.tokens_span(66, 79)}``."""
    if not (V._is_int(start) and V._is_int(stop)):  # int() would read '3' and 2.5 silently
        raise V.ArgumentTypeError(f"tokens_span takes two ints; got {start!r}, {stop!r}")
    a, b = int(start), int(stop)
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
    # Tokens that spell the text in order (split characters and byte escapes included).
    return read_offsets(att.tokens, text)


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
            if offsets is None and text is not None:
                # The text is known but the tokens do not spell it: a fast tokenizer would not help.
                raise AttentionError(
                    "character parts need the attention's text and character offsets: this attention has "
                    "no offsets and its tokens do not spell its text in order; give token spans instead "
                    "(aw.analysis.tokens_span(start, stop))"
                )
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
        if not all(V._is_int(v) for v in part):
            raise TypeError  # int() would read '3' and 2.5 silently
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
        if not all(V._is_int(q) for q in np.atleast_1d(queries).tolist()):
            raise TypeError  # '3' and 2.5 are not token positions
        rows = np.array(sorted({int(q) for q in np.atleast_1d(queries)}), dtype=np.int64)
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

    ``aw.widgets.charts.segment_shares(seg)`` and ``segment_heatmap(seg)`` draw it.

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
    effects : dict or None
        Part name -> ``{"knockout": Δ, "removal": Δ}`` in nats of log P(target), from
        `aw.experiments.part_effects` passed as ``effects=``: what the part does to the answer, beside
        what the answer reads there. None when no effects were given.
    """

    effects: dict[str, dict[str, float]] | None = None

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

    def relative_shares(self) -> dict[str, float]:
        """Each share relative to the part's length: ``share / (part tokens / all key tokens)``.

        1 is what reading every key alike gives; a long part gets a large share by being long, and
        this ratio takes that out. No ``"local"`` entry (it has no tokens of its own).
        """
        n = sum(len(v) for v in self.token_index.values())
        return {k: self.shares[k] * n / len(v) if v else math.nan for k, v in self.token_index.items()}

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

    def __repr__(self) -> str:
        content, uni, rel = self.content_shares(), self.content_uniform(), self.relative_shares()
        eff = self.effects or {}
        rows = []
        for n in self.names:
            c = content.get(n, math.nan)
            u = uni.get(n, math.nan)
            apart = n in ("sinks", "local")
            size = "" if n == "local" else len(self.token_index[n])
            row = [n, self.shares[n], "" if apart else c, "" if apart else u, size, rel.get(n, "")]
            if self.effects is not None:
                row += [eff[n]["knockout"] if n in eff else "", eff[n]["removal"] if n in eff else ""]
            rows.append(row)
        who = {"generated": f"the {len(self.queries)} generated tokens", "last": "the last token"}.get(
            self.queries_label, f"{len(self.queries)} query tokens ({self.queries_label})"
        )
        title = (
            f"what {who} read (means over {len(self.layer_ids)} layers and heads; shares sum to 1"
            + ("; content: share with sinks and local reads apart" if "local" in self.names or self.sinks else "")
            + ("; local: each query's own position and previous token" if "local" in self.names else "")
            + "; relative: share / (tokens / all tokens)"
            + ("; knockout, removal: Δ log P(target) in nats" if self.effects is not None else "")
            + ")"
        )
        header = ["part", "share", "content", "uniform", "tokens", "relative"]
        return _format_table(header + (["knockout", "removal"] if self.effects is not None else []), rows, title)


def segment_attention(
    att: Attention,
    parts: Mapping[str, Any],
    *,
    queries: Any = None,
    unit: str | None = None,
    hide: Any = "sinks",
    other: str = "other",
    local: bool = True,
    effects: Any = None,
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
        Keys reported apart as ``"sinks"`` (`attnwidget.analysis` docstring); a sink inside a part counts as a
        sink, not as the part. None keeps every key in its part.
    other : str
        Name for tokens in no part (chat markup, special tokens).
    local : bool
        Count each query row's attention to its own position and to the previous token apart, as
        ``"local"`` (default), not as the part those tokens are in. A reading token inside a part
        gives that part much of its attention by looking at itself and its neighbour; that says
        nothing about the part's content. A sink keeps its ``"sinks"`` entry even when it is the
        previous token. False keeps those reads in their parts.
    effects : PartEffects, optional
        From `aw.experiments.part_effects` on the same text and parts: each part's knockout and
        removal effect on log P(target) is put beside its share (``.effects``, and in the printed
        table), since a share alone is not evidence that the answer needs the part.

    Returns
    -------
    SegmentAttention
        ``.shares`` sums to 1 over the parts, ``other``, ``sinks`` and ``local``.

    Raises
    ------
    AttentionError
        (a ValueError) Empty or unknown parts, a missing or repeated substring, a number pair without `unit`,
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
    seg = SegmentAttention(
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
    if effects is not None:
        seg.effects = _effects(effects, part_tokens)
    return seg


def _effects(effects: Any, part_tokens: Mapping[str, list[int]]) -> dict[str, dict[str, float]]:
    """Part -> its knockout and removal effect, refused when measured on other parts or tokens."""
    knockout, removal = getattr(effects, "knockout", None), getattr(effects, "removal", None)
    if not isinstance(knockout, Mapping) or not isinstance(removal, Mapping):
        raise V.ArgumentTypeError(f"effects must be the result of aw.experiments.part_effects; got {V.show(effects)}")
    if set(knockout) != set(part_tokens):
        raise AttentionError(
            f"effects were measured on parts {sorted(knockout)}; these parts are {sorted(part_tokens)}: "
            "pass the same parts to part_effects and segment_attention"
        )
    measured = getattr(effects, "tokens", None) or {}
    for name, toks in part_tokens.items():
        if name in measured and list(measured[name]) != list(toks):
            raise AttentionError(
                f"part {name!r} is tokens {toks} here but tokens {list(measured[name])} in the effects: "
                "they were measured on another text or tokenization"
            )
    return {n: {"knockout": float(knockout[n]), "removal": float(removal[n])} for n in part_tokens}
