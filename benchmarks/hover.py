"""How quickly the linked views answer a hover, in headless Chromium, on SmolLM2 pages.

For each length, `save_html(aw.show(att))` is opened from disk; a token of the head grid's strip is
hovered (the heatmap, head grid, rollout and graph all redraw their highlight) and the time until
the next frame is taken, then the pointer leaves and the same is measured again. The baseline is
an animation frame on the same page with no event: the ratio says how many frames a hover costs.

    python benchmarks/hover.py [--lengths 64 256 1024] [--hovers 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
import attnwidget as aw  # noqa: E402
from _common import print_table, prompt_text  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

MEASURE = """async (hovers) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const strip = document.querySelector('.aw-headgrid .aw-strip');
  const tokens = strip.querySelectorAll('[data-token-index]');
  const base = [], hover = [];
  for (let k = 0; k < hovers; k++) {
    await frame();
    let t0 = performance.now();
    await frame();
    base.push(performance.now() - t0);
    const tok = tokens[(k * 7) % tokens.length];
    t0 = performance.now();
    tok.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    await frame();
    hover.push(performance.now() - t0);
    if (!tok.classList.contains('aw-hovered')) throw new Error('hover did not reach the strip');
    t0 = performance.now();
    strip.dispatchEvent(new MouseEvent('mouseleave'));
    await frame();
    hover.push(performance.now() - t0);
  }
  return { base, hover };
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--hovers", type=int, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    model, tokenizer = aw.load_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for n in args.lengths:
            att = aw.extract(model, tokenizer, prompt_text(tokenizer, n))
            path = aw.save_html(aw.show(att), Path(tmp) / f"hover-{n}.html")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(path.as_uri())
            page.wait_for_selector(".aw-graph svg g.aw-node", timeout=180_000)
            res = page.evaluate(MEASURE, args.hovers)
            page.close()
            base, hover = statistics.median(res["base"]), statistics.median(res["hover"])
            p90 = sorted(res["hover"])[int(0.9 * (len(res["hover"]) - 1))]
            rows.append([att.n_key, f"{base:.1f}", f"{hover:.1f}", f"{p90:.1f}", f"{hover / base:.1f}"])
        browser.close()
    print("SmolLM2-135M-Instruct, 30 layers x 9 heads, four linked views of an exported page")
    print_table(["tokens", "empty frame ms", "hover ms (median)", "hover ms (p90)", "hover / frame"], rows)


if __name__ == "__main__":
    main()
