"""notebooks/evidence.ipynb on the bundled SmolLM2: head effects and part effects beside attention.

The notebook's closing markdown states what the printed numbers show; this test reads those numbers
back and checks each statement, so the text cannot drift from what the model does.
"""

import math
import re

from helpers.notebooks import run_notebook


def number(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, f"no output matching {pattern!r}"
    return float(m.group(1))


def test_evidence_notebook_effects_are_not_attention(tmp_path):
    text, cells = run_notebook("evidence.ipynb", tmp_path)
    # The answer and every head measured.
    clean = number(r"clean log P\(' Paris'\) = (-?[\d.]+)", text)
    assert math.isfinite(clean) and clean < 0
    assert math.exp(clean) > 0.5, "the bundled model should give ' Paris' most of the probability"
    assert "heads measured: 270 (30 layers x 9 heads)" in text
    assert "effects table: 270 rows" in text
    top = [(int(l), int(h), float(d)) for l, h, d in re.findall(r"top head L(\d+)H(\d+): delta ([-+][\d.]+)", text)]
    assert len(top) == 5
    assert abs(top[0][2]) > 1.0, "the strongest head moves log P by more than a nat"
    assert all(abs(a[2]) >= abs(b[2]) for a, b in zip(top, top[1:]))
    assert number(r"heads with \|delta\| < 0.05: (\d+)%", text) > 50  # "most change it by less than 0.05"
    # Sink heads matter less on average; none of the strongest five is one; weak correlation.
    assert number(r"sink heads \(sink mass > 0.8\): (\d+) of 270", text) > 0
    sink_mag = number(r"mean \|delta\|: sink heads ([\d.]+)", text)
    other_mag = number(r"other heads ([\d.]+)", text)
    assert sink_mag < other_mag
    top_sink = [float(s) for s in re.findall(r"L\d+H\d+: delta [-+][\d.]+, sink mass ([\d.]+)", text)]
    assert len(top_sink) == 5 and max(top_sink) <= 0.8
    assert abs(number(r"correlation of sink mass with \|delta\| over heads: ([-+][\d.]+)", text)) < 0.5
    # The instruction is read less than the content, yet knocking it out costs several nats.
    share = {p: float(v) for p, v in re.findall(r"(instruction|content): share ([\d.]+)", text)}
    knock = {p: float(v) for p, v in re.findall(r"(instruction|content): share [\d.]+, knockout ([-+][\d.]+)", text)}
    assert share["instruction"] < share["content"]
    assert knock["instruction"] < -2.0 and knock["content"] < -2.0
    # The dashboard tinted by effect is displayed.
    views = [
        out
        for cell in cells
        for out in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    ]
    assert views, "aw.show(att, effects=...) should display a widget"
