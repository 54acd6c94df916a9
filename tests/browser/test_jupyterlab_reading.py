"""`aw.show` in a real JupyterLab at a laptop's 1280 x 800 with the file browser open, in the
Light and the Dark theme: the cards take the theme's colours, every view starts on the first
screen of the notebook and tooltips sit by the pointer."""

from __future__ import annotations

import json

import nbformat
import pytest
from helpers.jupyter import ERROR_OUTPUT, KERNEL_TIMEOUT_MS, open_and_run_all
from helpers.reading import KINDS, card_luminance, check_tooltips, overflowing

pytestmark = pytest.mark.slow

# No model: a fixed causal attention with a first-token sink, so the kernel is ready at once.
SOURCE = """\
import numpy as np
import attnwidget as aw

words = "The cat sat on the mat because the mat was warm . The cat".split()
n = len(words)
rng = np.random.default_rng(3)
w = rng.random((4, 4, n, n)) * np.tril(np.ones((n, n)))
w[..., 0] += 2.0
w = np.tril(w)
w /= w.sum(-1, keepdims=True)
att = aw.Attention(w, [words[0]] + [" " + t for t in words[1:]])
aw.show(att, layer=1)
"""

THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def set_theme(pg, lab, name: str) -> None:
    """Choose the theme through the settings API, as Settings > Theme would store it."""
    url = lab.url("lab/api/settings/@jupyterlab/apputils-extension:themes")
    status = pg.evaluate(
        """async ([url, raw]) => {
      const r = await fetch(url, { method: "PUT", headers: { "Content-Type": "application/json" },
                                   body: JSON.stringify({ raw }) });
      return r.status;
    }""",
        [url, json.dumps({"theme": name})],
    )
    assert status == 204, f"settings API answered {status}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_show_reads_right_in_jupyterlab(page, jupyterlab, artifacts, scheme):
    name = f"reading-{scheme}.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SOURCE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, jupyterlab.root / name)
    pg = page.page
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.goto(jupyterlab.url("lab"))
    pg.locator("#jp-main-dock-panel").wait_for()
    set_theme(pg, jupyterlab, THEMES[scheme])
    # A workspace of its own, so the other theme's notebook is not open behind this one.
    open_and_run_all(pg, jupyterlab, name, route=f"lab/workspaces/{scheme}/tree/{name}")
    pg.locator(f"body[data-jp-theme-light='{'true' if scheme == 'light' else 'false'}']").wait_for(state="attached")
    pg.locator(f".aw-headgrid [data-layer][data-head], {ERROR_OUTPUT}").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    assert pg.locator(ERROR_OUTPUT).count() == 0, pg.locator(ERROR_OUTPUT).first.inner_text()
    pg.locator(".aw-graph .aw-node").first.wait_for(state="attached")
    # A laptop with the file browser open: the notebook gets what the sidebar leaves.
    if not pg.locator(".jp-FileBrowser").first.is_visible():
        pg.locator("li[data-id='filebrowser']").first.click()
    pg.locator(".jp-FileBrowser").first.wait_for(state="visible")
    dash = pg.locator(".aw-dashboard").first
    width = dash.evaluate("e => e.clientWidth")
    assert 800 <= width <= 1100, f"the output is {width} px wide; expected a laptop's notebook column"
    pg.wait_for_timeout(300)
    dash.evaluate("e => e.scrollIntoView({ block: 'start' })")
    pg.wait_for_timeout(200)
    pg.screenshot(path=str(artifacts / f"jupyterlab-{scheme}-1280x800.png"))
    tops = {k: pg.locator(f".attnwidget.aw-{k}").first.bounding_box()["y"] for k in KINDS}
    assert all(0 <= y < 800 for y in tops.values()), f"views below the first screen: {tops}"
    assert overflowing(pg) == {}
    lum = card_luminance(pg)
    if scheme == "light":
        assert all(v > 230 for v in lum.values()), lum
    else:
        assert all(v < 60 for v in lum.values()), lum
    check_tooltips(pg)
    pg.screenshot(path=str(artifacts / f"jupyterlab-{scheme}-tooltips.png"))
    assert page.errors == []
