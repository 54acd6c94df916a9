"""Exported page size and time-to-drawn in headless Chromium: attnwidget's `save_html(aw.show(att))`
against BertViz's `head_view` and `model_view` (HTML from ``html_action='return'``), on the same
SmolLM2 attention (all 30 layers x 9 heads) at several lengths. Ratios are BertViz / attnwidget,
measured in the same run.

    pip install --no-deps bertviz      # its other requirements (boto3, sentencepiece...) are unused here
    python benchmarks/render.py [--lengths 17 128] [--repeat 3] [--timeout 120] [--no-model-view]
                                [--generation 24] [--notebook notebooks/generation.ipynb]

"drawn ms" is the time from navigation start until every view is drawn, plus two animation
frames: for attnwidget, until the page host has marked the page ready (every view's render has
finished: the token text, heatmap, head grid, rollout and graph of the dashboard); for BertViz,
until its last head (head_view) or last thumbnail (model_view) is in the DOM. Each page is loaded
cold in a fresh browser, `--repeat` times, and the best load is kept. "inflates" counts the
page's `DecompressionStream`s (attnwidget inflates its coded maps in the browser).

Two more pages are sized (no BertViz twin): the saved `aw.show` of a generation (`aw.generate`
asked to list five facts about Paris, with `--generation` new tokens: about 60 in all), and the page
`jupyter nbconvert --execute --to html` makes of `--notebook` (every widget the notebook shows).

BertViz pages load require.js, d3 and jQuery from cdnjs. Chromium here has no network, so those
requests are answered from local copies installed with npm into the cache directory (jQuery 2.1.0
stands in for 2.0.0, which npm does not have); their bytes are listed apart from the page's own.
Each BertViz page is built in a child process with a memory cap (--max-gib), so a page too large to
build is reported as a failure instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import CHROMIUM, CHROMIUM_ARGS, print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402

VENDOR = Path(os.environ.get("ATTNWIDGET_CACHE", Path.home() / ".cache" / "attnwidget")) / "bench-vendor"
# cdnjs path fragment -> file in the npm install
CDN_FILES = {
    "require.js/2.3.6/require.min.js": "node_modules/requirejs/require.js",
    "d3/5.7.0/d3.min.js": "node_modules/d3/dist/d3.min.js",
    "jquery/2.0.0/jquery.min.js": "node_modules/jquery/dist/jquery.min.js",
}

# The host marks the page ready once every view's render has finished (a dashboard's render awaits
# its children's); the heatmap's map and the grid's thumbnails are then in the DOM (show() leaves
# the graph out past 512 tokens).
ATTNWIDGET_DRAWN = """() => document.documentElement.dataset.attnwidgetReady !== undefined
  && document.querySelector(".aw-heatmap canvas") && document.querySelector(".aw-headgrid [data-layer]")"""
VIEW_KINDS = ("heatmap", "headgrid", "rollout", "graph")
# model_view appends one background rect per layer x head thumbnail, the last after all lines.
MODEL_VIEW_DRAWN = "(n) => document.querySelectorAll('rect.attn_background').length === n"
HEAD_VIEW_DRAWN = "(n) => document.querySelectorAll('#attention .headAttention').length === n"
# Counts the page's inflates (run before any of the page's scripts).
COUNT_INFLATES = """(() => { const Real = window.DecompressionStream; if (!Real) return; window.__awInflates = 0;
  window.DecompressionStream = class extends Real { constructor(f) { super(f); window.__awInflates++; } }; })();"""


def vendor() -> Path:
    if not all((VENDOR / f).exists() for f in CDN_FILES.values()):
        VENDOR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(VENDOR),
                "requirejs@2.3.6",
                "d3@5.7.0",
                "jquery@2.1.0",
            ],
            check=True,
        )
    return VENDOR


def _bertviz_child(kind, npz, out, max_gib, queue):
    resource.setrlimit(resource.RLIMIT_AS, (max_gib * 2**30, max_gib * 2**30))
    try:
        import numpy as np
        import torch
        from bertviz import head_view, model_view

        data = np.load(npz)
        w = torch.from_numpy(data["weights"])
        tokens = [str(t) for t in data["tokens"]]
        layers = [w[i][None] for i in range(w.shape[0])]  # BertViz wants (1, heads, n, n) per layer
        view = model_view if kind == "model_view" else head_view
        html = view(attention=layers, tokens=tokens, html_action="return").data
        Path(out).write_text(html, encoding="utf-8")
        queue.put(("ok", len(html.encode("utf-8"))))
    except MemoryError:
        queue.put(("fail", f"out of memory building the page (cap {max_gib} GiB)"))
    except Exception as e:  # reported in the table, not hidden
        queue.put(("fail", f"{type(e).__name__}: {e}"[:80]))


def build_bertviz(kind: str, npz: Path, out: Path, max_gib: int, timeout: float):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_bertviz_child, args=(kind, str(npz), str(out), max_gib, q))
    t = time.perf_counter()
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.kill()
        p.join()
        return None, f"building the page took over {timeout:.0f} s", time.perf_counter() - t
    if p.exitcode != 0 or q.empty():
        return None, f"builder died (exit {p.exitcode})", time.perf_counter() - t
    status, value = q.get()
    return (value, None, time.perf_counter() - t) if status == "ok" else (None, value, time.perf_counter() - t)


def _measure_once(path: str, condition: str, arg, timeout_s: float) -> dict:
    """One cold load in a fresh browser: ms from navigation start until `condition(arg)` holds."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    vendor_dir = vendor()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(COUNT_INFLATES)

        def route(r):
            url = r.request.url
            if url.startswith("file:"):
                return r.continue_()
            for frag, file in CDN_FILES.items():
                if frag in url:
                    return r.fulfill(path=str(vendor_dir / file), content_type="text/javascript")
            r.abort("internetdisconnected")

        page.route("**/*", route)
        try:
            page.goto(Path(path).as_uri(), wait_until="commit", timeout=timeout_s * 1000)
            page.wait_for_function(condition, arg=arg, polling="raf", timeout=timeout_s * 1000)
            # Two frames: whatever the views drew is on screen.
            ms = page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"
            )
            return {"ms": ms, "inflates": page.evaluate("() => window.__awInflates ?? 0")}
        except PlaywrightError as e:
            msg = str(e).splitlines()[0]
            err = f"not drawn within {timeout_s:.0f} s" if "Timeout" in msg else msg[:60]
            return {"error": err + (f" ({errors[0][:50]})" if errors else "")}


def time_to_drawn(path: Path, condition: str, arg, timeout_s: float, repeat: int):
    """Best of `repeat` cold loads, each in its own process that is killed past the deadline
    (a renderer stuck on a huge page does not answer Playwright's own timeouts).
    Returns (best ms, inflates of a load, error)."""
    best, inflates = None, None
    for _ in range(repeat):
        cmd = [sys.executable, __file__, "--measure", str(path), condition, json.dumps(arg), str(timeout_s)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout_s + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return best, inflates, f"page hung; killed after {timeout_s + 60:.0f} s"
        if proc.returncode != 0 or not out.strip():
            return best, inflates, f"browser process failed (exit {proc.returncode})"
        result = json.loads(out.strip().splitlines()[-1])
        if "error" in result:
            return best, inflates, result["error"]
        best = result["ms"] if best is None else min(best, result["ms"])
        inflates = result["inflates"]
    return best, inflates, None


def mib(n):
    return f"{n / 2**20:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[17, 128])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120, help="seconds allowed to build or draw one page")
    ap.add_argument("--max-gib", type=int, default=8, help="memory cap for building one BertViz page")
    ap.add_argument("--keep", type=Path, help="keep the pages in this directory")
    ap.add_argument("--no-model-view", action="store_true", help="time BertViz's head_view only")
    ap.add_argument("--generation", type=int, default=24, help="new tokens of the generation page (0: none)")
    ap.add_argument("--notebook", type=Path, help="also size the nbconvert page of this notebook")
    args = ap.parse_args()

    import numpy as np

    vendor()
    lib_bytes = sum((VENDOR / f).stat().st_size for f in CDN_FILES.values())
    model, tok = aw.load_model()
    work = args.keep or Path(tempfile.mkdtemp(prefix="aw-render-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.lengths:
        att = aw.extract(model, tok, prompt_text(tok, n))
        L, H, Q, K = att.shape
        print(f"n={K}: {L} layers x {H} heads", file=sys.stderr, flush=True)
        ours = work / f"attnwidget-{K}.html"
        t = time.perf_counter()
        dash = aw.show(att)
        views = "+".join(k for k in VIEW_KINDS if getattr(dash, k, None) is not None)
        aw.save_html(dash, ours)
        ours_build = time.perf_counter() - t
        ours_bytes = ours.stat().st_size
        ours_ms, ours_inflates, ours_err = time_to_drawn(ours, ATTNWIDGET_DRAWN, None, args.timeout, args.repeat)
        rows.append(
            [
                K,
                f"attnwidget {views}",
                mib(ours_bytes),
                f"{ours_build:.1f}",
                ours_err or f"{ours_ms:.0f}",
                "-" if ours_inflates is None else str(ours_inflates),
                "1",
                "1",
            ]
        )

        npz = work / f"att-{K}.npz"
        np.savez(npz, weights=att.weights, tokens=np.array(att.tokens, dtype=object).astype(str))
        kinds = [("head_view", HEAD_VIEW_DRAWN, H)]
        if not args.no_model_view:
            kinds.append(("model_view", MODEL_VIEW_DRAWN, L * H))
        for kind, cond, arg in kinds:
            page = work / f"bertviz-{kind}-{K}.html"
            nbytes, err, build_s = build_bertviz(kind, npz, page, args.max_gib, args.timeout)
            ms = inflates = None
            if err is None:
                ms, inflates, err = time_to_drawn(page, cond, arg, args.timeout, args.repeat)
            size_ratio = f"{nbytes / ours_bytes:.1f}x" if nbytes else "-"
            time_ratio = f"{ms / ours_ms:.1f}x" if (ms and ours_ms) else "-"
            rows.append(
                [
                    K,
                    f"bertviz {kind}",
                    mib(nbytes) if nbytes else "-",
                    f"{build_s:.1f}",
                    err or f"{ms:.0f}",
                    "-" if inflates is None else str(inflates),
                    size_ratio,
                    time_ratio,
                ]
            )
            if not args.keep:
                page.unlink(missing_ok=True)
        print(json.dumps(rows[-1 - len(kinds) :]), file=sys.stderr, flush=True)
    if args.generation:
        gen = aw.generate(
            model,
            tok,
            messages=[{"role": "user", "content": "List five facts about Paris."}],
            max_new_tokens=args.generation,
        )
        page = work / f"attnwidget-generation-{gen.n_key}.html"
        t = time.perf_counter()
        aw.save_html(aw.show(gen), page)
        build = time.perf_counter() - t
        ms, inflates, err = time_to_drawn(page, ATTNWIDGET_DRAWN, None, args.timeout, args.repeat)
        rows.append(
            [
                gen.n_key,
                "attnwidget generation show()",
                mib(page.stat().st_size),
                f"{build:.1f}",
                err or f"{ms:.0f}",
                "-" if inflates is None else str(inflates),
                "-",
                "-",
            ]
        )
    if args.notebook:
        nb = Path(args.notebook).resolve()
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter",
                "nbconvert",
                "--execute",
                "--to",
                "html",
                "--output-dir",
                str(work),
                str(nb),
            ],
            check=True,
            capture_output=True,
        )
        page = work / (nb.stem + ".html")
        rows.append(
            [
                "-",
                f"nbconvert {nb.name}",
                mib(page.stat().st_size),
                f"{time.perf_counter() - t:.1f}",
                "-",
                "-",
                "-",
                "-",
            ]
        )
    print(
        f"\nSmolLM2-135M-Instruct, all layers and heads; headless {CHROMIUM}; best of {args.repeat} cold loads; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end."
    )
    print(f"BertViz pages also fetch require.js + d3 + jQuery: {mib(lib_bytes)} MiB, not counted below.\n")
    print_table(["n", "page", "MiB", "build s", "drawn ms", "inflates", "size ratio", "time ratio"], rows)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--measure":
        print(json.dumps(_measure_once(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), float(sys.argv[5]))))
    else:
        main()
