"""The translation and vision notebooks run end to end and show what they claim."""

import re

from helpers.notebooks import run_notebook


def test_translation_notebook(tmp_path):
    text, cells = run_notebook("translation.ipynb", tmp_path)
    assert "with random weights" in text
    parts = dict(re.findall(r"^(encoder|decoder|cross)\s+layers (\[[\d, ]+\]) heads 4 rows x keys", text, flags=re.M))
    assert parts == {"encoder": "[0, 1]", "decoder": "[0, 1]", "cross": "[0, 1]"}
    assert re.search(r"^decoder .* causal=True method=capture", text, flags=re.M)
    assert re.search(r"^cross .* causal=False method=capture", text, flags=re.M)
    diffs = [float(x) for x in re.findall(r"max difference from eager ([\d.e+-]+)", text)]
    assert len(diffs) == 3 and max(diffs) < 1e-5
    assert len(re.findall(r"^\s*'.*' -> '.*'\s+\d\.\d\d$", text, flags=re.M)) >= 5  # one alignment per target token
    assert "parts: {'encoder': 'Dashboard', 'decoder': 'Dashboard', 'cross': 'AttentionHeatmap'}" in text
    rows = re.search(r"^cross rows: (\[.*\])$", text, flags=re.M).group(1)
    assert rows == re.search(r"^decoder tokens: (\[.*\])$", text, flags=re.M).group(1)
    assert any(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for cell in cells
        for out in cell.get("outputs", [])
    )


def test_vision_notebook(tmp_path):
    text, cells = run_notebook("vision.ipynb", tmp_path)
    assert "patch grid: [6, 6] tokens: ['[CLS]', 'p(0,0)', 'p(0,1)', 'p(0,2)']" in text
    assert "most attended patch: p(" in text
    assert float(re.search(r"rollout row sums to ([\d.]+)", text).group(1)) == 1.0
    assert float(re.search(r"max difference from eager: ([\d.e+-]+)", text).group(1)) < 1e-5
    # The vision-language section: the language model's three layers, 36 placeholders on a 6 x 6 grid.
    assert "tower: model.language_model layers: [0, 1, 2]" in text
    assert "image tokens: 36 at 0 .. 35 grid: [6, 6]" in text
    assert "tokens: ['img p(0,0)', 'img p(0,1)'] ... ['img p(5,5)', 'what'," in text
    assert float(re.search(r"language model against eager: ([\d.e+-]+)", text).group(1)) < 1e-5
    assert any("image/png" in out.get("data", {}) for cell in cells for out in cell.get("outputs", []))
    assert any(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for cell in cells
        for out in cell.get("outputs", [])
    )
