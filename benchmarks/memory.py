"""Memory returned by closed dashboards: `aw.show` on SmolLM2 attention, shown and closed, many times.

Each round extracts attention (all 30 layers x 9 heads), builds `aw.show(att)`, takes every
widget's state (what a notebook frontend receives when the dashboard is shown), then closes the
dashboard and drops it. Resident memory is read before the first round (after one warm-up round,
so imports and allocator pools are counted in the start), after every 10 rounds and at the end.
A second run of the same loop without `close()` shows what the widgets registry keeps: ipywidgets
holds every open widget until it is closed, as a live frontend may still draw it.

    python benchmarks/memory.py [--rounds 50] [--tokens 256]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from _common import print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402


def rss_mib() -> float:
    gc.collect()
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def shown(dash) -> None:
    for w in (dash, dash.selection, *dash.views):
        w.get_state()


def run(model, tokenizer, text: str, rounds: int, close: bool) -> list[tuple[int, float]]:
    def once():
        att = aw.extract(model, tokenizer, text)
        dash = aw.show(att)
        shown(dash)
        if close:
            dash.close()

    once()
    marks = [(0, rss_mib())]
    for r in range(1, rounds + 1):
        once()
        if r % 10 == 0 or r == rounds:
            marks.append((r, rss_mib()))
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--skip-open", action="store_true", help="leave out the run without close()")
    args = ap.parse_args()
    model, tokenizer = aw.load_model()
    text = prompt_text(tokenizer, args.tokens)
    rows = []
    for close in (True, False) if not args.skip_open else (True,):
        marks = run(model, tokenizer, text, args.rounds, close)
        start = marks[0][1]
        for r, m in marks[1:]:
            rows.append(
                [
                    "close()" if close else "no close()",
                    r,
                    f"{start:.0f}",
                    f"{m:.0f}",
                    f"{m - start:+.0f}",
                    "yes" if m - start <= 50 else "no",
                ]
            )
    print(f"SmolLM2, {args.tokens} tokens, aw.show(att) per round (RSS in MiB; target: within 50 MiB of the start)")
    print_table(["run", "rounds", "start", "now", "growth", "<= 50"], rows)


if __name__ == "__main__":
    main()
