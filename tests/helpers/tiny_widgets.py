"""Two small anywidgets that exercise the export host the way attnwidget's views use anywidget:
a headless shared model reached through `anywidget.WidgetTrait` + ``host.getModel``, a binary
buffer read as a DataView, token elements with ``data-token-index`` and ``aw-hovered``.
"""

from __future__ import annotations

import anywidget
import numpy as np
import traitlets as t

from attnwidget.widgets.export import ipython_display


class TinySelection(anywidget.AnyWidget):
    _esm = "export default { render({ model, el }) { el.textContent = 'selection'; } };"
    hovered = t.Int(None, allow_none=True).tag(sync=True)


class TinyTokens(anywidget.AnyWidget):
    """Tokens in a row; hovering one sets the shared `hovered`, every linked row highlights it."""

    _esm = """
export default {
  async render({ model, el, host, signal }) {
    const sel = await host.getModel(model.get("selection"));
    el.classList.add("attnwidget", "tiny-tokens");
    const dv = model.get("_values");
    const values = new Float32Array(dv.buffer, dv.byteOffset, dv.byteLength / 4);
    el.dataset.sum = String(values.reduce((a, b) => a + b, 0));
    model.get("tokens").forEach((text, i) => {
      const span = document.createElement("span");
      span.textContent = text;
      span.dataset.tokenIndex = String(i);
      span.style.margin = "0 4px";
      span.addEventListener("mouseenter", () => { sel.set("hovered", i); sel.save_changes(); }, { signal });
      el.appendChild(span);
    });
    const paint = () => {
      for (const s of el.querySelectorAll("[data-token-index]")) {
        s.classList.toggle("aw-hovered", Number(s.dataset.tokenIndex) === sel.get("hovered"));
        s.style.background = s.classList.contains("aw-hovered") ? "#fd0" : "";
      }
    };
    sel.on("change:hovered", paint);
    paint();
  },
};
"""
    selection = anywidget.WidgetTrait().tag(sync=True)
    tokens = t.List(t.Unicode()).tag(sync=True)
    _values = t.Bytes(b"").tag(sync=True)

    def __init__(self, tokens, values, selection):
        super().__init__(
            tokens=list(tokens), selection=selection, _values=np.asarray(values, dtype=np.float32).tobytes()
        )

    def _ipython_display_(self):
        ipython_display(self)


def linked_pair(tokens=("alpha", "beta", "gamma", "delta")):
    """Two token rows sharing one selection, and the expected sums of their buffers."""
    sel = TinySelection()
    a = TinyTokens(tokens, [0.25, 0.5, 1.0], sel)
    b = TinyTokens(tokens, [2.0, 4.0], sel)
    return a, b, sel
