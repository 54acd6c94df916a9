"""`python -m attnwidget demo`: the page it writes holds the five linked views and the report."""

from __future__ import annotations

import json
import re

import pytest

from attnwidget.__main__ import main


@pytest.mark.slow
def test_demo_writes_a_page_with_five_linked_views_and_the_report(tmp_path, capsys):
    out = tmp_path / "demo.html"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    text = out.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/vnd\.attnwidget\.page\+json">(.*?)</script>', text, re.S)
    state = json.loads(m.group(1))["state"]
    kinds = sorted(s["state"].get("_view_kind", "") for s in state.values())
    assert [k for k in kinds if k] == ["dashboard", "graph", "headgrid", "heatmap", "rollout", "tokentext"]
    # One selection model shared by the five views.
    refs = {
        s["state"]["selection"] for s in state.values() if s["state"].get("_view_kind") not in (None, "", "dashboard")
    }
    assert len(refs) == 1
    report = [s["state"]["text"] for s in state.values() if "text" in s["state"]]
    assert report and report[0].startswith("Attention report")
