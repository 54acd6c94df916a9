"""The analysis notebooks run end to end on the bundled models and show what the models really do.

Each notebook is executed with nbclient in a temporary directory; the findings are read back from
the printed outputs and checked against each other (shares against uniform shares, counts against
totals), never against fixed numbers.
"""

import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

pytestmark = pytest.mark.slow


def run_notebook(name: str, tmp_path) -> tuple[str, list]:
    """Execute a notebook; return its printed and displayed text and its cells (with outputs)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text.append(out["text"])
            elif out.get("output_type") == "execute_result":
                text.append(out["data"].get("text/plain", "") + "\n")
    return "".join(text), nb.cells


def figures(cells) -> int:
    """bqplot figures (widget views) among the outputs."""
    n = 0
    for cell in cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data and "Figure(" in str(data.get("text/plain", "")):
                n += 1
    return n


def number(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, f"no output matching {pattern!r}"
    return float(m.group(1))


def test_analysis_notebook_finds_sinks_induction_and_minilm_cls(tmp_path):
    text, cells = run_notebook("analysis.ipynb", tmp_path)
    assert figures(cells) >= 2
    m = re.search(r"sink heads: (\d+) of (\d+)", text)
    sinks, heads = int(m.group(1)), int(m.group(2))
    assert heads == 270 and sinks >= heads // 4  # SmolLM2 parks attention on its first token
    assert number(r"induction heads: (\d+)", text) >= 1
    in_sinks = number(r"mean attention on the first token in sink heads: ([\d.]+)", text)
    uniform = number(r"first-token share if attention were uniform: ([\d.]+)", text)
    assert in_sinks > 3 * uniform
    top_induction = [float(x) for x in re.findall(r"induction (0\.\d+)\n", text)]
    assert len(top_induction) == 5 and top_induction == sorted(top_induction, reverse=True)
    # MiniLM: [CLS] takes far more than its uniform share, [SEP] less, from layer 1 on.
    u_cls = number(r"uniform share \[CLS\] ([\d.]+)", text)
    u_sep = number(r"uniform share \[CLS\] [\d.]+, \[SEP\] ([\d.]+)", text)
    layers = re.findall(r"minilm layer (\d): \[CLS\] ([\d.]+)  \[SEP\] ([\d.]+)", text)
    assert len(layers) == 6
    later = [(float(c), float(s)) for l, c, s in layers if int(l) >= 1]
    assert all(c > 3 * u_cls for c, _ in later)
    assert sum(s < u_sep for _, s in later) >= 4


def test_prompt_segments_notebook_shows_markup_draws_attention(tmp_path):
    text, cells = run_notebook("prompt_segments.ipynb", tmp_path)
    assert figures(cells) >= 3
    to_markup = {k: float(v) for k, v in re.findall(r"(\w+) -> markup: ([\d.]+)", text)}
    assert set(to_markup) == {"system", "examples", "question", "other"}
    share = number(r"markup share of tokens: ([\d.]+)", text)
    assert all(v > share for v in to_markup.values())  # the chat markup holds the sink token
    per_layer = re.findall(r"question -> examples ([\d.]+), -> system ([\d.]+), -> itself ([\d.]+)", text)
    assert len(per_layer) == 7 and all(0 <= sum(map(float, row)) <= 1.0005 for row in per_layer)
    received = dict(re.findall(r"(plain|chat|few-shot chat) ([\d.]+)", text.split("segment 'question':")[-1]))
    assert float(received["plain"]) > float(received["few-shot chat"])


def test_languages_notebook_shows_tokenisation_and_first_token_focus(tmp_path):
    text, cells = run_notebook("languages.ipynb", tmp_path)
    assert figures(cells) >= 2
    top1 = re.findall(r"(\w+): first token top-1 in (\d+) of (\d+) layers", text)
    assert {lang for lang, _, _ in top1} == {"English", "French", "German", "Chinese"}
    assert all(int(n) > int(total) // 2 for _, n, total in top1)
    cpt = {lang: float(v) for lang, v in re.findall(r"(\w+): \d+ tokens, ([\d.]+) characters per token", text)}
    # Byte-level BPE trained on English: English packs the most characters per token; Chinese
    # characters take more than one token each.
    assert cpt["English"] == max(cpt.values()) and cpt["Chinese"] < 1
