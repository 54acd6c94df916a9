"""Screenshots of the views for the README's gallery, light and dark, from the bundled SmolLM2.

    python scripts/gallery.py            # writes docs/gallery/*.png (about a minute on two cores)

Each picture is taken from a page written by ``aw.save_html`` and opened in Debian's chromium at
1280 x 800 (a laptop screen) with the reader's colour scheme set to light or dark; the views
follow it through their CSS variables. Nothing leaves the machine: the page is offline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import attnwidget as aw  # noqa: E402  (after the checkout is put first on sys.path)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PROMPT = "The cat sat on the mat because the mat was warm. The cat"


def pages(tmp: Path) -> dict[str, Path]:
    model, tok = aw.load_model()
    att = aw.extract(model, tok, PROMPT)
    out = {"dashboard": aw.save_html(aw.show(att, layer=5, head=None), tmp / "dashboard.html", title="attnwidget")}
    return out


def shoot(out_dir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as d, sync_playwright() as pw:
        paths = pages(Path(d))
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for scheme in ("light", "dark"):
            ctx = browser.new_context(
                viewport={"width": 1280, "height": 800}, color_scheme=scheme, device_scale_factor=1
            )
            ctx.route(
                "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort()
            )
            pg = ctx.new_page()
            pg.goto(paths["dashboard"].as_uri())
            pg.locator(".aw-headgrid [data-layer][data-head]").first.wait_for(state="visible", timeout=60_000)
            pg.locator(".aw-graph .aw-node").first.wait_for(state="attached", timeout=60_000)
            pg.evaluate("document.body.style.margin = '8px'")
            # A reader's pose: hovering " cat" in the heatmap's key labels links every view.
            label = pg.locator(".aw-heatmap .aw-key-labels [data-token-index='1']").first
            label.hover()
            pg.wait_for_timeout(300)
            shot = out_dir / f"dashboard-{scheme}.png"
            pg.screenshot(path=str(shot))
            written.append(shot)
            for kind in ("tokentext", "heatmap", "headgrid", "rollout", "graph"):
                tab = pg.locator(f".aw-tab[data-tab='{kind}']")
                if tab.count():  # head grid, rollout and graph share the tabbed pane beside the heatmap
                    tab.first.click()
                    pg.wait_for_timeout(200)
                shot = out_dir / f"{kind}-{scheme}.png"
                pg.locator(f".aw-{kind}").first.screenshot(path=str(shot))
                written.append(shot)
            ctx.close()
        browser.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    args = ap.parse_args()
    for p in shoot(args.out):
        print(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)


if __name__ == "__main__":
    main()
