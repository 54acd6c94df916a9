"""Argument checks for the public API, shared by every module.

Each check takes the argument's public name and its value, returns the value in its canonical
form (a Python ``int``, ``float``, ``list``, numpy array, ...) and raises an error whose message
names the argument, shows the value and says what was expected::

    from attnwidget import _validate as V

    def sparsity(att, mask=None, *, threshold=0.01):
        threshold = V.fraction("threshold", threshold)      # finite float in [0, 1]
        ...
    layer = V.integer("layer", layer)                      # int, not bool/float/str
    heads = V.int_list("heads", heads, low=0)              # ints, no duplicates, >= 0
    hide = V.positions("hide", hide, att.n_key)            # [-n_key, n_key), -1 the last; sorted
    fusion = V.choice("fusion", fusion, ("mean", "max", "min"))
    tokens = V.tokens("tokens", tokens, n=att.n_key)       # list of str; a bare str is refused
    mask = V.bool_mask("mask", mask, (Q, K))               # bool, or 0/1 numbers; 0.5 is refused
    a = V.probabilities("att", a, mask)                    # rows are distributions over visible keys
    title = V.text("title", title)                         # str that encodes to UTF-8
    lazy = V.flag("lazy", lazy, allow_none=True)           # True, False (or None); "yes" and 1 refused
    ids = V.token_ids("target_ids", ids, vocab=50257)      # ints in [0, vocab), 1-d or (1, n) squeezed
    w = V.layer_stack("weights", weights)                  # array, or HF's tuple of layers, stacked
    spans = V.offsets("offsets", offsets)                  # (start, end) int pairs, 0 <= start <= end
    meta = V.MetaDict(meta)                                # a dict checked as JSON on every set
    name = V.visible(att.meta["model"])                    # invisible characters as ⟨U+XXXX⟩ marks

Wrong types raise `ArgumentTypeError` (a `TypeError`), wrong values `AttentionError` (a
`ValueError`); both are `AttentionError`, so ``except aw.AttentionError`` catches either.
Booleans are never accepted as numbers (``heads=True`` is not head 1) and floats never as integers
(``layer(1.7)`` is not layer 1).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = [
    "ArgumentTypeError",
    "AttentionError",
    "AttentionIndexError",
    "show",
    "integer",
    "number",
    "fraction",
    "boolean",
    "flag",
    "choice",
    "text",
    "int_list",
    "positions",
    "offsets",
    "tokens",
    "array",
    "as_numpy",
    "token_ids",
    "layer_stack",
    "bool_mask",
    "probabilities",
    "json_value",
    "MetaDict",
    "visible",
]

# Row sums of attention computed in fp16/bf16 and stored as float32 drift by up to ~1e-3.
ROW_SUM_ATOL = 2e-3


def show(value: Any, limit: int = 60) -> str:
    """A short readable form of `value` for an error message: repr, cut, with the type for arrays."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "detach") and hasattr(value, "shape"):
        return f"a tensor of shape {tuple(value.shape)}"
    try:
        r = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real problem
        r = f"<{type(value).__name__}>"
    if len(r) > limit:
        r = r[: limit - 3] + "..."
    if not isinstance(value, (str, int, float, type(None))):
        r += f" ({type(value).__name__})"
    return r


def _type_error(name: str, value: Any, expected: str) -> ArgumentTypeError:
    return ArgumentTypeError(f"{name} must be {expected}; got {show(value)}")


def _value_error(name: str, value: Any, expected: str) -> AttentionError:
    return AttentionError(f"{name} must be {expected}; got {show(value)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An int (numpy ints included; bools, floats and strings refused) in ``[low, high]``."""
    if not _is_int(value):
        raise _type_error(name, value, "an int")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _value_error(name, value, _range("an int", low, high))
    return value


def number(name: str, value: Any, *, low: float | None = None, high: float | None = None, finite: bool = True) -> float:
    """A real number (bools and strings refused), finite unless told, in ``[low, high]``."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (numbers.Real, np.number))
        or isinstance(value, np.complexfloating)
    ):
        raise _type_error(name, value, "a number")
    value = float(value)
    if finite and not math.isfinite(value):
        raise _value_error(name, value, _range("a finite number", low, high))
    if (low is not None and value < low) or (high is not None and value > high) or math.isnan(value):
        raise _value_error(name, value, _range("a number", low, high))
    return value


def fraction(name: str, value: Any) -> float:
    """A finite number in ``[0, 1]`` (thresholds, weights of a mix, residual shares)."""
    return number(name, value, low=0.0, high=1.0)


def boolean(name: str, value: Any) -> bool:
    """True or False (numpy bools too); 0, 1, "yes" and None are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise _type_error(name, value, "True or False")
    return bool(value)


def flag(name: str, value: Any, allow_none: bool = False) -> bool | None:
    """An on/off option: True or False (numpy bools too), or None when `allow_none` (the option's
    "decide for me"); "yes", "no", 0 and 1 are refused rather than read by their truthiness
    (``bool("no")`` is True).

    Parameters
    ----------
    name : str
        The argument's public name, for messages.
    value : bool or None
        The option as given.
    allow_none : bool
        Whether None is a valid value.

    Returns
    -------
    bool or None
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        raise _type_error(name, value, "True, False or None" if allow_none else "True or False")
    return bool(value)


def token_ids(name: str, value: Any, *, vocab: int | None = None) -> list[int]:
    """Token ids as a tokenizer gives them: a list, array or tensor of ints, 1-d or ``(1, n)`` (the
    batch of one a tokenizer returns is squeezed), each in ``[0, vocab)``.

    Parameters
    ----------
    name : str
        The argument's public name, for messages.
    value : sequence of int, array or tensor
        The ids. Bools and floats are refused (a float is not truncated to an id).
    vocab : int, optional
        The vocabulary size (the model's embedding rows); None checks only ``id >= 0``.

    Returns
    -------
    list of int
        At least one id.
    """
    if value is None or isinstance(value, (str, bytes, dict, set, frozenset, bool, np.bool_)):
        raise _type_error(name, value, "a list of int token ids")
    if hasattr(value, "detach"):  # a tensor, without importing torch; its dtype is checked below
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):  # numpy would read [1, True] as two ints
        rows = value if value and all(isinstance(r, (list, tuple)) for r in value) else [value]
        for i, item in enumerate(item for row in rows for item in row):
            if isinstance(item, (bool, np.bool_)):
                raise ArgumentTypeError(f"{name} must hold int token ids; item {i} is {show(item)}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise _type_error(name, value, "a list of int token ids (a ragged list is not one)") from None
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise AttentionError(f"{name} must be 1-d or (1, n) token ids (one example); got shape {arr.shape}")
    if arr.size == 0:
        raise AttentionError(f"{name} is empty; it needs at least one token id")
    if arr.dtype.kind not in "iu":
        if arr.dtype == object:  # a list mixing ints and other things: name the first that is not an int
            bad = next(((i, v) for i, v in enumerate(arr.tolist()) if not _is_int(v)), None)
            if bad is None:
                arr = arr.astype(np.int64)
            else:
                raise ArgumentTypeError(f"{name} must hold int token ids; item {bad[0]} is {show(bad[1])}")
        else:
            first = arr.reshape(-1)[0].item()
            raise ArgumentTypeError(
                f"{name} must hold int token ids; got dtype {arr.dtype} (item 0 is {first!r}); a float "
                "is never rounded to an id"
            )
    low = np.flatnonzero(arr < 0)
    high = np.flatnonzero(arr >= vocab) if vocab is not None else np.empty(0, np.intp)
    bad_at = min([*low[:1].tolist(), *high[:1].tolist()], default=None)
    if bad_at is not None:
        within = f"[0, {vocab})" if vocab is not None else ">= 0"
        raise AttentionIndexError(
            f"{name} must hold token ids in {within} (the model's vocabulary); got {int(arr[bad_at])} "
            f"at position {bad_at}"
        )
    return [int(i) for i in arr]


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """One of the strings in `options`."""
    if not isinstance(value, str):
        raise _type_error(name, value, f"one of {tuple(options)}")
    if value not in options:
        raise _value_error(name, value, f"one of {tuple(options)}")
    return value


def text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """A str that can be written as UTF-8 (lone surrogates refused); None when `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _type_error(name, value, "a str" + (" or None" if optional else ""))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise AttentionError(
            f"{name} holds a character that is not valid text ({value[e.start]!r} at index {e.start}, "
            "a lone surrogate); expected a str that encodes to UTF-8"
        ) from None
    return value


def _sequence(name: str, value: Any, what: str) -> list:
    if isinstance(value, (str, bytes)) or isinstance(value, dict) or isinstance(value, (set, frozenset)):
        raise _type_error(name, value, f"a list of {what}")
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        if arr.ndim != 1:
            raise _value_error(name, value, f"a 1-d list of {what}")
        return arr.tolist()
    if not isinstance(value, Iterable):
        raise _type_error(name, value, f"a list of {what}")
    return list(value)


def int_list(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
    unique: bool = True,
    nonempty: bool = False,
) -> list[int]:
    """A list of ints in ``[low, high]``, without duplicates when `unique`."""
    items = _sequence(name, value, "ints")
    fast = _int_array(items)
    if fast is not None:  # long lists of plain ints: checked as one array
        bad = (fast < low) if low is not None else np.zeros(fast.shape, bool)
        if high is not None:
            bad |= fast > high
        if not bad.any():
            out = fast.tolist()
            if unique and np.unique(fast).size != fast.size:
                dup = sorted({i for i, c in zip(*np.unique(fast, return_counts=True), strict=True) if c > 1})
                raise AttentionError(
                    f"{name} must not repeat an entry; {[int(i) for i in dup]} appear more than once in {show(value)}"
                )
            if nonempty and not out:
                raise AttentionError(f"{name} must hold at least one entry; got {show(value)}")
            return out
    out = []
    for item in items:
        if not _is_int(item):
            raise ArgumentTypeError(f"{name} must be a list of ints; got {show(value)} (item {show(item)})")
        item = int(item)
        if (low is not None and item < low) or (high is not None and item > high):
            raise AttentionError(f"{name} must hold {_range('ints', low, high)}; got {item} in {show(value)}")
        out.append(item)
    if unique and len(set(out)) != len(out):
        dup = sorted({i for i in out if out.count(i) > 1})
        raise AttentionError(f"{name} must not repeat an entry; {dup} appear more than once in {show(value)}")
    if nonempty and not out:
        raise AttentionError(f"{name} must hold at least one entry; got {show(value)}")
    return out


def _int_array(items: list) -> np.ndarray | None:
    """`items` as an int64 array when every item is a (numpy) int and none is a bool; else None."""
    if len(items) < 64:
        return None
    try:
        arr = np.asarray(items)
    except (ValueError, TypeError):
        return None
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or any(isinstance(i, (bool, np.bool_)) for i in items):
        return None
    return arr.astype(np.int64, copy=False)


def positions(name: str, value: Any, n: int) -> list[int]:
    """Token positions among `n` tokens: sorted, non-negative and without duplicates.

    The one rule for token positions everywhere (`Attention.hide_tokens`, a view's ``hide``): a
    list (or set) of ints in ``[-n, n)``, a negative position counting from the end as Python's
    indexing does (``hide=[-1]`` is the last token). Repeats are harmless here and dropped.

    Parameters
    ----------
    name : str
        The argument's public name, for messages.
    value : list of int
        The positions; a set is accepted too (their order does not matter).
    n : int
        How many tokens there are.

    Returns
    -------
    list of int
        Positions in ``[0, n)``, sorted.
    """
    if isinstance(value, (set, frozenset)):
        value = list(value)
    items = _sequence(name, value, f"ints (token positions, e.g. {name}=[0])")
    for item in items:
        if not _is_int(item):
            raise ArgumentTypeError(
                f"{name} must be a list of ints ({name} must hold integer token positions); got {show(value)} "
                f"(item {show(item)})"
            )
    out = set()
    for i in map(int, items):
        if not -n <= i < n:
            raise AttentionIndexError(
                f"{name}: token position {i} is out of range for {n} tokens (expected positions in [-{n}, {n}))"
            )
        out.add(i % n)
    return sorted(out)


def offsets(name: str, value: Any) -> list[tuple[int, int]]:
    """Character spans, one ``(start, end)`` pair of ints per token with ``0 <= start <= end``.

    Parameters
    ----------
    name : str
        The argument's public name, for messages.
    value : sequence of pairs
        The spans (lists, tuples or an ``(n, 2)`` array).

    Returns
    -------
    list of (int, int)
    """
    items = _sequence(name, value, "(start, end) pairs")
    if len(items) >= 64 and all(
        type(p) in (tuple, list) and len(p) == 2 and type(p[0]) is int and type(p[1]) is int for p in items
    ):
        # Plain int pairs (type() is int leaves bools out): checked as one array; the loop below
        # names the first bad pair.
        arr = np.array(items, dtype=np.int64)
        if (arr[:, 0] >= 0).all() and (arr[:, 1] >= arr[:, 0]).all():
            return [(a, b) for a, b in items]
    out = []
    for i, pair in enumerate(items):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise ArgumentTypeError(f"{name} must be (start, end) pairs of ints; item {i} is {show(pair)}")
        pair = list(pair)
        if len(pair) != 2:
            raise AttentionError(f"{name} must be (start, end) pairs of ints; item {i} is {show(pair)}")
        a = integer(f"{name}[{i}][0]", pair[0], low=0)
        b = integer(f"{name}[{i}][1]", pair[1], low=a)
        out.append((a, b))
    return out


def as_numpy(x: Any) -> np.ndarray:
    """`x` as a numpy array; torch tensors are detached and moved to the CPU, half floats widened."""
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach()
        if str(getattr(x, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.cpu().numpy()
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ArgumentTypeError(f"expected an array of numbers; got {show(x)} ({e})") from None


def layer_stack(name: str, weights: Any) -> np.ndarray:
    """Attention weights as one numpy array: an array, or an HF-style tuple of per-layer
    ``(batch, heads, Q, K)`` (batch 1) or ``(heads, Q, K)`` tensors, stacked."""
    if weights is None or isinstance(weights, (str, bytes, dict, set)):
        raise ArgumentTypeError(
            f"{name} must be an array (layers, heads, n_query, n_key) or a tuple of per-layer "
            f"tensors; got {show(weights)}"
        )
    if isinstance(weights, (tuple, list)):
        if len(weights) == 0:
            raise AttentionError(
                "got an empty sequence of attention layers; the model returned no attention "
                "(expected one (batch, heads, n_query, n_key) tensor per layer)"
            )
        if any(w is None for w in weights):
            raise AttentionError(
                "the model returned None for some layers' attention: it exposes no attention "
                "weights (load it with attn_implementation='eager' or use aw.extract)"
            )
        layers = [as_numpy(w) for w in weights]
        if any(w.ndim != layers[0].ndim for w in layers):
            raise AttentionError("per-layer attention tensors have different ranks")
        if layers[0].ndim == 4:
            if layers[0].shape[0] != 1:
                raise AttentionError(
                    f"per-layer attention has batch size {layers[0].shape[0]}; pass one example "
                    "(use Attention.from_hf(attentions, tokens, batch_index=i))"
                )
            layers = [w[0] for w in layers]
        elif layers[0].ndim != 3:
            raise AttentionError(
                f"each layer's attention must be (batch, heads, n_query, n_key) or "
                f"(heads, n_query, n_key); got shape {layers[0].shape}"
            )
        shapes = {w.shape for w in layers}
        if len(shapes) != 1:
            raise AttentionError(f"layers have different shapes: {sorted(shapes)}")
        return np.stack(layers)
    return as_numpy(weights)


def tokens(name: str, value: Any, *, n: int | None = None) -> list[str]:
    """A list of token strings (a bare str is refused: it is not a list of tokens)."""
    if isinstance(value, str):
        raise ArgumentTypeError(
            f"{name} must be a list of str, one per token; got the single str {show(value)} "
            f"(pass list({name}) to make each character a token)"
        )
    items = _sequence(name, value, "str")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise ArgumentTypeError(f"{name} must be a list of str; item {i} is {show(t)}")
    if n is not None and len(items) != n:
        raise AttentionError(f"{name} must hold {n} tokens (one per key position); got {len(items)}")
    return items


def array(
    name: str,
    value: Any,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    floating: bool = True,
    finite: bool = True,
) -> np.ndarray:
    """A numpy array (torch tensors converted) of the given rank, floating and finite unless told."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise _type_error(name, value, "an array")
    if hasattr(value, "detach"):  # a tensor: converted the one way every check converts them
        value = as_numpy(value)
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise _type_error(name, value, "an array of numbers (a ragged list is not one)") from e
    if a.dtype == object or a.dtype.kind in "USVM":
        raise _type_error(name, value, "an array of numbers")
    if ndim is not None and a.ndim != ndim:
        raise AttentionError(f"{name} must have {ndim} dimensions; got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise AttentionError(f"{name} must have at least {min_ndim} dimensions; got shape {a.shape}")
    if floating:
        if a.dtype.kind == "c":
            raise _type_error(name, value, "a real floating-point array")
        if not np.issubdtype(a.dtype, np.floating):
            raise ArgumentTypeError(f"{name} must be a floating-point array; got dtype {a.dtype}")
    if finite and a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise AttentionError(f"{name} contains NaN or infinity (first at index {bad})")
    return a


def bool_mask(name: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A bool array; numbers are accepted only when every one is 0 or 1 (0.5 is not a mask value)."""
    m = array(name, value, floating=False, finite=False)
    if m.dtype != bool:
        if not (np.issubdtype(m.dtype, np.number) and np.all((m == 0) | (m == 1))):
            raise AttentionError(
                f"{name} must be boolean (True where the key is visible) or hold only 0 and 1; "
                f"got dtype {m.dtype} with other values"
            )
        m = m.astype(bool)
    if shape is not None and m.shape != tuple(shape):
        raise AttentionError(f"{name} must have shape {tuple(shape)}; got {m.shape}")
    return m


def probabilities(name: str, a: np.ndarray, mask: np.ndarray, *, atol: float = ROW_SUM_ATOL) -> None:
    """Check that ``a (..., Q, K)`` holds distributions: weights in [0, 1], no mass on hidden keys,
    and every query row that sees a key sums to 1 over visible keys."""
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo < -1e-6 or hi > 1 + 1e-4:
        raise AttentionError(
            f"{name} must hold probabilities in [0, 1]; got range [{lo:.4g}, {hi:.4g}] "
            "(scores before softmax? pass probabilities=False to measure them anyway)"
        )
    if not mask.all() and np.any(np.where(mask, 0, a) > 1e-4):
        raise AttentionError(
            f"{name} puts weight on keys the mask hides (future tokens or padding); pass the mask "
            "the weights were computed with"
        )
    live = mask.any(axis=-1)
    sums = np.where(mask, a, 0).sum(axis=-1, dtype=np.float64)[..., live]
    if sums.size:
        err = np.abs(sums - 1)
        if err.max() > atol:
            idx = np.unravel_index(err.argmax(), sums.shape)
            raise AttentionError(
                f"{name} rows must sum to 1 over visible keys; a row sums to {sums[idx]:.4g} "
                f"(at index {tuple(int(i) for i in idx)}). Pass probabilities=False for maps that "
                "are not distributions"
            )


def json_value(name: str, value: Any, _path: str = "") -> Any:
    """`value` as JSON-safe Python data: numpy scalars and 0-d arrays become numbers, tuples become
    lists; dict keys must be str; sets, bytes, arrays and other objects are refused."""
    where = f"{name}{_path}"
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if _is_int(value):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise AttentionError(f"{where} must be a finite number (JSON has no NaN or infinity); got {value}")
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return json_value(name, value.item(), _path)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ArgumentTypeError(f"{where} keys must be str (they are saved as JSON); got key {show(k)}")
            out[k] = json_value(name, v, f"{_path}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [json_value(name, v, f"{_path}[{i}]") for i, v in enumerate(value)]
    raise ArgumentTypeError(
        f"{where} must hold only str, numbers, bools, None, lists and dicts with str keys (it is saved "
        f"as JSON); got {show(value)}"
    )


class MetaDict(dict):
    """`Attention.meta`: a dict whose entries are checked by `json_value` (and made JSON-safe) when
    they are set, so what is held is exactly what a save and load give back.

    Parameters
    ----------
    value : dict with str keys, optional
        The entries to start with.
    """

    def __init__(self, value: Any = None):
        super().__init__()
        if value is None:
            return
        if not isinstance(value, dict):
            raise ArgumentTypeError(f"meta must be a dict with str keys; got {show(value)}")
        super().update(json_value("meta", value))

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(key, str):
            raise ArgumentTypeError(f"meta keys must be str (they are saved as JSON); got key {show(key)}")
        super().__setitem__(key, json_value("meta", value, f"[{key!r}]"))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other: Any) -> MetaDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def copy(self) -> dict:
        return dict(self)


def _range(what: str, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{what} in [{low}, {high}]"
    if low is not None:
        return f"{what} >= {low}"
    if high is not None:
        return f"{what} <= {high}"
    return what


# Letters that draw as nothing (Hangul fillers, braille blank): marked as js/src/lib/tokens.js does.
_BLANK_LETTERS = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800})


def visible(text: Any) -> str:
    """`text` with every invisible or direction-changing character shown as its ``⟨U+XXXX⟩`` mark.

    The rule the views apply to token text and names (``escapeInvisible`` / ``displayName`` in
    js/src/lib/tokens.js), for strings Python writes for people: reprs, report and table titles, a
    page's ``<title>``. Marked are control, format (bidi overrides and isolates, zero-width spaces
    and joiners), line and paragraph separator and surrogate code points, spaces other than U+0020
    and blank letters; so a right-to-left override in a model name cannot reorder the text after it.

    Parameters
    ----------
    text : str
        Untrusted text (a model name, a title, a part name); anything else is passed through str().

    Returns
    -------
    str
    """
    import unicodedata  # kept local: _validate is imported by everything, this is rarely called

    out = []
    for ch in text if isinstance(text, str) else str(text):
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Cs") or (cat == "Zs" and ch != " ") or ord(ch) in _BLANK_LETTERS:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)
