"""`aw.show` on long inputs: time to build the dashboard and the size of its saved page.

For SmolLM2 (30 layers x 9 heads) at each length, attention is extracted lazily (the baseline:
the capture forward, timed in the same run), then `aw.show(att)` is built and `aw.save_html`
writes it. The table gives show's time as a multiple of the extraction, the page size, and the
widget state by view.

    python benchmarks/show_long.py [--lengths 1024 2048 4096]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402


def state_bytes(widget) -> int:
    """Bytes of binary payloads in a widget's state (what crosses to the browser)."""
    total = 0

    def walk(x):
        nonlocal total
        if isinstance(x, (bytes, bytearray, memoryview)):
            total += len(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(widget.get_state())
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lengths", type=int, nargs="+", default=[1024, 2048, 4096])
    args = ap.parse_args()
    model, tokenizer = aw.load_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.lengths:
            text = prompt_text(tokenizer, n)
            t0 = time.perf_counter()
            att = aw.extract(model, tokenizer, text, lazy=True)
            t_extract = time.perf_counter() - t0
            t0 = time.perf_counter()
            dash = aw.show(att)
            t_show = time.perf_counter() - t0
            t0 = time.perf_counter()
            path = aw.save_html(dash, Path(tmp) / f"show-{n}.html")
            t_save = time.perf_counter() - t0
            mb = lambda b: f"{b / 2**20:.2f}"  # noqa: E731
            views = {name: getattr(dash, name) for name in ("heatmap", "headgrid", "rollout", "graph")}
            sizes = " ".join(f"{k} {mb(state_bytes(v))}" for k, v in views.items() if v is not None)
            rows.append(
                [
                    att.n_key,
                    f"{t_extract:.1f}",
                    f"{t_show:.1f}",
                    f"{t_show / t_extract:.2f}",
                    f"{t_save:.1f}",
                    mb(path.stat().st_size),
                    sizes,
                ]
            )
    print("SmolLM2-135M-Instruct, lazy attention, aw.show then aw.save_html (CPU)")
    print_table(
        ["tokens", "extract s (baseline)", "show s", "show / extract", "save s", "page MB", "state MB by view"], rows
    )


if __name__ == "__main__":
    main()
