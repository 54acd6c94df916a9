"""The frontend's DOM-free functions against their Python twins, run in node on the same inputs.

Decoding has its own parity tests in test_payload.py; these cover the display transform, max-pooling
and the generation step row.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.js_parity import run_js

import attnwidget as aw
from attnwidget.attention.arrays import causal_mask, max_pool
from attnwidget.widgets.data import display_rows


def _causal_attention(n: int, seed: int) -> aw.Attention:
    rng = np.random.default_rng(seed)
    mask = causal_mask(n, n)
    logits = np.where(mask, rng.normal(0, 2, (2, 3, n, n)), -np.inf)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    return aw.Attention((w / w.sum(-1, keepdims=True)).astype(np.float32), [f"t{i}" for i in range(n)])


@pytest.mark.parametrize("hide, row_normalize", [((), False), ((0,), False), ((0, 3), True), ((), True)])
def test_display_transform_matches_python(hide, row_normalize):
    att = _causal_attention(9, seed=len(hide) + row_normalize)
    raw = np.where(att.mask, att.head(1, 2), 0.0).astype(np.float32)
    js = run_js(
        "maps.js",
        """
        const visible = lib.visibility({ nQuery: input.n, nKey: input.n, causal: true });
        return Array.from(lib.displayMap(Float32Array.from(input.values), input.n, input.n,
                                         { hide: input.hide, rowNormalize: input.rowNormalize, visible }));
    """,
        {"n": 9, "values": raw.ravel().tolist(), "hide": list(hide), "rowNormalize": row_normalize},
    )
    py = display_rows(att, 1, 2, 0, 9, hide=hide, row_normalize=row_normalize)
    np.testing.assert_allclose(np.array(js, np.float32).reshape(9, 9), py, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("rows, cols, factor", [(10, 10, 3), (7, 12, 4), (16, 16, 2)])
def test_max_pool_matches_python(rows, cols, factor):
    values = np.random.default_rng(rows * cols).random((rows, cols)).astype(np.float32)
    js = run_js(
        "downsample.js",
        """
        const out = lib.maxPool(Float32Array.from(input.values), input.rows, input.cols, input.factor);
        return { values: Array.from(out.values), rows: out.rows, cols: out.cols };
    """,
        {"values": values.ravel().tolist(), "rows": rows, "cols": cols, "factor": factor},
    )
    py = max_pool(values, factor)
    assert (js["rows"], js["cols"]) == py.shape
    np.testing.assert_array_equal(np.array(js["values"], np.float32).reshape(py.shape), py)


def test_generation_step_row_matches_python():
    n, n_prompt = 8, 5
    w = np.tril(np.ones((1, 1, n, n), np.float32))
    att = aw.Attention(w / w.sum(-1, keepdims=True), [f"t{i}" for i in range(n)], meta={"prompt_length": n_prompt})
    steps = list(range(n - n_prompt))
    js = run_js(
        "selection.js",
        "return input.steps.map((s) => lib.generationStepRow(input.nPrompt, s));",
        {"steps": steps, "nPrompt": n_prompt},
    )
    assert js == [aw.extraction.generation_step_row(att, s) for s in steps]


NAMES = [
    "abc\u202etxt.exe",
    "gpt2\u2066-evil\u2069",
    "two\nlines\tand\u200b",
    "nb\u00a0sp\u3000",
    "\ufeffbom\u00ad",
    "\u115f\u3164\u2800",
    "tag\U000e0041",
    "model <b>&amp;</b>",
    "日本語 é👍🏽",
    "plain name",
]


def test_names_are_marked_as_the_views_mark_them():
    from attnwidget._validate import visible

    js = run_js("tokens.js", "return input.map((t) => lib.displayName(t));", NAMES)
    assert js == [visible(n) for n in NAMES]
    assert js[0] == "abc⟨U+202E⟩txt.exe"


def test_page_title_shows_invisible_characters_as_marks(tmp_path):
    import re
    import unicodedata

    att = _causal_attention(5, seed=0)
    page = aw.save_html(aw.AttentionHeatmap(att), tmp_path / "p.html", title="report\u202eexe.txt\u2066x").read_text(
        "utf-8"
    )
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    for shown in (title, heading):
        assert shown == "report⟨U+202E⟩exe.txt⟨U+2066⟩x"
        assert not any(unicodedata.category(c) == "Cf" for c in shown)


def test_tile_messages_round_trip_through_the_heatmap():
    # lib/tiles.js builds the requests, AttentionHeatmap._on_msg answers them, tiles.js decodes the
    # replies and the kept `_tiles` entries: every field must mean the same on both sides. The
    # request's hide and row scaling differ from the view's, so a field the kernel did not read
    # would show in the values.
    att = _causal_attention(21, seed=3)
    view = aw.AttentionHeatmap(att, layer=1)
    sent: list = []
    view.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    extent = {"nQuery": 21, "nKey": 21, "size": 8}
    options = {"key": "1/2", "measure": "weights", "hide": [0, 3], "rowNormalize": True}
    requests = run_js(
        "tiles.js",
        """
        return [[8, 16], [16, 0], [24, 0]].map(([r0, c0]) => lib.tileRequest(input.options, r0, c0, input.extent));
    """,
        {"options": options, "extent": extent},
    )
    for msg in requests:
        view._on_msg(view, msg, [])
    (tile, buffers), (edge, edge_buffers), (error, _) = sent
    assert error["type"] == "tile-error" and error["id"] == requests[2]["id"] and "out of range" in error["message"]
    js = run_js(
        "tiles.js",
        """
        const replies = input.replies.map(([msg, buffers]) => lib.readTileReply(msg, buffers));
        const kept = input.kept.map((p) => lib.tileFromPayload(p));
        const plain = (t) => ({ ...t, values: Array.from(t.values) });
        return { replies: replies.map((r) => (r.tile ? plain(r.tile) : r)), kept: kept.map(plain),
                 ok: input.replies.map(([msg]) => lib.isTileReply(msg)) };
    """,
        {
            "replies": [[tile, buffers], [edge, edge_buffers], [error, []]],
            "kept": view._tiles,
        },
    )
    assert js["ok"] == [True, True, True]
    expected = [
        view.tile("1/2", 8, 16, 16, 21, hide=[0, 3], row_normalize=True),
        view.tile("1/2", 16, 21, 0, 8, hide=[0, 3], row_normalize=True),
    ]
    for got, want, request in zip(js["replies"], expected, requests):
        assert got["id"] == request["id"]
        assert (got["r0"], got["c0"], got["rows"], got["cols"]) == (request["r0"], request["c0"], *want.shape)
        np.testing.assert_array_equal(np.array(got["values"], np.float32).reshape(want.shape), want.astype(np.float16))
    assert js["replies"][2] == {"id": requests[2]["id"], "error": error["message"]}
    # The kept tiles carry the ids the browser chose: an exported page finds them under those ids.
    assert [t["id"] for t in js["kept"]] == [r["id"] for r in requests[:2]]
    assert js["kept"][:2] == js["replies"][:2]


def test_held_maps_read_by_the_browser_match_the_kernel():
    # store.js reads a data model's whole `_maps` value (one inflate for all its maps) to the
    # values the kernel coded, key by key.
    from attnwidget.widgets.data import AttentionData
    from attnwidget.widgets.payload import decode_maps

    att = _causal_attention(7, seed=4)
    data = AttentionData(att)
    data.follow(1, 2, "mean")
    state = data._maps
    assert len(state["keys"]) == state["total"] == 2 * (3 + 3)
    js = run_js(
        "store.js",
        """
        const held = await lib.heldMaps(input);
        const v = [...held.keys()][0].split("|").slice(1).join("|");
        return Object.fromEntries(input.keys.map((k) => [k, [...lib.decodedOf(held.get(`${k}|${v}`)).values]]));
    """,
        state,
    )
    for key, payload in zip(state["keys"], state["maps"]):
        np.testing.assert_allclose(np.array(js[key], np.float32).reshape(7, 7), decode_maps(payload), rtol=1e-6, atol=0)
    data.close()
