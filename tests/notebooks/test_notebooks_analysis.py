"""The analysis notebooks run end to end on the bundled models and show what the models really do.

Each notebook is executed with nbclient in a temporary directory; the findings are read back from
the printed outputs and checked against each other (shares against uniform shares, counts against
totals), never against fixed numbers.
"""

import re

import pytest
from helpers.notebooks import run_notebook

pytestmark = pytest.mark.slow


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


def outcomes(text: str) -> dict:
    """Per prompt: (greedy answer, log P of the expected answer) as the notebooks print them."""
    found = re.findall(r"(GOOD|MESSY): answer '([^']*)', log P[^-\d]*(-?[\d.]+)", text)
    return {name: (answer, float(lp)) for name, answer, lp in found}


def check_outcome(text: str) -> None:
    """The prompt named best is the one whose answer is right, and it gives the answer more probability."""
    got = outcomes(text)
    assert set(got) == {"GOOD", "MESSY"}
    # The answers are printed with repr: a newline shows as backslash-n.
    first_word = {n: re.split(r"\s|\\n", a.strip())[0].strip(".,").lower() for n, (a, _) in got.items()}
    assert first_word["GOOD"] == "positive" and first_word["MESSY"] != "positive"
    assert got["GOOD"][1] > got["MESSY"][1]
    assert "best by outcome: GOOD" in text


def test_analysis_notebook_sinks_apart_outcomes_and_roles(tmp_path):
    text, cells = run_notebook("analysis.ipynb", tmp_path)
    assert figures(cells) >= 2
    check_outcome(text)
    # The per-head table shows its top 15 rows by sink share, and says how many there are.
    (shown,) = [
        out["data"]["text/plain"]
        for cell in cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "execute_result" and "per-head metrics" in out["data"].get("text/plain", "")
    ]
    lines = shown.splitlines()
    assert "(first 15 of 270 rows)" in lines[0] and len(lines) == 2 + 15
    column = lines[1].split().index("sink_share")
    top = [float(line.split()[column]) for line in lines[2:]]
    assert top == sorted(top, reverse=True)
    # One definition: the report's means equal compare_templates' numbers for the same prompt.
    sink = number(r"GOOD: answer .*sink share ([\d.]+)", text)
    entropy = number(r"GOOD: answer .*entropy \(sinks apart\) ([\d.]+) nats", text)
    assert number(r"mean over layers: sink share ([\d.]+)", text) == sink
    assert number(r"mean over layers: sink share [\d.]+, entropy ([\d.]+)", text) == entropy
    assert number(r"sink hidden: ([\d.]+) nats", text) == entropy
    assert number(r"sink left in: ([\d.]+) nats", text) < entropy  # the sink concentrates attention
    read = re.search(r"GOOD read: question ([\d.]+), review ([\d.]+), cue ([\d.]+), other ([\d.]+)", text)
    assert sum(map(float, read.groups())) == pytest.approx(1, abs=0.003)
    # Recommendations carry their baseline; the part ones are consistent with their own numbers.
    assert re.search(
        r"\[sinks\] Attention parked on the first token 'Class': \d+% on average .* uniform "
        r"attention would put \d+% there",
        text,
    )
    low = re.findall(r"gets ([\d.]+)% of the last token's attention.*would give ([\d.]+)% \(([\d.]+)x\)", text)
    assert low and all(float(a) / float(b) == pytest.approx(float(r), abs=0.01) and float(r) < 0.5 for a, b, r in low)
    # Static images: PNG files of one map and of the 9-head grid.
    single, grid = (tmp_path / "layer20.png").read_bytes(), (tmp_path / "layer20_heads.png").read_bytes()
    assert single[:8] == grid[:8] == b"\x89PNG\r\n\x1a\n"
    width = lambda png: int.from_bytes(png[16:20], "big")  # noqa: E731
    assert width(grid) > 2 * width(single)
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
    later = [(float(c), float(s)) for layer, c, s in layers if int(layer) >= 1]
    assert all(c > 3 * u_cls for c, _ in later)
    assert sum(s < u_sep for _, s in later) >= 4
    assert "MiniLM sinks found: ['[CLS]']" in text


def test_prompt_segments_notebook_outcome_then_what_the_answer_read(tmp_path):
    text, cells = run_notebook("prompt_segments.ipynb", tmp_path)
    assert figures(cells) >= 3
    check_outcome(text)
    for name in ("GOOD", "MESSY"):
        assert number(rf"{name}: shares sum to ([\d.]+)", text) == pytest.approx(1, abs=0.001)
        content = [float(v) for v in re.findall(rf"{name} answer read \w+: ([\d.]+) of the attention left", text)]
        assert content and sum(content) <= 1.001
    # MESSY's question holds the first token: counted in it, the sink inflates the question.
    counted = number(r"MESSY question, sink counted in it: ([\d.]+)", text)
    apart = number(r"MESSY question, sink apart: +([\d.]+)", text)
    sink = number(r"the sink alone: +([\d.]+)", text)
    assert apart < counted <= apart + sink + 0.001 and counted > 3 * apart
    per_layer = re.findall(
        r"layer +\d+: sinks ([\d.]+), local ([\d.]+); of the rest: question ([\d.]+), review ([\d.]+), "
        r"cue ([\d.]+)",
        text,
    )
    assert len(per_layer) == 7 and all(sum(map(float, row[2:])) <= 1.0005 for row in per_layer)
    assert re.search(r"MESSY:\n  \[sinks\].*\n  \[part\] The 'question' part gets", text)
    # A part finding sets the reader's own and previous position apart, and says when the part holds a sink:
    # MESSY's question begins with the first token, the sink.
    part_findings = re.findall(r"\[part\] (.*)", text)
    assert part_findings and all("local reads take" in f for f in part_findings)
    messy_question = re.search(r"MESSY:\n(?:  .*\n)*?  \[part\] (The 'question' part gets.*)", text).group(1)
    assert "holds the attention sink 'positive', counted with the sinks" in messy_question
    assert "汇聚点" in text
    # GOOD's reader ':' sits inside 'cue': its reads of itself and ' Sentiment' are not credited to 'cue'.
    assert "Keep what the answer needs in 'cue'" not in text
    scores = dict(re.findall(r"(GOOD|MESSY): shape score ([\d.]+)", text))
    assert set(scores) == {"GOOD", "MESSY"}
    assert "the prompt that works (by outcome): GOOD" in text
    assert "sink tokens: ['<|im_start|>'" in text


def test_languages_notebook_normalises_and_warns_on_unknown_tokens(tmp_path):
    text, cells = run_notebook("languages.ipynb", tmp_path)
    assert figures(cells) >= 2
    rows = re.findall(
        r"(\w+): (\d+) tokens, ([\d.]+) characters per token, (\d+) unknown; sink share ([\d.]+), "
        r"entropy ([\d.]+) nats, normalised ([\d.]+)",
        text,
    )
    assert {r[0] for r in rows} == {"English", "French", "German", "Chinese"}
    cpt = {r[0]: float(r[2]) for r in rows}
    # Byte-level BPE trained on English: English packs the most characters per token; Chinese
    # characters take more than one token each.
    assert cpt["English"] == max(cpt.values()) and cpt["Chinese"] < 1
    assert all(int(r[3]) == 0 for r in rows) and all(0 < float(r[6]) <= 1 for r in rows)
    unknown = {
        lang: (int(n), int(total)) for lang, n, total in re.findall(r"minilm (\w+): (\d+) unknown of (\d+)", text)
    }
    assert unknown["Chinese"][0] > unknown["Chinese"][1] // 3
    assert all(unknown[lang][0] == 0 for lang in ("English", "French", "German"))
    n, total = unknown["Chinese"]
    assert (
        f"warning: the tokenizer turned part of the text into its unknown token '[UNK]' (Chinese: {n} of {total} tokens)"
        in text
    )
