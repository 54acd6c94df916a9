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
    """Attention of a tiny random-weight model, for tests that need a model's own output."""
    return aw.extract(model, tokenizer, words(n))


def synthetic_attention(n: int = 12, layers: int = 3, heads: int = 8, kv_heads: int = 2, seed: int = 0) -> aw.Attention:
    """A causal attention built in numpy (no torch), shaped like the tiny Llama's: random logits
    plus the patterns views must show apart, a first-token sink in every other head and a
    previous-token head per layer. Views never import torch, so their tests need no model."""
    rng = np.random.default_rng(seed)
    q = np.arange(n)[:, None]
    k = np.arange(n)[None, :]
    logits = rng.normal(0.0, 1.5, (layers, heads, n, n))
    logits[:, ::2, :, 0] += 3.0  # sink heads
    logits[:, 1] += np.where(k == q - 1, 6.0, 0.0)  # previous-token head
    logits = np.where(k <= q, logits, -np.inf)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    w = (w / w.sum(-1, keepdims=True)).astype(np.float32)
    text = words(n)
    tokens = text.split(" ")
    starts = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]])
    return aw.Attention(
        w,
        tokens,
        num_kv_heads=kv_heads,
        token_ids=[(i * 7) % 90 for i in range(n)],
        offsets=[(int(s), int(s) + len(t)) for s, t in zip(starts, tokens)],
        text=text,
        meta={"model": "synthetic", "method": "numpy"},
    )


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


def drawn_thumbnails(grid, alt: bool = False) -> np.ndarray:
    """The head grid's thumbnails as the browser draws them: those that crossed in ``_thumbs``
    (``_thumbs_alt`` with `alt`), and the heads listed in ``_thumb_maps`` pooled from the shared
    data model's maps with that set's hiding applied (keys removed, rows renormalised)."""
    from attnwidget.attention.arrays import hidden_keys_mask
    from attnwidget.attention.core import max_pool, renormalize

    state = over_the_wire(grid)
    thumbs = decode(state["_thumbs_alt" if alt else "_thumbs"]).copy()
    hide = state["_thumbs_alt_hide" if alt else "_thumbs_hide"]
    att = grid.attention
    maps = held(grid) if state["_thumb_maps"] else {}
    for key in state["_thumb_maps"]:
        layer, head = (int(x) for x in key.split("/"))
        m = maps[key]
        if hide:
            m = renormalize(m, hidden_keys_mask(att.mask, hide))
        thumbs[att.layer_ids.index(layer), att.head_ids.index(head)] = max_pool(m, state["_pool"])
    return thumbs


def assert_coded(got: np.ndarray, want: np.ndarray, floor: float | None = None) -> None:
    """`got` is `want` as log8 codes read it: within half a level (the stated precision), zeros
    exact, weights below the floor at the floor."""
    from attnwidget.widgets.payload import FLOOR, LEVELS

    floor = FLOOR if floor is None else floor
    precision = np.sqrt((1 / floor) ** (1 / (LEVELS - 1))) - 1
    want = np.asarray(want, dtype=np.float64)
    np.testing.assert_allclose(got, np.where(want > 0, np.maximum(want, floor), 0.0), rtol=precision * 1.001, atol=1e-9)
    assert np.all((np.asarray(got) == 0) == (want == 0))
