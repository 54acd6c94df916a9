"""The Chinese report reads as Chinese: full-width punctuation, one term for the sink, no code quotes."""

import re
from types import SimpleNamespace

import numpy as np
from helpers.analysis_data import text_attention

import attnwidget as aw
from attnwidget.analysis.reporting import MESSAGES

CJK = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
HALF_NEXT_TO_CJK = re.compile(rf"[{CJK}][:(;,)]|[:(;,)][{CJK}]")


def check(text):
    assert not HALF_NEXT_TO_CJK.search(text), HALF_NEXT_TO_CJK.search(text).group(0) + " in " + text
    assert "停放" not in text and "汇聚词元" not in text, text
    assert "'" not in text and '"' not in text, text  # names in 「」, not code quotes
    assert "。 " not in text, text  # sentences join without a space
    assert "))" not in text and "））" not in text, text
    depth = 0
    for ch in text:  # no parenthesis inside another
        depth += ch in "(（"
        depth -= ch in ")）"
        assert depth <= 1, text


def attention(sink_heavy=True):
    n = 8
    w = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    if sink_heavy:
        for i in range(1, n):
            w[i, : i + 1] = 0.4 / i
            w[i, 0] = 0.6
    w[7] = [0.5, 0.3, 0.02, 0.02, 0.02, 0.02, 0.06, 0.06]
    text = " ".join(f"t{i}" for i in range(n))
    return text_attention(w[None, None].astype(np.float32), text, [(3 * i, 3 * i + 2) for i in range(n)])


def test_every_chinese_template_is_written_in_chinese_punctuation():
    for template in MESSAGES["zh"].values():
        check(template.replace("{", "").replace("}", ""))
    sink_messages = [t for t in MESSAGES["zh"].values() if "汇聚" in t]
    assert sink_messages and all("汇聚点" in t for t in sink_messages)


def test_chinese_reports_keep_the_rules_once_filled_in():
    parts = {"a": "t1", "b": "t2 t3 t4", "c": "t5 t6"}
    tokens = {"a": [1], "b": [2, 3, 4], "c": [5, 6]}
    effects = SimpleNamespace(
        knockout={"a": -2.0, "b": 0.1, "c": -0.1}, removal={"a": -1.0, "b": 0.9, "c": 0.2}, tokens=tokens
    )
    reports = [
        aw.analysis.report(attention(), lang="zh"),
        aw.analysis.report(attention(), parts=parts, lang="zh", part_below=0.9),
        aw.analysis.report(attention(), parts=parts, lang="zh", effects=effects),
        aw.analysis.report(attention(False), parts={"a": "t0 t1", "b": "t2"}, lang="zh", hide=None),
        aw.analysis.report(attention(), lang="zh", sink_above=1.0, uniform_above=1.0),
    ]
    kinds = set()
    for rep in reports:
        for r in rep.recommendations:
            kinds.add(r["kind"])
            check(r["message"])
    assert {"sinks", "part"} <= kinds
    said = " ".join(r["message"] for rep in reports for r in rep.recommendations)
    assert "汇聚点" in said and "「a」" in said and "汇聚点，即第一个词元「t0」" in said
    assert "答案依赖「a」" in said and "删去「b」后" in said
