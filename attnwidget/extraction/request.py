"""What was asked of an extraction: one `Request` carrying every option of `extract`.

A plan reads the model and its inputs; the request says which layers and heads to keep, by which
method, how the weights are held and checked, and what they measure. A new option of `extract`
is one field here, read where it matters, not a parameter threaded through every plan.
The checks of the options that need the model (layer and head numbers against its config, the
size of the result against the memory this machine can spare) live here too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = ["Request", "check_selection", "METHODS", "MEASURES", "FLOAT32"]

METHODS = ("auto", "capture", "eager")
MEASURES = ("weights", "norms")
FLOAT32 = np.dtype(np.float32)


def check_selection(name: str, sel: Any, limit: int | None) -> list[int] | None:
    """`sel` (an int, a list of ints, or None for all) as sorted distinct numbers below `limit`.

    Negative numbers count from the end, which needs `limit`; `name` is "layers" or "heads".
    """
    if sel is None:
        return None
    if isinstance(sel, (int, np.integer)) and not isinstance(sel, (bool, np.bool_)):
        sel = [sel]
    if isinstance(sel, (str, bytes, bool, np.bool_)) or not hasattr(sel, "__iter__"):
        raise ArgumentTypeError(f"{name} must be a list of ints; got {sel!r}")
    out = []
    for i in sel:
        if not isinstance(i, (int, np.integer)) or isinstance(i, (bool, np.bool_)):
            raise ArgumentTypeError(f"{name} must be a list of ints; got {sel!r}")
        i = int(i)
        if limit is not None:
            if i < 0:
                i += limit
            if not 0 <= i < limit:
                raise AttentionIndexError(f"{name[:-1]} {i} out of range: the model has {limit} {name}")
        elif i < 0:
            raise AttentionIndexError(f"{name[:-1]} {i}: negative numbers need a model whose config gives its {name}")
        out.append(i)
    if not out:
        raise AttentionError(f"{name} is empty; pass None for all {name}")
    if len(set(out)) != len(out):
        raise AttentionError(f"{name} names the same {name[:-1]} twice: {sel!r}")
    return sorted(set(out))


@dataclass(frozen=True)
class Request:
    """The options of one extraction, as `extract` (or `generate`) was given them.

    Attributes
    ----------
    layers, heads : list of int, optional
        Layer and head numbers to keep (None: all). As given until `select` checks them against
        the model; after it, sorted distinct numbers.
    method : {"auto", "capture", "eager"}
        The path to the weights (see `attnwidget.extraction.run`).
    lazy : bool
        Keep captured queries and keys and compute maps on demand.
    check : bool
        Self-check the capture against the model's attention output.
    measure : {"weights", "norms"}
        Attention weights, or value-weighted norm maps (`attnwidget.extraction.norms`).
    dtype : numpy dtype
        How the weights are held (float32 or float16).
    budget : int, optional
        Bytes a full (not lazy) result may take; None: no limit is checked.
    """

    layers: Any = None
    heads: Any = None
    method: str = "auto"
    lazy: bool = False
    check: bool = True
    measure: str = "weights"
    dtype: np.dtype = FLOAT32
    budget: int | None = None

    def select(self, n_layers: int | None, n_heads: int | None) -> Request:
        """The request with `layers` and `heads` checked against the model's counts (None: the
        config does not say, so only non-negative numbers pass; the run checks them later)."""
        return replace(
            self,
            layers=check_selection("layers", self.layers, n_layers),
            heads=check_selection("heads", self.heads, n_heads),
        )

    def counts(self, n_layers: int | None, n_heads: int | None) -> tuple[int | None, int | None]:
        """How many layers and heads the result holds, given the model's counts."""
        return (
            len(self.layers) if self.layers is not None else n_layers,
            len(self.heads) if self.heads is not None else n_heads,
        )

    def guard(self, n_layers: int | None, n_heads: int | None, n_query: int, n_key: int) -> None:
        """Refuse a full extraction that cannot fit, before the model allocates anything.

        `n_layers` and `n_heads` are the model's counts; the selection is applied here.
        """
        L, H = self.counts(n_layers, n_heads)
        if self.lazy or self.budget is None or not L or not H:
            return
        nbytes = L * H * n_query * n_key * self.dtype.itemsize
        if nbytes > self.budget:
            raise MemoryError(
                f"all weights of {L} layers x {H} heads x {n_query} x {n_key} tokens take "
                f"{nbytes / 2**30:.1f} GiB as {self.dtype.name}, over the {self.budget / 2**30:.1f} GiB this "
                "machine can spare; pass lazy=True (maps are computed on demand, the same accessors work), "
                "or layers=[...] / heads=[...] for fewer maps"
            )
