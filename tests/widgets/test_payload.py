"""Map coding: log-spaced 8-bit codes, causal cells, deflate; decode.js reads what Python writes."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.js_parity import run_js

from attnwidget.widgets import payload as pl


def _maps(seed=0, shape=(3, 7, 9)):
    rng = np.random.default_rng(seed)
    w = rng.random(shape) ** 6  # many small weights, as attention has
    w[..., 0] = 0.0  # exact zeros
    w[0, 0, 1] = 1.0
    w[0, 1, 2] = 3e-7  # below the floor
    return (w / w.sum(-1, keepdims=True)).astype(np.float32)


def test_log8_codes_keep_zero_and_stay_within_the_stated_precision():
    v = np.concatenate([[0.0, 1.0], np.geomspace(pl.FLOOR, 1.0, 5000)])
    back = pl.decode_log8(pl.code_log8(v))
    assert back[0] == 0.0 and back[1] == pytest.approx(1.0, rel=1e-6)
    rel = np.abs(back[2:] - v[2:]) / v[2:]
    assert rel.max() <= pl.RELATIVE_PRECISION * 1.0001
    assert rel.max() > 0.9 * pl.RELATIVE_PRECISION  # the bound is the real worst case, not loose
    assert pl.decode_log8(pl.code_log8(np.array([1e-9])))[0] == pytest.approx(pl.FLOOR, rel=1e-5)
    assert np.isnan(pl.decode_log8(pl.code_log8(np.array([np.nan])))[0])


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("precision", ["coded", "exact"])
def test_python_and_javascript_decode_the_same_values(causal, precision):
    w = _maps()
    if causal:
        w = np.where(pl.causal_cells(7, 9), w, 0.0).astype(np.float32)
    w[1, 3, 5] = np.nan if not causal else w[1, 3, 5]
    p = pl.code_maps(w, precision=precision, causal=causal)
    py = pl.decode_maps(p)
    js = run_js(
        "decode.js",
        "const d = await lib.decodeMaps(input); return { shape: d.shape, values: [...d.values], "
        "precision: d.precision };",
        p,
    )
    assert js["shape"] == list(w.shape)
    jv = np.array([np.nan if v == "NaN" else v for v in js["values"]], dtype=np.float32).reshape(w.shape)
    np.testing.assert_array_equal(np.isnan(jv), np.isnan(py))
    np.testing.assert_allclose(jv[~np.isnan(jv)], py[~np.isnan(py)], rtol=1e-6, atol=0)
    expected_precision = pl.RELATIVE_PRECISION if precision == "coded" else 0
    assert js["precision"] == pytest.approx(expected_precision, rel=1e-9)
    ok = ~np.isnan(w)
    if precision == "coded":  # weights below the floor read as the floor
        want = np.where(w[ok] > 0, np.maximum(w[ok], pl.FLOOR), 0.0)
        np.testing.assert_allclose(py[ok], want, rtol=pl.RELATIVE_PRECISION * 1.0001, atol=0)
    else:  # float16: three significant digits, subnormals below 6e-5
        np.testing.assert_allclose(py[ok], w[ok], rtol=1e-3, atol=6e-8)


def test_causal_cells_are_not_sent_and_deflate_shrinks():
    n = 64
    w = np.where(pl.causal_cells(n, n), _maps(1, (4, n, n)), 0.0)
    full = pl.code_maps(w, causal=False)
    tri = pl.code_maps(w, causal=True)
    assert len(pl.inflate(tri)) == 4 * n * (n + 1) // 2
    assert len(tri["data"]) < len(full["data"])
    np.testing.assert_array_equal(pl.decode_maps(tri), pl.decode_maps(full))


def test_bad_precision_and_corrupt_payloads_are_named():
    with pytest.raises(ValueError, match="precision must be one of"):
        pl.code_maps(np.zeros((2, 2)), precision="half")
    p = pl.code_maps(np.zeros((3, 3)), causal=True)
    p["shape"] = [4, 4]
    msg = run_js(
        "decode.js", "try { await lib.decodeMaps(input); return 'decoded'; } catch (e) { return e.message; }", p
    )
    assert "needs 10 cells, got 6" in msg


def test_map_payloads_join_into_one_stream():
    # What the browser does with a data model's maps: each payload's data without its last two
    # bytes, one after another, then an empty final block, inflate to the raws one after another.
    import zlib

    payloads = [
        pl.code_maps(_maps(s, (2, 5, 5)), causal=bool(s % 2), precision="exact" if s == 2 else "coded")
        for s in range(4)
    ]
    for p in payloads:
        assert p["compression"] == "deflate-raw" and bytes(p["data"]).endswith(pl.JOINABLE_END)
    joined = b"".join(bytes(p["data"])[:-2] for p in payloads) + b"\x03\x00"
    assert zlib.decompress(joined, -15) == b"".join(pl.inflate(p) for p in payloads)
    empty = pl.code_maps(np.zeros((0, 3, 3)))
    assert pl.inflate(empty) == b"" and bytes(empty["data"]).endswith(pl.JOINABLE_END)


def test_older_zlib_payloads_still_decode_in_both():
    import zlib

    w = _maps(5)
    p = pl.code_maps(w)
    old = {**p, "compression": "deflate", "data": zlib.compress(pl.inflate(p))}
    np.testing.assert_array_equal(pl.decode_maps(old), pl.decode_maps(p))
    js = run_js("decode.js", "return [...(await lib.decodeMaps(input)).values];", old)
    np.testing.assert_allclose(np.array(js, np.float32).reshape(w.shape), pl.decode_maps(p), rtol=1e-6)


def test_javascript_inflates_many_payloads_at_once_to_what_python_decodes():
    shapes = [(3, 7, 9), (1, 4, 4), (2, 3, 3), (1, 6, 6)]
    payloads = [
        pl.code_maps(_maps(i, shape), causal=i % 2 == 1, precision="exact" if i == 2 else "coded")
        for i, shape in enumerate(shapes)
    ]
    js = run_js(
        "decode.js",
        """
        const Real = globalThis.DecompressionStream;
        let inflates = 0;
        globalThis.DecompressionStream = class extends Real { constructor(f) { super(f); inflates += 1; } };
        const raws = await lib.inflateMaps(input);
        const maps = input.map((p, i) => [...lib.decodeInflated(p, raws[i]).values]);
        return { inflates, maps };
    """,
        payloads,
    )
    assert js["inflates"] == 1
    for p, got in zip(payloads, js["maps"]):
        want = pl.decode_maps(p)
        jv = np.array([np.nan if v == "NaN" else v for v in got], np.float32).reshape(want.shape)
        np.testing.assert_array_equal(np.isnan(jv), np.isnan(want))
        np.testing.assert_allclose(jv[~np.isnan(jv)], want[~np.isnan(want)], rtol=1e-6, atol=0)
