"""Chinese word groups with jieba: token positions grouped by the words jieba finds in the text.

`attention.words.word_groups` makes each Chinese character a word, since Chinese is written without
spaces; jieba's dictionary segmentation finds the words (我们 / 今天 / 去 / 公园). This module owns
`jieba_word_groups`, the helper `to_words` can call for Chinese text when jieba is installed
(the optional ``zh`` extra). It imports nothing above `attention`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence

from attnwidget.errors import ArgumentTypeError, AttentionError, MissingExtraError

__all__ = ["jieba_word_groups", "has_jieba"]


def has_jieba() -> bool:
    """Whether jieba can be imported (without importing it: its dictionary loads on first use)."""
    return importlib.util.find_spec("jieba") is not None


def jieba_word_groups(
    text: str, offsets: Sequence[tuple[int, int]], special: Sequence[bool] | None = None
) -> list[list[int]]:
    """Token positions grouped into the words jieba finds in `text`.

    Parameters
    ----------
    text : str
        The text the tokens spell.
    offsets : list of (start, end)
        Each token's character span in `text` (a fast tokenizer's ``offset_mapping``); an empty span
        (special tokens) stands alone.
    special : list of bool, optional
        Tokens that stand alone whatever their span.

    Returns
    -------
    list of list of int
        Groups in token order, covering every token once. Consecutive tokens share a group when
        their characters fall in the same jieba word; a token whose span crosses a word boundary
        joins the words it covers (a token cannot be split), and the pieces of one character split
        by byte-level BPE (same span) stay together.

    Raises
    ------
    MissingExtraError
        jieba is not installed (``pip install jieba``).
    AttentionError
        Offsets outside the text, or a `special` list of another length.
    """
    if not isinstance(text, str):
        raise ArgumentTypeError(f"text must be a str; got {type(text).__name__}")
    try:
        spans = [(int(a), int(b)) for a, b in offsets]
    except (TypeError, ValueError):
        raise AttentionError(f"offsets must be (start, end) pairs of ints; got {offsets!r}") from None
    if any(not 0 <= a <= b <= len(text) for a, b in spans):
        raise AttentionError(f"offsets must lie within the text's {len(text)} characters; got {spans}")
    flags = list(special) if special is not None else [False] * len(spans)
    if len(flags) != len(spans):
        raise AttentionError(f"special has {len(flags)} entries for {len(spans)} tokens")
    if not has_jieba():
        raise MissingExtraError('Chinese word groups need jieba: pip install jieba (or "attnwidget[zh]")')
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its first use otherwise prints the dictionary build to stderr
    owner = [-1] * len(text)  # character -> jieba word, -1 for whitespace
    for w, (word, a, b) in enumerate(jieba.tokenize(text)):
        if word.strip():
            owner[a:b] = [w] * (b - a)
    groups: list[list[int]] = []
    last = -1  # the highest word the previous group reaches; -1: the next token starts a group
    for i, (a, b) in enumerate(spans):
        words = [owner[c] for c in range(a, b) if owner[c] >= 0]
        if flags[i] or not words:
            groups.append([i])
            last = -1
            continue
        if groups and last >= 0 and min(words) <= last:
            groups[-1].append(i)
        else:
            groups.append([i])
        last = max(last, max(words)) if groups[-1][0] != i else max(words)
    return groups
