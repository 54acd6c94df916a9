"""How arrays cross to the browser: the Python half of ``js/src/lib/decode.js``.

Arrays never cross as JSON lists. A payload is a dict whose ``data`` is bytes (ipywidgets sends
it as a binary buffer, an exported page as base64), with what the decoder needs beside it:

``{"dtype": "float16" | "float32" | "uint8", "shape": [...], "data": bytes}``
    Raw little-endian values (masks, tints, kernel tiles).

``{"coding": "log8" | "float16", "floor", "levels", "cells": "all" | "causal",
"compression": "deflate-raw", "shape": [..., Q, K], "data": bytes}``
    Attention maps (see `code_maps`). ``log8`` is one byte per cell on log-spaced levels:
    code 0 is an exact zero, code ``k`` in ``1..levels`` is ``floor * STEP ** (k - 1)`` with
    ``STEP = (1 / floor) ** (1 / (levels - 1))`` (so code ``levels`` is 1.0), code 255 a cell with
    no value (a pooled block with no visible cell). With the defaults a coded weight is within
    ``RELATIVE_PRECISION`` (2.8%) of the true one, far finer than a colour step of a 3-decade
    log scale; weights below ``floor`` (1e-6) read as ``floor``. ``float16`` (the
    ``precision="exact"`` option) keeps three significant digits. ``cells: "causal"`` sends only
    the cells a causal mask shows (``j <= i + K - Q`` in each map), row by row.
    The bytes are a raw deflate stream (RFC 1951, no zlib header) that ends in a sync flush
    (``00 00 ff ff``) and then an empty final block (``03 00``). Each payload inflates alone, and
    the browser joins many into one stream (each without its last two bytes, then ``03 00``) and
    inflates them with one ``DecompressionStream``: a data model's hundreds of small maps cost one
    inflate, not hundreds of a few milliseconds each. Payloads with ``"compression": "deflate"``
    (zlib, as earlier versions wrote) still decode.

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
    "deflate_joinable",
    "inflate",
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
# How a joinable raw deflate stream ends: a sync flush's empty stored block, then an empty final block.
JOINABLE_END = b"\x00\x00\xff\xff\x03\x00"


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


def deflate_joinable(raw: bytes) -> bytes:
    """`raw` as a raw deflate stream that ends in a sync flush and an empty final block.

    Each stream is compressed on its own (no reference reaches before its start) and ends byte
    aligned, so streams join: all but their last two bytes (the final block), one after another,
    then ``03 00``, inflate to the raws one after another.
    """
    c = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
    out = c.compress(raw) + c.flush(zlib.Z_SYNC_FLUSH) + c.flush(zlib.Z_FINISH)
    if not out.endswith(JOINABLE_END):  # zlib has always ended a flushed stream so; the browser relies on it
        raise RuntimeError("zlib ended a sync-flushed stream other than with an empty final block")
    return out


def inflate(payload: dict) -> bytes:
    """The inflated bytes of a payload's data (``compression`` ``"deflate-raw"``, ``"deflate"`` or none)."""
    data, compression = bytes(payload["data"]), payload.get("compression")
    if compression == "deflate-raw":
        return zlib.decompress(data, -15)
    if compression == "deflate":
        return zlib.decompress(data)
    if compression:
        raise ValueError(f"unknown compression {compression!r}")
    return data


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
    """Code ``(..., Q, K)`` weights in [0, 1] (NaN: no value) as a deflated, joinable map payload.

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
        "compression": "deflate-raw",
        "shape": shape,
        "data": deflate_joinable(raw),
    }


def decode_maps(payload: dict) -> np.ndarray:
    """A map payload back to float32 ``shape`` (masked cells 0): what the browser draws."""
    raw = inflate(payload)
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
