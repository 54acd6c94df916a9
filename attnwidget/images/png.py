"""Static PNG images of attention maps from Python, without a browser or matplotlib.

The colours come from `attnwidget.images.colormaps`, the same tables and scales the views draw with, and
the PNG is written with zlib (8-bit RGB, one filter byte per row).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.core import HEAD_FUSIONS, Attention
from attnwidget.errors import AttentionError
from attnwidget.images.colormaps import COLORMAPS, DEFAULT_GAMMA, MASKED_RGB, SCALES, lut, scale_values

__all__ = ["save_image", "image_array", "write_png", "text_mask"]

# Smallest side in pixels a saved map is scaled up to (each cell a square of whole pixels).
MIN_SIDE = 256
MAX_CELL = 16
GAP = 2  # pixels between heads in a grid
INK = (40, 40, 40)  # label colour on the white band above each head of a grid

# A 3x5 bitmap font for the grid's labels ("L3 H7"): there is no font library to draw text with.
GLYPHS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "L": ("100", "100", "100", "100", "111"),
    "H": ("101", "101", "111", "101", "101"),
    " ": ("000", "000", "000", "000", "000"),
}


def text_mask(text: str, size: int = 1) -> np.ndarray:
    """``(5 * size, width)`` bool pixels of `text` in the bitmap font (digits, "L", "H", space),
    one blank column between characters."""
    cols = []
    for k, ch in enumerate(text):
        if ch not in GLYPHS:
            raise ValueError(f"the label font has no {ch!r}; it draws {''.join(GLYPHS)}")
        if k:
            cols.append(np.zeros((5, 1), bool))
        cols.append(np.array([[c == "1" for c in row] for row in GLYPHS[ch]]))
    glyphs = np.concatenate(cols, axis=1)
    return np.repeat(np.repeat(glyphs, size, 0), size, 1)


def _png_path(path: Any) -> Path:
    """`path` as a Path ending in ``.png``: PNG bytes under another suffix (.jpg) mislead every reader."""
    if not isinstance(path, (str, Path)):
        raise V.ArgumentTypeError(f"path must be a str or Path ending in .png; got {V.show(path)}")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise AttentionError(
            f"path must end in .png (the file written is a PNG image); got {str(path)!r} with suffix "
            f"{path.suffix or 'none'!r}. Name it {path.with_suffix('.png').name!r}"
        )
    return path


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an ``(height, width, 3)`` uint8 array as a PNG file (`path` must end in ``.png``)."""
    path = _png_path(path)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or min(rgb.shape[:2]) < 1:
        raise ValueError(f"write_png takes a (height, width, 3) uint8 array; got {rgb.dtype} {rgb.shape}")
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)
    return path


def _colour(map_: np.ndarray, mask: np.ndarray, colormap: str, scale: str, gamma: float) -> np.ndarray:
    """``(Q, K, 3)`` colours of one map: visible cells through the scale and table, masked cells grey."""
    values = np.where(mask, map_, np.nan)
    t = scale_values(values, scale, gamma=gamma)
    idx = np.floor(t * 255 + 0.5).astype(int)  # Math.round(scale(v) * 255) in the views
    rgb = lut(colormap)[idx]
    rgb[~mask] = MASKED_RGB
    return rgb


def image_array(
    att: Attention,
    layer: int | None = None,
    head: Any = None,
    *,
    fusion: str = "mean",
    colormap: str = "viridis",
    scale: str = "log",
    gamma: float = DEFAULT_GAMMA,
    cell: int | None = None,
) -> np.ndarray:
    """The ``(height, width, 3)`` uint8 image `save_image` writes (see there for the parameters)."""
    if not isinstance(att, Attention):
        raise V.ArgumentTypeError(f"save_image takes an aw.Attention; got {type(att).__name__}")
    if colormap not in COLORMAPS:
        raise AttentionError(f"unknown colormap {colormap!r}; expected one of {', '.join(COLORMAPS)}")
    if scale not in SCALES:
        raise AttentionError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if fusion not in HEAD_FUSIONS:
        raise AttentionError(f"unknown fusion {fusion!r}; expected one of {', '.join(HEAD_FUSIONS)}")
    if layer is None:
        if att.num_layers != 1:
            raise AttentionError(f"pass layer=: this attention holds layers {att.layer_ids}")
        layer = att.layer_ids[0]
    layer = V.integer("layer", layer)  # '3' and 1.0 are not layer numbers
    if layer not in att.layer_ids:
        raise AttentionError(f"layer {layer!r} is not held; this attention holds layers {att.layer_ids}")
    if head is None:
        maps = [att.fuse(fusion, layer=layer)]
    elif isinstance(head, str) and head == "all":
        maps = list(att.rows(layer, 0, att.n_query))
    elif isinstance(head, (int, np.integer)) and not isinstance(head, (bool, np.bool_)):
        if head not in att.head_ids:
            raise AttentionError(f"head {head!r} is not held; this attention holds heads {att.head_ids}")
        maps = [att.head(layer, int(head))]
    else:
        raise V.ArgumentTypeError(
            f"head must be a head number, None (heads fused) or 'all' (a grid); got {V.show(head)}"
        )
    Q, K = att.n_query, att.n_key
    if cell is None:
        cell = int(min(MAX_CELL, max(1, -(-MIN_SIDE // max(Q, K)))))
    if not isinstance(cell, (int, np.integer)) or isinstance(cell, (bool, np.bool_)) or cell < 1:
        raise AttentionError(f"cell must be a positive int (pixels per weight); got {cell!r}")
    tiles = [np.repeat(np.repeat(_colour(m, att.mask, colormap, scale, gamma), cell, 0), cell, 1) for m in maps]
    if len(tiles) == 1:
        return tiles[0]
    cols = int(np.ceil(np.sqrt(len(tiles))))
    rows = int(np.ceil(len(tiles) / cols))
    th, tw = tiles[0].shape[:2]
    size = 1 if tw < 96 else 2
    labels = [text_mask(f"L{layer} H{h}", size) for h in att.head_ids]
    band = 5 * size + 2 * size  # the label's rows and a margin above and below
    cw = max(tw, max(m.shape[1] for m in labels))  # a label wider than its map widens the column
    ch = band + th
    out = np.full((rows * ch + (rows - 1) * GAP, cols * cw + (cols - 1) * GAP, 3), 255, np.uint8)
    for k, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        r, c = divmod(k, cols)
        y, x = r * (ch + GAP), c * (cw + GAP)
        out[y + size : y + size + label.shape[0], x : x + label.shape[1]][label] = INK
        out[y + band : y + band + th, x : x + tw] = tile
    return out


def save_image(
    att: Attention,
    path: str | Path,
    layer: int | None = None,
    head: Any = None,
    *,
    fusion: str = "mean",
    colormap: str = "viridis",
    scale: str = "log",
    gamma: float = DEFAULT_GAMMA,
    cell: int | None = None,
) -> Path:
    """Save one attention map (or a grid of every head) as a PNG, coloured as the views colour it.

    Parameters
    ----------
    att : Attention
    path : str or Path
        The file to write; it must end in ``.png`` (any other suffix is refused, not rewritten).
    layer : int, optional
        A model layer number (required when `att` holds several layers).
    head : int, None or "all"
        One head; None for the heads fused with `fusion`; "all" for a grid of every held head, in
        head order, left to right and top to bottom, each under a small label "L<layer> H<head>"
        (model numbers) drawn in a built-in bitmap font.
    colormap, scale, gamma
        As the views: colour maps "viridis", "cividis", "magma", "greys"; scales "log" (three
        decades below weight 1, the views' default), "linear", "power". Colours are anchored to
        absolute weight, as in the views: the top colour is weight 1 (all of a row on one token),
        not each map's own largest weight, so a near-uniform map is drawn low on the colour map.
        Masked cells (a causal model's future) are grey.
    cell : int, optional
        Pixels per weight (default: enough for a side of at least 256 pixels, at most 16).

    Returns
    -------
    Path
        The written file. Rows are query tokens (top to bottom), columns key tokens.
    """
    path = _png_path(path)  # before the picture is drawn: a wrong name costs nothing
    return write_png(
        path, image_array(att, layer, head, fusion=fusion, colormap=colormap, scale=scale, gamma=gamma, cell=cell)
    )
