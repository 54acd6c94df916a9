"""What a reader checks in any page that holds `aw.show`: where tooltips land, which colours the
cards take, and whether every view starts on the first screen. Shared by the saved-page,
JupyterLab and marimo tests."""

from __future__ import annotations

import math

KINDS = ("tokentext", "heatmap", "headgrid", "rollout", "graph")

# Where to put the pointer in each view, and what its tooltip must say. Each target is a CSS
# selector inside the view's root, or (for the graph's edges) a point on an edge's path.
TARGETS = {
    "heatmap": (".aw-overlay", "weight"),
    "headgrid": (".aw-thumb", "layer"),
    "rollout": (".aw-col[data-token-index='2']", "rollout"),
    "graph node": (".aw-node[data-token-index='2'] circle", "attends most to"),
    "graph edge": ("edge", "weight"),
    "tokentext": (".aw-text [data-token-index='2']", "2 "),
}

# The tip's nearest corner may sit this far from the pointer (8 px gap plus rounding).
NEAR_PX = 14

EDGE_POINT = """root => {
  const paths = [...root.querySelectorAll('.aw-edge')];
  // A long edge, so the point is clear of the nodes and of other edges' ends.
  paths.sort((a, b) => b.getTotalLength() - a.getTotalLength());
  const p = paths[Math.min(2, paths.length - 1)];
  const at = p.getPointAtLength(p.getTotalLength() / 2);
  const m = p.getScreenCTM();
  return { x: m.a * at.x + m.c * at.y + m.e, y: m.b * at.x + m.d * at.y + m.f };
}"""


def _distance(px: float, py: float, box: dict) -> float:
    dx = max(box["x"] - px, 0, px - (box["x"] + box["width"]))
    dy = max(box["y"] - py, 0, py - (box["y"] + box["height"]))
    return math.hypot(dx, dy)


def tooltip_offsets(pg, frame=None, scope: str = "") -> dict[str, dict]:
    """Hover each view's target; return, per target, the tip's text, its distance from the pointer
    and whether it lies inside the view's root."""
    where = frame or pg
    out = {}
    for name, (target, _) in TARGETS.items():
        kind = name.split()[0]
        root = where.locator(f"{scope} .attnwidget.aw-{kind}".strip()).first
        # A view in a dashboard's hidden tab is read as a person reads it: its tab clicked first.
        tab = where.locator(f"{scope} .aw-tab[data-tab='{kind}']".strip())
        if tab.count():
            tab.first.click()
        root.scroll_into_view_if_needed()
        if target == "edge":
            pt = root.evaluate(EDGE_POINT)
        else:
            el = root.locator(target).first
            el.scroll_into_view_if_needed()
            b = el.bounding_box()
            pt = {"x": b["x"] + b["width"] / 2, "y": b["y"] + b["height"] / 2}
        pg.mouse.move(pt["x"] - 3, pt["y"] - 3)
        pg.mouse.move(pt["x"], pt["y"])
        tip = root.locator(":scope > .aw-tip")
        tip.wait_for(state="visible")
        box, rb = tip.bounding_box(), root.bounding_box()
        inside = (
            box["x"] >= rb["x"] - 1
            and box["y"] >= rb["y"] - 1
            and box["x"] + box["width"] <= rb["x"] + rb["width"] + 1
            and box["y"] + box["height"] <= rb["y"] + rb["height"] + 1
        )
        out[name] = {"text": tip.inner_text(), "distance": _distance(pt["x"], pt["y"], box), "inside": inside}
        pg.mouse.move(1, 1)
    tab = where.locator(f"{scope} .aw-tab[data-tab='headgrid']".strip())
    if tab.count():
        tab.first.click()
        pg.mouse.move(1, 1)
    return out


def check_tooltips(pg, frame=None, scope: str = "") -> dict[str, dict]:
    got = tooltip_offsets(pg, frame, scope)
    for name, (_, says) in TARGETS.items():
        g = got[name]
        assert says in g["text"], f"{name}: tooltip says {g['text']!r}, expected {says!r} in it"
        assert g["distance"] <= NEAR_PX, f"{name}: tooltip {g['distance']:.0f} px from the pointer"
        assert g["inside"], f"{name}: tooltip leaves the view"
    return got


def view_tops(pg, frame=None, scope: str = "") -> dict[str, float]:
    """Top edge of each view of the dashboard, in viewport pixels."""
    where = frame or pg
    return {k: where.locator(f"{scope} .attnwidget.aw-{k}".strip()).first.bounding_box()["y"] for k in KINDS}


def overflowing(pg, frame=None, scope: str = "") -> dict[str, int]:
    """Views whose body is wider than the view (content cut or scrolled): view -> extra px."""
    where = frame or pg
    out = {}
    for k in KINDS:
        extra = where.locator(f"{scope} .attnwidget.aw-{k} > .aw-body".strip()).first.evaluate(
            "b => b.scrollWidth - b.clientWidth"
        )
        if extra > 1:
            out[k] = extra
    return out


LUMINANCE = """el => {
  const m = getComputedStyle(el).backgroundColor.match(/\\d+(\\.\\d+)?/g).map(Number);
  return 0.299 * m[0] + 0.587 * m[1] + 0.114 * m[2];
}"""


def card_luminance(pg, frame=None, scope: str = "") -> dict[str, float]:
    """Background luminance (0-255) of each view's card."""
    where = frame or pg
    return {k: where.locator(f"{scope} .attnwidget.aw-{k}".strip()).first.evaluate(LUMINANCE) for k in KINDS}
