"""Views at their boundary: bad arguments refused; one-token texts, every token hidden and links work; invisible characters marked.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from helpers.refusal_data import att

import attnwidget as aw
from attnwidget import metrics as M

ROOT = Path(__file__).resolve().parents[2]


# (id, call, expected error, regex the message must match)
REFUSED = [
    # ---- widgets, at their boundary
    (
        "Selection of an array",
        lambda: aw.widgets.Selection(np.zeros((4, 4))),
        aw.errors.ArgumentTypeError,
        r"Selection takes an aw.Attention; got an array",
    ),
    (
        "HeadGrid tint of str",
        lambda: aw.HeadGrid(att(), tint=[["a", "b"], ["c", "d"]]),
        aw.errors.ArgumentTypeError,
        r"tint must be an array of numbers",
    ),
    (
        "link different token counts",
        lambda: aw.link(aw.AttentionHeatmap(att(4)), aw.AttentionHeatmap(att(5))),
        aw.AttentionError,
        r"different numbers of tokens \(4 and 5\)",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in REFUSED])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, aw.AttentionError)


def test_one_token_text_is_shown_by_every_view():
    one = aw.Attention(np.ones((2, 2, 1, 1), np.float32), ["only"])
    dash = aw.show(one)
    shown = [type(v).__name__ for v in dash.views]
    assert {"AttentionHeatmap", "HeadGrid", "RolloutBar", "AttentionGraph"} <= set(shown), shown
    assert not dash.notes, dash.notes  # no view left out
    np.testing.assert_allclose(M.rollout(one), [[1.0]])


def test_rollout_bar_accepts_every_token_hidden_like_the_other_views():
    a = att()
    for view in (aw.AttentionHeatmap, aw.HeadGrid, aw.RolloutBar, aw.AttentionGraph):
        view(a, hide=[0, 1, 2, 3])


def test_dashboard_selection_follows_aw_link():
    dash = aw.show(att())
    other = aw.AttentionHeatmap(att())
    sel = aw.link(other, dash.heatmap)
    assert dash.heatmap.selection is sel and dash.selection is sel


# ------------------------------------------------------------------------------ display of invisible characters


def reference_marks(text: str) -> str:
    """What the views must show: every control, format, separator or surrogate code point, every
    space but U+0020 and the blank letters as ⟨U+XXXX⟩; written from Python's unicodedata."""
    blank_letters = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800}
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Cs") or (cat == "Zs" and ch != " ") or ord(ch) in blank_letters:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


HOSTILE = [
    "abc\u202etxt.exe",
    "a\u200db\u200c\u200b",
    "x\u2028y\u2029z",
    "\ufeffbom",
    "\u2066iso\u2069\u061c",
    "nb\u00a0sp\u3000",
    "soft\u00adhy",
    "\u0007bell\u007f",
    "tag\U000e0041",
    "\u115f\u3164\u2800",
    "plain text",
    "日本語",
    "<img src=x onerror=alert(1)>",
    "é👍🏽",
    "\u200e\u200f\u202a\u202b\u202c\u202d",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_views_mark_invisible_and_direction_changing_characters():
    script = (
        "import { escapeInvisible, displayToken } from './src/lib/tokens.js';\n"
        "const input = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(input.map((t) => [escapeInvisible(t), displayToken(t)])));\n"
    )
    js = ROOT / "js"
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(HOSTILE)],
        cwd=js,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    for text, (escaped, label) in zip(HOSTILE, got, strict=True):
        assert escaped == reference_marks(text), text
        assert not any(unicodedata.category(c) in ("Cf", "Zl", "Zp", "Cc") for c in label), label
    assert got[0][1] == "abc⟨U+202E⟩txt.exe"
