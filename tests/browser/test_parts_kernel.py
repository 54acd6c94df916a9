"""An encoder-decoder result shown in a real JupyterLab: target tokens link between the decoder and
the cross part with a kernel behind the page, the kernel hears each linked field, and the source and
target strips above the parts pin through the same fields."""

from __future__ import annotations

import nbformat
import pytest
from helpers.jupyter import open_and_run_all

pytestmark = pytest.mark.slow

# Source and target of their own lengths, built in numpy: the kernel needs no model.
SETUP = """import numpy as np
import attnwidget as aw

rng = np.random.default_rng(0)
def weights(q, k, causal=False):
    w = rng.random((2, 2, q, k)).astype(np.float32) ** 3 + 1e-3
    if causal:
        w = np.tril(w)
    return w / w.sum(-1, keepdims=True)
src, tgt = ["s0", "s1", "s2", "s3"], ["<s>", "t1", "t2", "t3", "t4", "t5"]
s = aw.Seq2SeqAttention(
    aw.Attention(weights(4, 4), src),
    aw.Attention(weights(6, 6, causal=True), tgt),
    aw.Attention(weights(6, 4), src, query_tokens=tgt),
)
dash = aw.show(s, part="decoder")
dash"""
# From the kernel: pin target row 4 of the cross part.
PIN = "dash.cross.pinned_query = 4"
READ = (
    'print(f"cross rows {dash.cross.pinned_query} cross keys {dash.cross.pinned_token} '
    'decoder {dash.decoder.selection.pinned_token} encoder {dash.encoder.selection.pinned_token}")'
)


def test_target_pins_link_decoder_and_cross_with_a_kernel(page, jupyterlab, artifacts):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, PIN, READ)]
    nbformat.write(nb, str(jupyterlab.root / "parts.ipynb"))
    pg = page.page
    # A laptop screen, the file browser open beside the notebook.
    pg.set_viewport_size({"width": 1280, "height": 800})
    open_and_run_all(pg, jupyterlab, "parts.ipynb")
    text = pg.locator(".aw-parts .aw-part .aw-tokentext .aw-text").first
    text.wait_for(timeout=120_000)
    # Kernel to page: the cross row pinned in Python is the decoder's token 4.
    text.locator(".aw-pinned[data-token-index='4']").wait_for()
    assert text.locator(".aw-pinned").count() == 1
    source, target = (pg.locator(f".aw-parts .aw-part-strip[data-side='{side}']") for side in ("source", "target"))
    target.locator(".aw-pinned[data-token-index='4']").wait_for()
    assert source.locator(".aw-pinned").count() == 0

    # Page to kernel: pin target token 2 in the decoder text; the kernel's cross selection holds
    # row 2 and no source token (source token 2 is another token).
    text.locator("[data-token-index='2']").click()
    text.locator(".aw-pinned[data-token-index='2']").wait_for()
    reader = pg.locator(".jp-Notebook .jp-CodeCell").nth(2)

    def kernel_reads(want: str) -> None:
        for _ in range(5):
            reader.locator(".jp-InputPrompt").click()
            pg.keyboard.press("Shift+Enter")
            pg.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
            got = reader.locator(".jp-OutputArea-output").last.inner_text()
            if want in got:
                return
            pg.wait_for_timeout(300)
        assert want in got, got

    kernel_reads("cross rows 2 cross keys None decoder 2 encoder None")
    target.locator(".aw-pinned[data-token-index='2']").wait_for()
    # The cross part draws it: row 2's label pinned, no source column.
    pg.locator(".aw-parts .aw-part-tab[data-part='cross']").click()
    pg.locator(".aw-parts .aw-heatmap .aw-query-labels .aw-pinned[data-query-index='2']").first.wait_for()
    pg.locator(".aw-parts .aw-cross-graph .aw-query-node.aw-pinned[data-query-index='2']").first.wait_for()
    assert pg.locator(".aw-parts .aw-heatmap .aw-key-labels .aw-pinned").count() == 0
    # A source token pinned from its strip: the cross column and the encoder, in the kernel too.
    source.locator("[data-token-index='1']").click()
    pg.locator(".aw-parts .aw-heatmap .aw-key-labels .aw-pinned[data-token-index='1']").first.wait_for()
    kernel_reads("cross rows 2 cross keys 1 decoder 2 encoder 1")
    source.locator("[data-token-index='1']").scroll_into_view_if_needed()
    target.locator("[data-token-index='3']").hover()
    pg.locator(".aw-parts .aw-heatmap .aw-query-labels .aw-hovered[data-query-index='3']").first.wait_for()
    pg.screenshot(path=str(artifacts / "jupyterlab-parts-pinned.png"))
    assert page.errors == []
