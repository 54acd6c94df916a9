"""How quickly the linked views answer a hover, in headless Chromium, on SmolLM2 pages.

For each length, `save_html(aw.show(att))` is opened from disk; a token of the head grid's strip is
hovered (the heatmap, head grid, rollout and graph all redraw their highlight) and the time until
the next frame is taken, then the pointer leaves and the same is measured again. The baseline is
an animation frame on the same page with no event: the ratio says how many frames a hover costs.
On a machine shared with other work frames stretch with the load; the CPU time every Chromium
process spends per hover (above the same number of idle frames, measured just before) says how
much work a hover is, whatever the load.

A second table times the heatmap alone on long inputs (`--heatmap-lengths`, lazy attention of
one layer): moving the pointer over the map (tooltip, crosshair, the hovered row and column),
dragging it (a pan redraws the map and its labels), zoomed in 4x, against the same empty frame.

    python benchmarks/hover.py [--lengths 64 256 1024] [--heatmap-lengths 4096] [--hovers 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from _common import CHROMIUM, CHROMIUM_ARGS, print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402

# Ready: the page's host has finished every view's render (so coded maps are decoded) and the
# heatmap and head grid have drawn. show() leaves the graph out past 512 tokens: waiting for it
# would wait forever.
DRAWN = """() => document.documentElement.dataset.attnwidgetReady !== undefined
  && document.querySelector(".aw-heatmap canvas") && document.querySelector(".aw-headgrid [data-layer]")"""
VIEWS = """() => ["heatmap", "headgrid", "rollout", "graph", "tokentext"].filter((k) => document.querySelector(`.aw-${k}`))"""

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


MEASURE_HEATMAP = """async (hovers) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const root = document.querySelector('.aw-heatmap');
  const ov = root.querySelector('canvas.aw-overlay');
  root.querySelector('.aw-zoom-in').click(); root.querySelector('.aw-zoom-in').click();
  await frame(); await frame();
  const r = ov.getBoundingClientRect();
  const at = (type, fx, fy, buttons) => ov.dispatchEvent(new PointerEvent(type, {
    bubbles: true, clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, buttons, pointerId: 1 }));
  const base = [], hover = [], pan = [];
  for (let k = 0; k < hovers; k++) {
    await frame();
    let t0 = performance.now();
    await frame();
    base.push(performance.now() - t0);
    t0 = performance.now();
    at('pointermove', 0.1 + 0.8 * ((k * 37) % 100) / 100, 0.1 + 0.8 * ((k * 61) % 100) / 100, 0);
    await frame();
    hover.push(performance.now() - t0);
    if (root.querySelector('.aw-tip').style.display !== 'block') throw new Error('hover showed no tooltip');
    at('pointerdown', 0.5, 0.5, 1);
    t0 = performance.now();
    at('pointermove', 0.5 + (k % 2 ? 0.1 : -0.1), 0.5, 1);
    await frame();
    pan.push(performance.now() - t0);
    at('pointerup', 0.5, 0.5, 0);
  }
  return { base, hover, pan };
}"""


IDLE = """async (n) => { for (let k = 0; k < n; k++) await new Promise((r) => requestAnimationFrame(r)); }"""


def browser_cpu() -> float:
    """CPU seconds used so far by every process this one started (Chromium and its helpers)."""
    total = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def measured(page, script: str, hovers: int) -> tuple[dict, float]:
    """`script`'s frame times, and the browser's CPU milliseconds per hover above idle frames."""
    page.wait_for_timeout(500)  # the page settles (decoding, first paints) before idle is timed
    page.evaluate(IDLE, 30)
    c0 = browser_cpu()
    page.evaluate(IDLE, 4 * hovers)  # as many frames as the measurement takes, nothing happening
    c1 = browser_cpu()
    res = page.evaluate(script, hovers)
    c2 = browser_cpu()
    return res, max(0.0, (c2 - c1) - (c1 - c0)) * 1000 / (2 * hovers)


def heatmap_rows(browser, model, tokenizer, lengths, hovers, tmp):
    rows, notes = [], []
    for n in lengths:
        att = aw.extract(model, tokenizer, prompt_text(tokenizer, n), layers=[3], lazy=True)
        path = aw.save_html(aw.AttentionHeatmap(att, head=0), Path(tmp) / f"heatmap-{n}.html")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(path.as_uri())
        page.wait_for_selector(".aw-heatmap canvas.aw-overlay", timeout=180_000)
        res, cpu = measured(page, MEASURE_HEATMAP, hovers)
        page.close()
        base = statistics.median(res["base"])
        for what in ("hover", "pan"):
            xs = sorted(res[what])
            med, p90 = statistics.median(xs), xs[int(0.9 * (len(xs) - 1))]
            rows.append([att.n_key, what, f"{base:.1f}", f"{med:.1f}", f"{p90:.1f}", f"{med / base:.2f}"])
        notes.append(f"{att.n_key} tokens: browser CPU {cpu:.1f} ms per event (hover and pan steps together)")
    return rows, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--heatmap-lengths", type=int, nargs="*", default=[4096])
    ap.add_argument("--hovers", type=int, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    model, tokenizer = aw.load_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in args.lengths:
            att = aw.extract(model, tokenizer, prompt_text(tokenizer, n))
            path = aw.save_html(aw.show(att), Path(tmp) / f"hover-{n}.html")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(path.as_uri())
            page.wait_for_function(DRAWN, polling="raf", timeout=180_000)
            views = page.evaluate(VIEWS)
            res, cpu = measured(page, MEASURE, args.hovers)
            page.close()
            base, hover = statistics.median(res["base"]), statistics.median(res["hover"])
            p90 = sorted(res["hover"])[int(0.9 * (len(res["hover"]) - 1))]
            rows.append(
                [
                    att.n_key,
                    " ".join(views),
                    f"{base:.1f}",
                    f"{hover:.1f}",
                    f"{p90:.1f}",
                    f"{hover / base:.2f}",
                    f"{cpu:.1f}",
                ]
            )
        heat, heat_notes = heatmap_rows(browser, model, tokenizer, args.heatmap_lengths, args.hovers, tmp)
        browser.close()
    print(
        f"SmolLM2-135M-Instruct, 30 layers x 9 heads, linked views of an exported page "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print_table(
        ["tokens", "views", "empty frame ms", "hover ms (median)", "hover ms (p90)", "hover / frame", "CPU ms / hover"],
        rows,
    )
    if heat:
        print()
        print("AttentionHeatmap alone, lazy attention of layer 3, head 0, zoomed in 4x (exported page)")
        print_table(["tokens", "action", "empty frame ms", "ms (median)", "ms (p90)", "ratio to frame"], heat)
        for line in heat_notes:
            print(line)


if __name__ == "__main__":
    main()
