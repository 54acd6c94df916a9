"""How arrays cross to the browser: the Python half of ``js/src/lib/decode.js``.

Arrays never cross as JSON lists. A payload is a dict whose ``data`` is bytes (ipywidgets sends
it as a binary buffer, an exported page as base64), with what the decoder needs beside it:

``{"dtype": "float16" | "float32" | "uint8", "shape": [...], "data": bytes}``
    Raw little-endian values (masks, tints, kernel tiles).

``{"coding": "log8" | "float16", "floor", "levels", "cells": "all" | "causal",
"compression": "deflate", "shape": [..., Q, K], "data": bytes}``
    Attention maps (see `code_maps`). ``log8`` is one byte per cell on log-spaced levels:
    code 0 is an exact zero, code ``k`` in ``1..levels`` is ``floor * STEP ** (k - 1)`` with
    ``STEP = (1 / floor) ** (1 / (levels - 1))`` (so code ``levels`` is 1.0), code 255 a cell with
    no value (a pooled block with no visible cell). With the defaults a coded weight is within
    ``RELATIVE_PRECISION`` (2.8%) of the true one, far finer than a colour step of a 3-decade
    log scale; weights below ``floor`` (1e-6) read as ``floor``. ``float16`` (the
    ``precision="exact"`` option) keeps three significant digits. ``cells: "causal"`` sends only
    the cells a causal mask shows (``j <= i + K - Q`` in each map), row by row.
    The bytes are deflated (zlib); the browser inflates them with ``DecompressionStream``.

The coding's constants are written here once and travel in every payload: the browser reads
``floor`` and ``levels`` from the payload, never from its own copy.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

__all__ = [
    "FLOOR",
    "LEVELS",
    "MISSING",
    "RELATIVE_PRECISION",
    "PRECISIONS",
    "array_payload",
    "code_log8",
    "decode_log8",
    "code_maps",
    "decode_maps",
    "causal_cells",
    "coded_bytes",
]

FLOOR = 1e-6
LEVELS = 254
MISSING = 255
STEP = (1.0 / FLOOR) ** (1.0 / (LEVELS - 1))
# Half a level either way, as a fraction of the value.
RELATIVE_PRECISION = math.sqrt(STEP) - 1.0
PRECISIONS = ("coded", "exact")
# zlib level 6: within 1% of level 9's size on attention codes, at a third of the time.
DEFLATE_LEVEL = 6


def array_payload(array: np.ndarray, dtype: str = "float16", **extra: Any) -> dict:
    """Wrap an array as a raw binary payload ``{"dtype", "shape", "data", **extra}``.

    Parameters
    ----------
    array : numpy.ndarray
        Any shape; stored C-contiguous in `dtype`.
    dtype : {"float16", "float32", "uint8"}
        Wire type; the browser decodes these three.
    """
    if dtype not in ("float16", "float32", "uint8"):
        raise ValueError(f"payload dtype must be float16, float32 or uint8; got {dtype!r}")
    a = np.ascontiguousarray(array, dtype=dtype)
    return {"dtype": dtype, "shape": [int(s) for s in a.shape], "data": a.tobytes(), **extra}


def code_log8(values: np.ndarray, floor: float = FLOOR, levels: int = LEVELS) -> np.ndarray:
    """Weights in [0, 1] to uint8 codes on log-spaced levels (0 exact zero, 255 NaN)."""
    v = np.asarray(values, dtype=np.float64)
    step = math.log((1.0 / floor) ** (1.0 / (levels - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.rint(1.0 + np.log(np.maximum(v, floor) / floor) / step)
    codes = np.clip(np.nan_to_num(k, nan=1.0), 1, levels).astype(np.uint8)
    codes[v <= 0] = 0
    codes[np.isnan(v)] = MISSING
    return codes


def decode_log8(codes: np.ndarray, floor: float = FLOOR, levels: int = LEVELS) -> np.ndarray:
    """The value each code stands for, float32 (the twin of decode.js's table)."""
    step = (1.0 / floor) ** (1.0 / (levels - 1))
    table = np.full(256, np.nan, dtype=np.float64)
    table[0] = 0.0
    table[1 : levels + 1] = floor * step ** np.arange(levels)
    return table.astype(np.float32)[np.asarray(codes, dtype=np.uint8)]


def causal_cells(n_query: int, n_key: int) -> np.ndarray:
    """Boolean (n_query, n_key): the cells a causal mask shows (queries are the last n_query tokens)."""
    return np.tril(np.ones((n_query, n_key), dtype=bool), k=n_key - n_query)


def code_maps(maps: np.ndarray, *, precision: str = "coded", causal: bool = False, floor: float = FLOOR) -> dict:
    """Code ``(..., Q, K)`` weights in [0, 1] (NaN: no value) as a deflated map payload.

    Parameters
    ----------
    maps : ndarray (..., Q, K)
        Attention maps, rollout rows or thumbnails.
    precision : {"coded", "exact"}
        ``"coded"``: one byte per cell on log-spaced levels (see the module docstring);
        ``"exact"``: float16.
    causal : bool
        Send only the cells a causal mask shows; the others decode as 0.
    floor : float
        Smallest coded level (the rollout, which spans nine decades, uses 1e-9: within 4.2%).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    m = np.asarray(maps)
    shape = [int(s) for s in m.shape]
    if causal:
        if m.ndim < 2:
            raise ValueError(f"causal cells need maps of shape (..., Q, K); got {tuple(m.shape)}")
        m = m[..., causal_cells(m.shape[-2], m.shape[-1])]
    if precision == "exact":
        raw = np.ascontiguousarray(m, dtype="<f2").tobytes()
        head: dict[str, Any] = {"coding": "float16"}
    else:
        raw = code_log8(m, floor).tobytes()
        head = {"coding": "log8", "floor": float(floor), "levels": LEVELS}
    return {
        **head,
        "cells": "causal" if causal else "all",
        "compression": "deflate",
        "shape": shape,
        "data": zlib.compress(raw, DEFLATE_LEVEL),
    }


def decode_maps(payload: dict) -> np.ndarray:
    """A map payload back to float32 ``shape`` (masked cells 0): what the browser draws."""
    raw = zlib.decompress(bytes(payload["data"])) if payload.get("compression") == "deflate" else bytes(payload["data"])
    shape = payload["shape"]
    if payload["coding"] == "float16":
        cells = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    elif payload["coding"] == "log8":
        cells = decode_log8(np.frombuffer(raw, dtype=np.uint8), payload["floor"], payload["levels"])
    else:
        raise ValueError(f"unknown map coding {payload['coding']!r}")
    if payload.get("cells", "all") == "all":
        return cells.reshape(shape)
    out = np.zeros(shape, dtype=np.float32)
    out[..., causal_cells(shape[-2], shape[-1])] = cells.reshape(*shape[:-2], -1)
    return out


def coded_bytes(payload: dict) -> int:
    """Bytes of a payload's data as it crosses (before base64 in an exported page)."""
    return len(payload["data"])
