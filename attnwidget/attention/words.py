"""Attention between words (or sentences, turns, any grouping of tokens) instead of subword tokens.

Merging groups ``G_a`` (queries) and ``G_b`` (keys) gives ``W'[a, b] = mean_{i in G_a} sum_{j in G_b} W[i, j]``:
attention *to* a group is the sum over its pieces (so nothing is lost), attention *from* a group is
the mean over its pieces' rows (so rows still sum to 1). Only query rows that see some key count
in the mean. Lazy attention is read a block of rows at a time, never as full maps.

Cross-attention keeps its two sides apart: query rows are target tokens (``att.query_tokens``),
keys are source tokens (``att.tokens``), so key groups are made from the source and query groups
from the target, never one grouping for both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from attnwidget.attention.segmenter import has_jieba, jieba_word_groups
from attnwidget.errors import ArgumentTypeError, AttentionError

__all__ = ["merge", "to_words", "word_groups", "query_word_groups", "read_offsets"]

# '北[1/2]': a token holding part k of m of a character that byte-level BPE split (see readable_tokens).
_PART = re.compile(r"^(.+)\[(\d+)/(\d+)\]$")
_ROW_BLOCK = 256


def _no_space_script(ch: str) -> bool:
    """Characters of scripts written without spaces (CJK ideographs, kana): each is a word of its own."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x2FA1F
    )


def _joins(ch: str) -> bool:
    return (ch.isalnum() or ch in "_'\u2019" or unicodedata.category(ch) in ("Mn", "Mc")) and not _no_space_script(ch)


def _label(pieces: list[str]) -> str:
    """Text of a group: its pieces joined, each split character's parts written once as the character."""
    out, i = [], 0
    while i < len(pieces):
        m = _PART.match(pieces[i])
        if m and m.group(2) == "1":
            whole, total = m.group(1), int(m.group(3))
            run = pieces[i : i + total]
            if len(run) == total and all(_part(p) == (whole, k + 1, total) for k, p in enumerate(run)):
                out.append(whole)
                i += total
                continue
        out.append(pieces[i])
        i += 1
    return "".join(out)


def _part(token: str) -> tuple[str, int, int] | None:
    m = _PART.match(token)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


def word_groups(att: Any) -> list[list[int]]:
    """Token positions grouped into words.

    A token continues the word before it when nothing separates them in the text (their character
    spans touch, or without offsets, the token does not start with whitespace) and both sides of
    the boundary are word characters (letters, digits, ``_``, apostrophes, combining marks). Parts
    of one character split by byte-level BPE ('北[1/2]', '北[2/2]') always join; characters of
    scripts written without spaces (Chinese, Japanese kana) join into the words jieba finds when it
    is installed (``pip install "attnwidget[zh]"``), else each is a word. Special tokens stand alone.

    For cross-attention these are the groups of the keys (the source tokens, ``att.tokens``);
    `query_word_groups` groups the query rows.

    Raises
    ------
    AttentionError
        Without character offsets and with no token starting with whitespace, word boundaries
        cannot be told apart (WordPiece drops its ``##`` marks); pass offsets or use `merge`.
    """
    return _join_words_without_spaces(att, _word_groups(att.tokens, att.offsets, att.special, ""))


def _join_words_without_spaces(att: Any, groups: list[list[int]]) -> list[list[int]]:
    """Characters of scripts written without spaces joined into the words jieba finds, when jieba is
    installed (the ``zh`` extra) and the text and offsets are known; otherwise each stays a word.

    Only neighbouring groups made wholly of such characters join, so everything else keeps the
    rule of `word_groups`.
    """
    text, offs = att.text, att.offsets
    if not groups or text is None or offs is None or not any(_no_space_script(c) for c in text) or not has_jieba():
        return groups
    word_of = {i: k for k, group in enumerate(jieba_word_groups(text, offs, att.special)) for i in group}

    def spaceless(group: list[int]) -> bool:
        chars = "".join(text[a:b] for a, b in (offs[i] for i in group))
        return bool(chars) and all(_no_space_script(c) for c in chars)

    out = [list(groups[0])]
    for group in groups[1:]:
        prev = out[-1]
        if spaceless(prev) and spaceless(group) and word_of.get(prev[-1]) == word_of.get(group[0]):
            prev.extend(group)
        else:
            out.append(list(group))
    return out


def query_word_groups(att: Any) -> list[list[int]]:
    """Query row positions of cross-attention grouped into words (of ``att.query_tokens``).

    The target tokens carry no character offsets, so a word begins at a token that starts with
    whitespace or that cannot join the one before (the rule of `word_groups` without offsets).

    Raises
    ------
    AttentionError
        When no query token after the first starts with whitespace: word boundaries cannot be
        told apart; group the rows yourself with ``att.merge(groups, query_groups=...)``.
    """
    return _word_groups(att.query_tokens, None, None, "query (target) ")


def _word_groups(toks: list[str], offs: Any, special: Any, side: str) -> list[list[int]]:
    special = special or [False] * len(toks)
    # A target's first token starting with a space is evidence too (the decoder's start token is
    # usually special but not flagged); the key side keeps its rule.
    first = 0 if side else 1
    if (
        (len(toks) > 1 or not side)
        and offs is None
        and not any(t[:1].isspace() for t, s in zip(toks[first:], special[first:], strict=True) if not s)
    ):
        if side:
            raise AttentionError(
                f"cannot tell where words begin among the {side}tokens: they carry no character offsets and "
                "none starts with whitespace; group the query rows with att.merge(groups, query_groups=...)"
            )
        raise AttentionError(
            "cannot tell where words begin: this attention has no character offsets and no token starts "
            "with whitespace; extract with a fast tokenizer (offsets) or group tokens with att.merge(groups)"
        )
    groups: list[list[int]] = []
    for i, tok in enumerate(toks):
        if i == 0 or special[i] or special[i - 1]:
            groups.append([i])
            continue
        prev = toks[i - 1]
        here, before = _part(tok), _part(prev)
        if here and here[1] > 1 and before and before[0] == here[0] and before[1] == here[1] - 1:
            groups[-1].append(i)  # the next part of the same split character
            continue
        text_here = here[0] if here else tok
        text_before = before[0] if before else prev
        touching = (offs[i][0] <= offs[i - 1][1]) if offs is not None else True
        if (
            touching
            and text_here
            and text_before
            and not text_here[0].isspace()
            and _joins(text_before[-1])
            and _joins(text_here[0])
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def read_offsets(tokens: Sequence[str], text: str) -> list[tuple[int, int]] | None:
    """Character spans of `tokens` found by reading them along `text`, or None when they do not spell it.

    Tokens must occur in order with only whitespace between them (`aw.generate`'s byte-level tokens
    spell the text exactly; word-level tokens drop the spaces). The parts of one character split by
    byte-level BPE ('北[1/2]', '北[2/2]') each get that character's span. A token left as byte
    escapes (an incomplete character, often the last generated one) gets an empty span, and the
    replacement characters (U+FFFD) its bytes became in the text are skipped.
    """
    spans: list[tuple[int, int]] = []
    pos, lost = 0, False
    for tok in tokens:
        part = _part(tok)
        if part is not None and part[1] > 1 and spans and _part(tokens[len(spans) - 1]) is not None:
            spans.append(spans[-1])  # a later part of the character the previous token began
            continue
        piece = part[0] if part is not None and text.find(tok, pos) < 0 else tok
        at = text.find(piece, pos) if piece else pos
        skipped = text[pos:at] if at >= 0 else ""
        if at < 0 or (skipped and not (skipped.isspace() or (lost and not skipped.strip(" \t\n\ufffd")))):
            if tok.startswith("\\x"):  # bytes of a character never completed: no text of its own
                spans.append((pos, pos))
                lost = True
                continue
            return None
        spans.append((at, at + len(piece)))
        pos, lost = at + len(piece), False
    return spans


def _check_groups(groups: Any, n: int, name: str = "groups") -> list[list[int]]:
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__"):
        raise ArgumentTypeError(f"{name} must be a list of lists of token positions; got {type(groups).__name__}")
    out, seen = [], np.zeros(n, dtype=bool)
    for g, group in enumerate(groups):
        if isinstance(group, (int, np.integer)) and not isinstance(group, (bool, np.bool_)):
            group = [group]
        # '1', 1.5 and True are not positions: int() would turn them into one silently.
        if isinstance(group, (str, bytes)) or not hasattr(group, "__iter__"):
            raise ArgumentTypeError(f"{name}[{g}] must be a list of token positions (ints); got {group!r}")
        group = list(group)
        if not all(isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in group):
            raise ArgumentTypeError(f"{name}[{g}] must be a list of token positions (ints); got {group!r}")
        idx = sorted(int(i) for i in group)
        if not idx:
            raise AttentionError(f"{name}[{g}] is empty; every group needs at least one token")
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise AttentionError(f"{name}[{g}] has positions {bad} out of range for {n} tokens")
        if seen[idx].any() or len(set(idx)) != len(idx):
            raise AttentionError(f"{name}[{g}] repeats positions already grouped: {[i for i in idx if seen[i]]}")
        seen[idx] = True
        out.append(idx)
    if not seen.all():
        missing = np.flatnonzero(~seen).tolist()
        raise AttentionError(
            f"{name} leave out token positions {missing[:10]}{' ...' if len(missing) > 10 else ''}; "
            "every token must be in exactly one group"
        )
    return sorted(out, key=lambda idx: idx[0])


def merge(
    att: Any,
    groups: Sequence[Sequence[int]],
    labels: Sequence[str] | None = None,
    *,
    query_groups: Sequence[Sequence[int]] | None = None,
    query_labels: Sequence[str] | None = None,
) -> Any:
    """Attention between groups of tokens: to a group summed over its pieces, from a group averaged.

    Parameters
    ----------
    att : Attention
    groups : list of lists of int
        Every token position in exactly one group (sentences, chat turns, words, ...). Groups are
        ordered by their first position. For cross-attention these group the keys (the source
        tokens, ``att.tokens``) only.
    labels : list of str, optional
        One label per group in that order (default: the group's tokens joined).
    query_groups : list of lists of int, optional
        Cross-attention only: every query row (a position in ``att.query_tokens``, the target) in
        exactly one group. Default: each query row stays its own group. Self-attention groups its
        query rows with `groups` (queries are the last tokens), so this is refused there.
    query_labels : list of str, optional
        Cross-attention only: one label per query group (default: its target tokens joined).

    Returns
    -------
    Attention
        ``(layers, heads, query groups, groups)``; rows sum to 1. ``meta["groups"]`` holds the
        token positions of each group (and ``meta["query_groups"]`` those of each query group of
        cross-attention, whose query tokens are then the query groups' labels).
    """
    L, H, Q, K = att.shape
    cross = getattr(att, "_query_tokens", None) is not None
    groups = _check_groups(groups, K)
    G = len(groups)
    gid = np.empty(K, dtype=np.int64)
    for g, idx in enumerate(groups):
        gid[idx] = g
    if labels is None:
        labels = [_label([att.tokens[i] for i in idx]) for idx in groups]
    else:
        labels = [str(s) for s in labels]
        if len(labels) != G:
            raise AttentionError(f"got {len(labels)} labels for {G} groups")
    qlabels = None
    if cross:
        # Query rows are target tokens, keys source tokens: the rows are grouped on their own.
        qgroups = [[i] for i in range(Q)] if query_groups is None else _check_groups(query_groups, Q, "query_groups")
        qg = np.empty(Q, dtype=np.int64)
        for g, idx in enumerate(qgroups):
            qg[idx] = g
        first_q, Gq = 0, len(qgroups)
        if query_labels is None:
            qlabels = [_label([att.query_tokens[i] for i in idx]) for idx in qgroups]
        else:
            qlabels = [str(s) for s in query_labels]
            if len(qlabels) != Gq:
                raise AttentionError(f"got {len(qlabels)} query_labels for {Gq} query_groups")
    else:
        if query_groups is not None or query_labels is not None:
            raise AttentionError(
                "query_groups and query_labels are for cross-attention (query rows of another text); "
                "here the query rows are the last tokens and `groups` groups them"
            )
        qg = gid[K - Q :]
        first_q = int(qg.min())
        if sorted(set(qg.tolist())) != list(range(first_q, G)):
            raise AttentionError(
                "the groups that hold query tokens must come last (queries are the last tokens); "
                "a group mixes early keys with query rows out of order"
            )
        Gq = G - first_q
        qgroups = [[i - (K - Q) for i in idx] for idx in groups[first_q:]]
    to_group = np.zeros((K, G), dtype=np.float32)
    to_group[np.arange(K), gid] = 1
    live = att.mask.any(axis=1)
    counts = np.bincount(qg[live] - first_q, minlength=Gq).astype(np.float32)
    from_group = np.zeros((Gq, Q), dtype=np.float32)
    rows = np.flatnonzero(live)
    from_group[qg[rows] - first_q, rows] = 1 / counts[qg[rows] - first_q]
    weights = np.zeros((L, H, Gq, G), dtype=np.float32)
    for li, layer in enumerate(att.layer_ids):
        for start in range(0, Q, _ROW_BLOCK):
            stop = min(Q, start + _ROW_BLOCK)
            block = att.rows(layer, start, stop) @ to_group  # (H, rows, G): summed over key pieces
            weights[li] += np.einsum("gr,hrk->hgk", from_group[:, start:stop], block)
    seen = (from_group > 0).astype(np.float32) @ att.mask.astype(np.float32) @ to_group > 0
    offsets = None
    if att.offsets is not None:
        offsets = [(min(att.offsets[i][0] for i in idx), max(att.offsets[i][1] for i in idx)) for idx in groups]
    special = None if att.special is None else [all(att.special[i] for i in idx) for idx in groups]
    generated = None
    if att.generated is not None:
        generated = [bool(att.generated[[i for i in idx if i >= 0]].all()) for idx in qgroups]
    meta = dict(att.meta, groups=groups)
    if cross:
        meta["query_groups"] = qgroups
    meta.pop("value_norms", None)  # per token; no longer lines up with the groups
    # type(att): this module is called by Attention's own methods and never imports the type.
    return type(att)(
        weights,
        labels,
        seen,
        layer_ids=att.layer_ids,
        head_ids=att.head_ids,
        num_kv_heads=att.num_kv_heads,
        total_heads=att.total_heads,
        offsets=offsets,
        special=special,
        generated=generated,
        query_tokens=qlabels,
        text=att.text,
        meta=meta,
    )


def to_words(att: Any) -> Any:
    """`merge` over `word_groups`: attention between words, split characters made whole again.

    For cross-attention the keys are grouped into source words (`word_groups`) and the query rows
    into target words (`query_word_groups`), each side from its own tokens.
    """
    if getattr(att, "_query_tokens", None) is not None:
        return merge(att, word_groups(att), query_groups=query_word_groups(att))
    return merge(att, word_groups(att))
