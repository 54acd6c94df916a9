"""Colour maps and scales in Python, the same tables and formulas as the views' `js/src/lib/colormap.js`.

`tests/images/test_png.py` runs the JS module in node and checks that its 256-entry tables and scale
values equal these, so a static image and a view of the same map show the same colours.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ANCHORS", "COLORMAPS", "SCALES", "LOG_DECADES", "DEFAULT_GAMMA", "WEIGHT_MAX", "lut", "scale_values"]

# Anchor colours sampled evenly along each map, interpolated linearly in RGB.
ANCHORS = {
    "viridis": ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"],
    "cividis": [
        "#00224e",
        "#123570",
        "#3b496c",
        "#575d6d",
        "#707173",
        "#8a8678",
        "#a59c74",
        "#c3b369",
        "#e1cc55",
        "#fee838",
    ],
    "magma": ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"],
    "greys": ["#ffffff", "#000000"],
}
COLORMAPS = tuple(ANCHORS)
SCALES = ("linear", "log", "power")
# Decades shown by the log scale below its maximum.
LOG_DECADES = 3
DEFAULT_GAMMA = 0.4
# The weight at the top of every colour map (js/src/lib/weightscale.js WEIGHT_MAX): all of a row's
# attention on one token. Anchoring to it, not to a map's own maximum, keeps a near-uniform map
# (weights ~1/n) low on the colour map instead of in the colour of maximal attention.
WEIGHT_MAX = 1.0
# Masked (future or padding) cells: the page grey the views paint.
MASKED_RGB = (246, 248, 250)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    v = int(hex_colour[1:], 16)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def lut(name: str) -> np.ndarray:
    """``(256, 3)`` uint8 lookup table of a colour map."""
    if name not in ANCHORS:
        raise ValueError(f"unknown colour map {name!r}; expected one of {', '.join(COLORMAPS)}")
    anchors = np.array([_rgb(h) for h in ANCHORS[name]], dtype=np.float64)
    x = np.arange(256) / 255 * (len(anchors) - 1)
    j = np.minimum(len(anchors) - 2, np.floor(x).astype(int))
    f = (x - j)[:, None]
    mixed = anchors[j] * (1 - f) + anchors[j + 1] * f
    # JS Math.round rounds halves up; np.round would round them to even.
    return np.floor(mixed + 0.5).astype(np.uint8)


def scale_values(
    values: np.ndarray,
    kind: str,
    *,
    vmax: float | None = WEIGHT_MAX,
    vmin: float | None = None,
    gamma: float = DEFAULT_GAMMA,
) -> np.ndarray:
    """Map weights to [0, 1] as the views' `makeScale` does ("linear", "log", "power").

    ``vmax`` defaults to absolute weight 1 (`WEIGHT_MAX`, as the views); ``vmax=None`` runs to the
    largest finite value instead (1 when none is positive). The log scale covers `LOG_DECADES` decades below ``vmax``,
    and anything at or below its bottom maps to 0.
    """
    if kind not in SCALES:
        raise ValueError(f"unknown scale {kind!r}; expected one of {', '.join(SCALES)}")
    v = np.asarray(values, dtype=np.float64)
    if vmax is None:
        finite = v[np.isfinite(v)]
        vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    if not (np.isfinite(vmax) and vmax > 0):
        vmax = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "log":
            lo = vmin if vmin is not None and 0 < vmin < vmax else vmax / 10**LOG_DECADES
            a, span = np.log10(lo), np.log10(vmax) - np.log10(lo)
            t = np.where(v > lo, np.minimum(1.0, (np.log10(np.where(v > lo, v, 1.0)) - a) / span), 0.0)
        else:
            lo = vmin if vmin is not None and vmin < vmax else 0.0
            t = np.clip((v - lo) / (vmax - lo), 0.0, 1.0)
            t = np.where(np.isnan(t), 0.0, t)
            if kind == "power":
                if not gamma > 0:
                    raise ValueError(f"power scale needs gamma > 0; got {gamma}")
                t = t**gamma
    return np.where(np.isnan(t), 0.0, t)
