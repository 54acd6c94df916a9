"""Attention over image patches: one query's weights laid back onto the patch grid and the image.

Works on the `Attention` that ``aw.extract(model, processor, image=...)`` returns, whose
``meta["patch_grid"]`` says how the patch tokens tile the image (the tokens before them are
``[CLS]``-style prefix tokens), and on a vision-language model's, whose ``meta["image_tokens"]``
says where the image's placeholders sit in the text. Pure numpy: no torch, no widget.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionIndexError
from attnwidget.images.colormaps import SCALES, WEIGHT_MAX, scale_values

__all__ = ["patch_map", "patch_overlay"]


def _grid(att: Attention) -> tuple[int, int, np.ndarray]:
    """The patch grid ``(rows, cols)`` and the key positions of its patches, row by row."""
    if not isinstance(att, Attention):
        raise TypeError(f"expected an Attention; got {type(att).__name__}")
    grid = att.meta.get("patch_grid")
    if grid is None:
        raise ValueError(
            "this attention has no patch grid (meta['patch_grid']); extract it from a vision model with "
            "aw.extract(model, image_processor, image=...)"
        )
    rows, cols = (int(x) for x in grid)
    image_tokens = att.meta.get("image_tokens")
    if image_tokens is not None:  # a vision-language model: the image's placeholders inside the text
        if int(att.meta.get("images", 1)) != 1:
            raise ValueError(f"patch_map reads one image; this input holds {att.meta['images']}")
        # With "full" feature selection the class token comes first; the patches are the last rows x cols.
        positions = np.asarray(image_tokens, dtype=np.int64)[-rows * cols :]
        expect = [f"p({r},{c})" for r in range(rows) for c in range(cols)]
        if (
            len(positions) != rows * cols
            or positions.max(initial=-1) >= att.n_key
            or [att.tokens[p].rsplit(" ", 1)[-1] for p in positions] != expect
        ):
            raise ValueError(
                f"meta['image_tokens'] does not point at a {rows} x {cols} grid of patch tokens "
                "(were tokens merged or relabelled after extraction?)"
            )
        return rows, cols, positions
    n_prefix = att.n_key - rows * cols
    if n_prefix < 0:
        raise ValueError(f"{att.n_key} keys cannot hold a {rows} x {cols} patch grid")
    return rows, cols, np.arange(n_prefix, att.n_key)


def patch_map(
    att: Attention, query: int = 0, *, layer: int | None = None, fusion: str = "mean", rollout: bool = False
) -> np.ndarray:
    """``(rows, cols)``: how much query row `query` attends to each image patch.

    Parameters
    ----------
    att : Attention
        Attention of a vision encoder (``meta["patch_grid"]`` set).
    query : int
        Query row (0 is ``[CLS]`` for ViT, DeiT and CLIP; a patch index otherwise). For a
        vision-language model's attention (``meta["image_tokens"]``), a text position after the
        image, e.g. -1 for the last token.
    layer : int, optional
        Model layer number (default: the last held layer). Ignored with `rollout`.
    fusion : {"mean", "max", "min"}
        How heads are combined.
    rollout : bool
        Use attention rollout through every held layer (`aw.metrics.rollout`) instead of one layer.

    Notes
    -----
    Weights on the prefix tokens (and, for a vision-language model, on the text) are left out, so
    the grid sums to the query's share on patches.
    """
    rows, cols, positions = _grid(att)
    query = V.integer("query", query)  # '0' and 1.5 are not rows (int() would take them)
    rollout = V.boolean("rollout", rollout)
    if not -att.n_query <= query < att.n_query:
        raise AttentionIndexError(f"query {query} out of range for {att.n_query} query rows")
    if rollout:
        from attnwidget.metrics.flow import rollout as _rollout

        row = _rollout(att, fusion=fusion)[query]
    else:
        row = att.fuse(fusion, layer=att.layer_ids[-1] if layer is None else layer)[query]
    return np.asarray(row[positions], dtype=np.float32).reshape(rows, cols)


def _heat(v: np.ndarray) -> np.ndarray:
    """A black-red-yellow-white ramp for values in [0, 1]: ``(..., 3)`` floats in [0, 1]."""
    v = np.clip(v, 0.0, 1.0)[..., None]
    return np.clip(np.concatenate([3 * v, 3 * v - 1, 3 * v - 2], axis=-1), 0.0, 1.0)


def patch_overlay(
    image: Any, values: np.ndarray, *, alpha: float = 0.6, scale: str = "log", vmax: float | None = WEIGHT_MAX
) -> np.ndarray:
    """The image with a ``(rows, cols)`` patch map laid over it, as an ``(H, W, 3)`` uint8 array.

    Each patch's cell is tinted by its weight on a black-red-yellow-white ramp, blended with weight
    `alpha`. The ramp is anchored to absolute weight, as the views' colours are: white is weight
    `vmax` (1: all of the query's attention on that patch), so a near-uniform map (each patch
    ~1/n) stays dark red instead of washing the image white. The grid is stretched over the whole
    image: for processors that crop (CLIP's centre crop), pass the cropped image so cells line up
    with what the model saw. ``PIL.Image.fromarray(result)`` makes a picture of it.

    Parameters
    ----------
    image : array or PIL image
        ``(H, W, 3)``, ``(H, W, 4)`` or ``(H, W)``; uint8 or floats in [0, 1].
    values : array
        ``(rows, cols)`` non-negative weights, e.g. from `patch_map`.
    alpha : float
        Weight of the tint, in [0, 1].
    scale : {"log", "linear", "power"}
        As the views (`aw.images.colormaps.scale_values`): "log" spans three decades below `vmax`
        (1e-3 to 1 by default; smaller weights are black).
    vmax : float or None
        The weight drawn white (default 1). None scales the map to its own largest value, which
        draws the strongest patch white however weak it is.
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] not in (3, 4) or min(img.shape[:2]) == 0:
        raise ValueError(f"image must be (H, W, 3) or a PIL image; got an array of shape {img.shape}")
    img = img[..., :3].astype(np.float32)
    if img.max(initial=0) > 1.0:
        img = img / 255.0
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or not np.all(np.isfinite(values)) or values.min(initial=0) < 0:
        raise ValueError(f"values must be a (rows, cols) array of non-negative weights; got shape {values.shape}")
    if not isinstance(alpha, (int, float, np.integer, np.floating)) or isinstance(alpha, (bool, np.bool_)):
        raise V.ArgumentTypeError(f"alpha must be a number in [0, 1]; got {V.show(alpha)}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}; got {V.show(scale)}")
    if vmax is not None:
        if not isinstance(vmax, (int, float, np.integer, np.floating)) or isinstance(vmax, (bool, np.bool_)):
            raise V.ArgumentTypeError(f"vmax must be a positive number or None; got {V.show(vmax)}")
        if not (np.isfinite(vmax) and vmax > 0):
            raise ValueError(f"vmax must be a positive number or None; got {vmax}")
        vmax = float(vmax)
    scaled = scale_values(values, scale, vmax=vmax)
    h, w = img.shape[:2]
    r_idx = np.minimum(np.arange(h) * values.shape[0] // h, values.shape[0] - 1)
    c_idx = np.minimum(np.arange(w) * values.shape[1] // w, values.shape[1] - 1)
    heat = _heat(scaled[r_idx][:, c_idx])
    out = (1 - alpha) * img + alpha * heat
    return np.round(out * 255).astype(np.uint8)
