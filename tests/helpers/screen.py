"""What a reader sees on the first screen of a dashboard: the controls they can use, how much of
each picture is on screen, how many head-grid layers show whole, and the legends' pixels (to tell
that a toolbar change reached every view)."""

from __future__ import annotations

# At most this many controls (select, button, input) on a dashboard's first screen.
FIRST_SCREEN_CONTROLS = 12

_FIRST_SCREEN = """(scope) => {
  // A selector, or the element itself (inside a shadow root, where document.querySelector cannot reach).
  const root = typeof scope === "string" ? (scope ? document.querySelector(scope) : document) : scope;
  const H = innerHeight, W = innerWidth;
  const shown = (r) => r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < H && r.right > 0 && r.left < W;
  // Usable: enabled, laid out, not hidden, not transparent (a closed menu or a hidden tab is neither).
  const controls = [...root.querySelectorAll("select,button,input")].filter((e) => !e.disabled
    && e.checkVisibility({ visibilityProperty: true, opacityProperty: true }) && shown(e.getBoundingClientRect()));
  const part = (sel) => {
    const e = root.querySelector(sel);
    if (!e) return 0;
    const r = e.getBoundingClientRect();
    const w = Math.max(0, Math.min(r.right, W) - Math.max(r.left, 0)), h = Math.max(0, Math.min(r.bottom, H) - Math.max(r.top, 0));
    return r.width * r.height ? (w * h) / (r.width * r.height) : 0;
  };
  const top = (sel) => root.querySelector(sel)?.getBoundingClientRect().top ?? Infinity;
  const dash = root.querySelector(".aw-dashboard");
  return {
    controls: controls.length,
    names: controls.map((e) => (e.closest("label")?.textContent || e.textContent || e.className).trim().slice(0, 20)),
    text: part(".aw-tokentext .aw-text"), heatmap: part(".aw-heatmap canvas.aw-map"), headgrid: part(".aw-headgrid .aw-grid"),
    heatmap_top: top(".aw-heatmap"), headgrid_top: top(".aw-headgrid"),
    height: dash ? dash.getBoundingClientRect().bottom : Infinity,
  };
}"""

_WHOLE_LAYERS = """(scope) => {
  const root = typeof scope === "string" ? (scope ? document.querySelector(scope) : document) : scope;
  const box = root.querySelector(".aw-headgrid .aw-grid").getBoundingClientRect();
  const layers = new Map();
  for (const c of root.querySelectorAll(".aw-headgrid .aw-grid [data-layer][data-head]")) {
    const r = c.getBoundingClientRect(), l = c.dataset.layer;
    const inside = r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
    layers.set(l, (layers.get(l) ?? true) && inside);
  }
  return [...layers.values()].filter(Boolean).length;
}"""


def first_screen(pg, scope: str = "") -> dict:
    """Controls usable on the first screen (count and names) and the visible fraction of the token
    text, the heatmap canvas and the head grid's box; the tops of the heatmap and head grid views and
    the dashboard's bottom, in viewport pixels."""
    return pg.evaluate(_FIRST_SCREEN, scope)


def first_screen_of(locator) -> dict:
    """`first_screen` inside one element (a dashboard in marimo's shadow root)."""
    return locator.evaluate(_FIRST_SCREEN)


def whole_layers_of(locator) -> int:
    """`whole_layers` inside one element."""
    return locator.evaluate(_WHOLE_LAYERS)


def whole_layers(pg, scope: str = "") -> int:
    """Layers of the head grid whose thumbnails all lie inside its scrolled box."""
    return pg.evaluate(_WHOLE_LAYERS, scope)


def legend_pictures(pg, scope: str = "") -> dict:
    """Each view's legend canvas as a data URL, by view kind."""
    return pg.evaluate(
        """(scope) => Object.fromEntries(["tokentext", "heatmap", "headgrid", "rollout", "graph"]
          .map((k) => [k, document.querySelector(`${scope} .aw-${k} .aw-legend canvas`.trim())])
          .filter(([, c]) => c).map(([k, c]) => [k, c.toDataURL()]))""",
        scope,
    )


def pick_colours(pg, name: str, scope: str = "") -> None:
    """Choose colour map `name` in the dashboard's toolbar."""
    pg.locator(f"{scope} .aw-toolbar .aw-tb-colours select".strip()).first.select_option(name)
