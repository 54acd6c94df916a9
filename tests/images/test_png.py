"""Static PNG images: the colours equal the views' tables (checked by running the JS in node), the
file decodes to the map it was given, and bad arguments are refused by name."""

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.images import colormaps as C
from attnwidget.images import png as I
from attnwidget.images.png import image_array

JS_COLORMAP = Path(__file__).resolve().parents[2] / "js" / "src" / "lib" / "colormap.js"
JS_WEIGHTSCALE = JS_COLORMAP.with_name("weightscale.js")


def read_png(path):
    """Decode an 8-bit RGB, filter-0 PNG independently of the writer: chunks, CRCs, rows."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n : pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, colour = header[:4]
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 3)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the JS colour maps")
def test_python_tables_and_scales_equal_the_views_js():
    values = [0, 1e-6, 1e-4, 0.0005, 0.001, 0.003, 0.01, 0.05, 0.2, 0.5, 0.77, 1.0]
    script = f"""
    import * as cm from {json.dumps(JS_COLORMAP.as_uri())};
    import * as ws from {json.dumps(JS_WEIGHTSCALE.as_uri())};
    const out = {{maps: {{}}, names: cm.COLORMAPS, scales: cm.SCALES, decades: cm.LOG_DECADES, t: {{}}}};
    for (const name of cm.COLORMAPS) out.maps[name] = Array.from(cm.lut(name));
    for (const kind of cm.SCALES) {{
      for (const vmax of [1, 0.8]) out.t[kind + vmax] = {json.dumps(values)}.map(cm.makeScale(kind, {{vmax, gamma: 0.4}}));
      // The views' default: anchored to absolute weight 1 whatever the data's maximum (0.3 here).
      out.t[kind + "views"] = {json.dumps(values[:9])}.map(ws.weightScale(kind, {{dataMax: 0.3, gamma: 0.4}}));
    }}
    console.log(JSON.stringify(out));
    """
    res = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    js = json.loads(res.stdout)
    assert tuple(js["names"]) == C.COLORMAPS and tuple(js["scales"]) == C.SCALES
    assert js["decades"] == C.LOG_DECADES
    for name in C.COLORMAPS:
        np.testing.assert_array_equal(np.array(js["maps"][name]).reshape(256, 3), C.lut(name), err_msg=name)
    for kind in C.SCALES:
        for vmax in (1, 0.8):
            np.testing.assert_allclose(
                C.scale_values(values, kind, vmax=vmax, gamma=0.4),
                js["t"][f"{kind}{vmax}"],
                rtol=1e-12,
                atol=1e-15,
                err_msg=f"{kind} vmax {vmax}",
            )
        # Both default to absolute weight: a map whose largest weight is 0.3 is not stretched to the top.
        default = C.scale_values(values[:9], kind, gamma=0.4)
        np.testing.assert_allclose(default, js["t"][f"{kind}views"], rtol=1e-12, atol=1e-15, err_msg=kind)
        assert default.max() < 1


def two_heads():
    n = 4
    first = np.zeros((n, n))
    first[:, 0] = 1
    uni = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    w = np.stack([np.stack([first, uni]), np.stack([uni, first])]).astype(np.float32)
    return aw.Attention(w, ["a", "b", "c", "d"])


def test_save_image_writes_the_map_in_the_views_colours(tmp_path):
    att = two_heads()
    path = aw.images.save_image(att, tmp_path / "layer1.png", layer=1, head=0, scale="linear", cell=3)
    img = read_png(path)
    assert img.shape == (12, 12, 3)
    table = C.lut("viridis")
    u = att.head(1, 0)
    for i in range(4):
        for j in range(4):
            cell = img[3 * i : 3 * i + 3, 3 * j : 3 * j + 3].reshape(-1, 3)
            assert (cell == cell[0]).all()
            if j > i:  # the future of a causal model is masked: page grey
                assert tuple(cell[0]) == C.MASKED_RGB
            else:
                assert tuple(cell[0]) == tuple(table[int(np.floor(u[i, j] / u.max() * 255 + 0.5))])
    assert tuple(img[0, 0]) == tuple(table[255]) and tuple(img[-1, -1]) == tuple(table[int(0.25 * 255 + 0.5)])
    # Heads fused with the mean by default; the log scale spans three decades below the maximum.
    fused = read_png(aw.images.save_image(att, tmp_path / "mean.png", layer=0, cell=1))
    mean = (att.head(0, 0) + att.head(0, 1)) / 2
    t = np.log10(mean[3, 1] / mean.max() * 1e3) / 3
    assert tuple(fused[3, 1]) == tuple(table[int(np.floor(t * 255 + 0.5))])
    magma = read_png(
        aw.images.save_image(att, tmp_path / "m.png", layer=0, head=1, colormap="magma", scale="power", cell=1)
    )
    assert tuple(magma[1, 1]) == tuple(C.lut("magma")[int(np.floor((0.5**0.4) * 255 + 0.5))])


def test_grid_of_all_heads(tmp_path):
    att = two_heads()
    grid = read_png(aw.images.save_image(att, tmp_path / "grid.png", layer=0, head="all", cell=2))
    # Each head sits under a 7-pixel band holding its label "L0 H<h>" (5 glyphs of 3 pixels and 4
    # blank columns: 19 pixels, wider than the 8-pixel map, so each column is 19 wide).
    band, col = 7, 19
    assert grid.shape == (band + 8, col + 2 + col, 3)  # two heads side by side, two white columns between
    table = C.lut("viridis")
    # Head 0 puts everything on the first token: that column is the top colour, the rest of the
    # visible cells the bottom one (log scale: 0 is below its range), the future grey.
    for i in range(4):
        for j in range(4):
            want = table[255] if j == 0 else C.MASKED_RGB if j > i else table[0]
            assert tuple(grid[band + 2 * i, 2 * j]) == tuple(want)
    # Head 1 (uniform) on the right, scaled to its own maximum 1 (row 0): row 1 is 0.5, 0.5.
    half = table[int(np.floor(np.log10(0.5 * 1e3) / 3 * 255 + 0.5))]
    x1 = col + 2
    assert tuple(grid[band + 2, x1]) == tuple(grid[band + 2, x1 + 2]) == tuple(half)
    assert (grid[:, col:x1] == 255).all()
    # The labels: ink only in the band, shaped as L, 0, blank, H, then the head number.
    ink = (grid[:band] == I.INK).all(axis=-1)
    assert not ink[0].any() and not ink[band - 1].any()
    L = ink[1:6, 0:3]
    assert L[:, 0].all() and L[4].all() and not L[:4, 1:].any()  # "L": a stem and a foot
    assert not ink[1:6, 8:11].any()  # the space between "L0" and "H"
    H = ink[1:6, 12:15]
    assert H[:, 0].all() and H[:, 2].all() and H[2].all() and not H[[0, 1, 3, 4], 1].any()
    one = ink[1:6, x1 + 16 : x1 + 19]  # head 1's number: the "1" glyph
    assert one[:, 1].all() and one[4].all() and not one[0, [0, 2]].any()
    zero = ink[1:6, 16:19]  # head 0's number: a ring
    assert zero[[0, 4]].all() and zero[:, [0, 2]].all() and not zero[1:4, 1].any()
    assert image_array(att, 0, 0).shape[:2] == (64, 64)  # 16 pixels per weight at most


def test_save_image_refuses_bad_arguments(tmp_path):
    att = two_heads()
    cases = [
        ({"layer": 5}, r"layer 5 is not held; this attention holds layers \[0, 1\]"),
        ({}, "pass layer=: this attention holds layers"),
        ({"layer": 0, "head": 7}, "head 7 is not held"),
        ({"layer": 0, "head": "some"}, "head must be a head number, None"),
        ({"layer": 0, "colormap": "jet"}, "unknown colormap 'jet'"),
        ({"layer": 0, "scale": "sqrt"}, "unknown scale 'sqrt'"),
        ({"layer": 0, "fusion": "sum"}, "unknown fusion 'sum'"),
        ({"layer": 0, "cell": 0}, "cell must be a positive int"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            aw.images.save_image(att, tmp_path / "x.png", **kwargs)
    with pytest.raises(TypeError, match="takes an aw.Attention"):
        aw.images.save_image(att.weights, tmp_path / "x.png", layer=0)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("name", ["x.jpg", "x.JPEG", "x", "x.png.gif"])
def test_save_image_refuses_a_name_that_is_not_png(tmp_path, name):
    # PNG bytes under a .jpg name mislead every reader of the file: refused, nothing written.
    with pytest.raises(aw.AttentionError, match=r"path must end in \.png .*Name it 'x(\.png)?\.png'"):
        aw.images.save_image(two_heads(), tmp_path / name, layer=0)
    assert list(tmp_path.iterdir()) == []
    assert aw.images.save_image(two_heads(), tmp_path / "x.PNG", layer=0).read_bytes()[:4] == b"\x89PNG"
