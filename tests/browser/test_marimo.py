"""marimo draws each anywidget in a shadow root, where a stylesheet in the page's head never
reaches: `marimo run` on loopback shows `aw.show`, and the views are styled there (border,
padding, positioned roots), tooltips sit by the pointer and hovering links the views."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from helpers.reading import KINDS, check_tooltips, view_tops
from helpers.screen import FIRST_SCREEN_CONTROLS, first_screen_of, whole_layers_of

ROOT = Path(__file__).resolve().parents[2]

# No model: a fixed causal attention with a first-token sink, so the app starts in a second.
APP = textwrap.dedent("""
    import marimo

    app = marimo.App(width="full")


    @app.cell
    def _():
        import numpy as np

        import attnwidget as aw

        words = "The cat sat on the mat because the mat was warm . The cat".split()
        n = len(words)
        rng = np.random.default_rng(3)
        w = rng.random((4, 4, n, n)) * np.tril(np.ones((n, n)))
        w[..., 0] += 2.0  # most attention on the first token, as in real decoders
        w = np.tril(w)
        w /= w.sum(-1, keepdims=True)
        att = aw.Attention(w, [words[0]] + [" " + t for t in words[1:]])
        dash = aw.show(att, layer=1)
        dash
        return


    if __name__ == "__main__":
        app.run()
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory, artifacts):
    base = tmp_path_factory.mktemp("marimo")
    (base / "app.py").write_text(APP)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    log = base / "marimo.log"
    cmd = [
        sys.executable,
        "-m",
        "marimo",
        "run",
        "app.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--headless",
        "--no-token",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=base, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"marimo exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, f"marimo did not answer in 120 s:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        (artifacts / "marimo-server.log").write_bytes(log.read_bytes())


STYLE = """el => {
  const s = getComputedStyle(el);
  return { border: s.borderTopWidth, padding: s.paddingLeft, position: s.position,
           inShadow: el.getRootNode() instanceof ShadowRoot };
}"""


def test_views_are_styled_inside_marimo_shadow_roots(page, marimo_app, artifacts):
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(marimo_app)
    pg.locator(".aw-headgrid [data-layer][data-head]").first.wait_for(state="visible", timeout=120_000)
    pg.locator(".aw-graph .aw-node").first.wait_for(state="attached")
    pg.wait_for_timeout(300)
    pg.screenshot(path=str(artifacts / "marimo-dashboard.png"))
    for kind in KINDS:
        got = pg.locator(f".attnwidget.aw-{kind}").first.evaluate(STYLE)
        assert got["inShadow"], f"{kind}: expected marimo to draw it in a shadow root"
        # The stylesheet's rules for views inside a dashboard (8 px padding), so the stylesheet reached them.
        assert got["border"] == "1px" and got["padding"] == "8px" and got["position"] == "relative", (kind, got)
    tops = view_tops(pg)
    assert all(y < 800 for y in tops.values()), f"views below the first screen: {tops}"
    # The calm first screen holds in marimo too: few controls, the pictures whole, six layers of heads
    # (or all of them).
    dash = pg.locator(".aw-dashboard").first
    dash.evaluate("e => e.scrollIntoView({ block: 'start' })")
    pg.mouse.move(5, 795)
    pg.wait_for_timeout(300)
    screen = first_screen_of(dash)
    assert screen["controls"] <= FIRST_SCREEN_CONTROLS, screen["names"]
    assert screen["text"] == pytest.approx(1.0) and screen["heatmap"] == pytest.approx(1.0), screen
    assert screen["headgrid"] == pytest.approx(1.0), screen
    cells = dash.locator(".aw-headgrid .aw-grid [data-layer][data-head]")
    layers = len(set(cells.evaluate_all("els => els.map(e => e.dataset.layer)")))
    assert whole_layers_of(dash) >= min(6, layers)
    check_tooltips(pg)
    # Hovering a heatmap label marks the token in the other views (linking through host.getModel).
    pg.locator(".aw-heatmap .aw-key-labels [data-token-index='4']").first.hover()
    for kind in ("tokentext", "headgrid", "rollout", "graph"):
        pg.locator(f".aw-{kind} .aw-hovered[data-token-index='4']").first.wait_for(state="attached")
    pg.screenshot(path=str(artifacts / "marimo-hovered.png"))
    assert page.errors == []
