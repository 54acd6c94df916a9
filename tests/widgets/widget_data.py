"""Helpers for widget tests: small real attentions and the browser's way of reading payloads."""

from __future__ import annotations

import numpy as np
from ipywidgets.widgets.widget import _put_buffers, _remove_buffers

import attnwidget as aw


def words(n: int) -> str:
    """In-vocabulary text for the tiny word-level tokenizer."""
    return " ".join(f"w{(i * 7) % 90}" for i in range(n))


def tiny_attention(model, tokenizer, n: int = 12) -> aw.Attention:
    return aw.extract(model, tokenizer, words(n))


def decode(p: dict) -> np.ndarray:
    """Decode a payload as decode.js does: raw little-endian bytes in the stated dtype and shape."""
    dtype = {"float16": "<f2", "float32": "<f4", "uint8": "u1"}[p["dtype"]]
    a = np.frombuffer(bytes(p["data"]), dtype=dtype).reshape(p["shape"]).astype(np.float32)
    if p.get("encoding") == "sqrt":
        scale = np.asarray(p["scale"], dtype=np.float32).reshape(p["scale_shape"] + [1, 1])
        a = scale * (a / 255.0) ** 2
    return a


def over_the_wire(widget) -> dict:
    """The state as the frontend receives it: buffers split out (never JSON lists), then put back."""
    state = widget.get_state()
    state, paths, buffers = _remove_buffers(state)
    assert all(isinstance(b, (bytes, memoryview, bytearray)) for b in buffers)
    _put_buffers(state, paths, buffers)
    return state
