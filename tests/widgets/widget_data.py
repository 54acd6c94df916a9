"""Helpers for widget tests: small real attentions and the browser's way of reading payloads."""

from __future__ import annotations

import numpy as np
from ipywidgets.widgets.widget import _put_buffers, _remove_buffers

import attnwidget as aw
from attnwidget.widgets.payload import decode_maps


def words(n: int) -> str:
    """In-vocabulary text for the tiny word-level tokenizer."""
    return " ".join(f"w{(i * 7) % 90}" for i in range(n))


def tiny_attention(model, tokenizer, n: int = 12) -> aw.Attention:
    return aw.extract(model, tokenizer, words(n))


def decode(p: dict) -> np.ndarray:
    """Decode a payload as decode.js does: coded maps (``widgets/payload.py``), or raw little-endian
    bytes in the stated dtype and shape."""
    if "coding" in p:
        return decode_maps(p)
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


def held(view) -> dict[str, np.ndarray]:
    """The maps a view's shared data model holds, decoded as the browser does, by key."""
    state = over_the_wire(view.data)["_maps"]
    return {k: decode(p) for k, p in zip(state["keys"], state["maps"])}


def assert_coded(got: np.ndarray, want: np.ndarray, floor: float | None = None) -> None:
    """`got` is `want` as log8 codes read it: within half a level (the stated precision), zeros
    exact, weights below the floor at the floor."""
    from attnwidget.widgets.payload import FLOOR, LEVELS

    floor = FLOOR if floor is None else floor
    precision = np.sqrt((1 / floor) ** (1 / (LEVELS - 1))) - 1
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_allclose(got, np.where(want > 0, np.maximum(want, floor), 0.0), rtol=precision * 1.001, atol=1e-9)
    assert np.all((np.asarray(got) == 0) == (want == 0))
