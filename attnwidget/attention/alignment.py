"""Which token of one prompt stands for which token of another: the alignment two attentions are
compared over (`widgets/diff.py` draws ``b - a`` at aligned positions only).

An alignment is a one-to-one list of ``(i, j)`` pairs, a position of a and a position of b, and
the positions of each that have no partner. Three named rules make one:

- ``"positions"``: position by position, for token lists of the same length (" cat" against " dog").
- ``"tokens"``: the longest matching runs of identical tokens (difflib); a run of changed tokens
  pairs position by position when both sides of it are equally long.
- ``"words"``: the same on the words of `attention.words.word_groups` (their text, surrounding
  whitespace ignored); tokens of paired words pair position by position when both words have as
  many tokens, else only their last tokens pair (where a causal model has read the whole word).

This module imports only numpy and the standard library.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attnwidget.attention.words import word_groups
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = ["Alignment", "ALIGNMENTS", "align_tokens"]

ALIGNMENTS = ("positions", "tokens", "words")


@dataclass(frozen=True)
class Alignment:
    """A one-to-one pairing of the token positions of a with those of b.

    Attributes
    ----------
    pairs : tuple of (int, int)
        ``(i, j)``: position `i` of a stands for position `j` of b; sorted by `i`.
    only_a, only_b : tuple of int
        Positions of a (of b) with no partner, sorted.
    method : str
        How it was made: one of `ALIGNMENTS`, or ``"given"`` for pairs the caller passed.
    """

    pairs: tuple[tuple[int, int], ...]
    only_a: tuple[int, ...]
    only_b: tuple[int, ...]
    method: str

    @property
    def a(self) -> list[int]:
        """The paired positions of a, in pair order."""
        return [i for i, _ in self.pairs]

    @property
    def b(self) -> list[int]:
        """The paired positions of b, in pair order."""
        return [j for _, j in self.pairs]

    @property
    def is_identity(self) -> bool:
        """Whether every position pairs with itself and none is left over."""
        return not self.only_a and not self.only_b and all(i == j for i, j in self.pairs)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _given(pairs: Any, n_a: int, n_b: int) -> list[tuple[int, int]]:
    if isinstance(pairs, (str, bytes)) or not hasattr(pairs, "__iter__"):
        raise ArgumentTypeError(
            f"align must be one of {ALIGNMENTS} or a list of (i, j) position pairs; got {type(pairs).__name__}"
        )
    out: list[tuple[int, int]] = []
    for k, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ArgumentTypeError(f"align[{k}] must be a pair (i, j) of token positions (ints); got {pair!r}")
        i, j = pair
        if not (_is_int(i) and _is_int(j)):
            raise ArgumentTypeError(f"align[{k}] must be a pair (i, j) of token positions (ints); got {pair!r}")
        if not 0 <= i < n_a:
            raise AttentionIndexError(f"align[{k}] = ({i}, {j}): position {i} is out of range for a's {n_a} tokens")
        if not 0 <= j < n_b:
            raise AttentionIndexError(f"align[{k}] = ({i}, {j}): position {j} is out of range for b's {n_b} tokens")
        out.append((int(i), int(j)))
    if not out:
        raise AttentionError("align holds no pairs; give at least one (i, j) pair of positions")
    for side, n in ((0, "a"), (1, "b")):
        seen: dict[int, int] = {}
        for k, pair in enumerate(out):
            if pair[side] in seen:
                raise AttentionError(
                    f"align is not one-to-one: position {pair[side]} of {n} is in align[{seen[pair[side]]}] "
                    f"and align[{k}]; each position may have one partner at most"
                )
            seen[pair[side]] = k
    return out


def _matched_runs(xs: Sequence[str], ys: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs of `xs` and `ys`: equal runs, and changed runs of the same length, position by position."""
    out = []
    for op, i0, i1, j0, j1 in difflib.SequenceMatcher(None, list(xs), list(ys), autojunk=False).get_opcodes():
        if op == "equal" or (op == "replace" and i1 - i0 == j1 - j0):
            out += list(zip(range(i0, i1), range(j0, j1), strict=True))
    return out


def _by_words(a: Any, b: Any) -> list[tuple[int, int]]:
    ga, gb = word_groups(a), word_groups(b)
    text_a = ["".join(a.tokens[i] for i in g).strip() for g in ga]
    text_b = ["".join(b.tokens[j] for j in g).strip() for g in gb]
    out = []
    for wa, wb in _matched_runs(text_a, text_b):
        pa, pb = ga[wa], gb[wb]
        out += list(zip(pa, pb, strict=True)) if len(pa) == len(pb) else [(pa[-1], pb[-1])]
    return out


def align_tokens(a: Any, b: Any, align: Any = None) -> Alignment:
    """Pair the token positions of two attentions.

    Parameters
    ----------
    a, b : Attention
        Their ``tokens`` (and for ``"words"`` their offsets) are read.
    align : str or list of (int, int), optional
        One of `ALIGNMENTS`, or the pairs themselves (one-to-one, positions in range). By default
        equally long token lists pair by position, others by words (by tokens when word
        boundaries cannot be told: no offsets and no token starting with a space).

    Returns
    -------
    Alignment

    Raises
    ------
    AttentionIndexError
        A given pair with a position out of range.
    AttentionError
        A name not in `ALIGNMENTS`, ``"positions"`` for lists of different lengths, pairs that are
        not one-to-one, or an alignment that pairs nothing.
    """
    ta, tb = list(a.tokens), list(b.tokens)
    by_default = align is None
    if align is None:
        align = "positions" if len(ta) == len(tb) else "words"
    if isinstance(align, str):
        if align not in ALIGNMENTS:
            raise AttentionError(f"align must be one of {ALIGNMENTS} or a list of (i, j) position pairs; got {align!r}")
        if align == "positions":
            if len(ta) != len(tb):
                raise AttentionError(
                    f'align="positions" needs token lists of the same length; a has {len(ta)} tokens, b has '
                    f'{len(tb)} (align="words" or "tokens" pairs the tokens they share)'
                )
            pairs = [(i, i) for i in range(len(ta))]
        elif align == "tokens":
            pairs = _matched_runs(ta, tb)
        else:
            try:
                pairs = _by_words(a, b)
            except AttentionError:
                if not by_default:
                    raise
                # Word boundaries unknown (no offsets, no token starting with a space): tokens it is.
                align, pairs = "tokens", _matched_runs(ta, tb)
        method = align
    else:
        pairs, method = _given(align, len(ta), len(tb)), "given"
    if not pairs:
        raise AttentionError(
            f'align="{method}" found no tokens of a and b to pair; pass the pairs yourself (align=[(i, j), ...])'
        )
    pairs = sorted(pairs)
    ia, jb = {i for i, _ in pairs}, {j for _, j in pairs}
    return Alignment(
        pairs=tuple(pairs),
        only_a=tuple(i for i in range(len(ta)) if i not in ia),
        only_b=tuple(j for j in range(len(tb)) if j not in jb),
        method=method,
    )
