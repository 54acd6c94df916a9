"""What a person does with the five linked views, for every page that shows them: wait until they
have drawn, hover a token label in the heatmap, click a head in the grid, save screenshots."""

from __future__ import annotations

from pathlib import Path

KINDS = ("heatmap", "headgrid", "rollout", "graph")


def wait_drawn(pg, scope: str = "") -> None:
    """Every view's root is on the page, laid out, and has drawn something. A dashboard's Rollout and
    Graph tabs are drawn while hidden (`visibility: hidden`, with their size), so roots are waited
    for as attached and laid out rather than visible."""
    for kind in KINDS:
        root = pg.locator(f"{scope} .attnwidget.aw-{kind}".strip()).first
        root.wait_for(state="attached")
        pg.wait_for_function("el => el.getBoundingClientRect().height > 0", arg=root.element_handle())
    pg.locator(f"{scope} .aw-heatmap canvas".strip()).first.wait_for(state="visible")
    pg.locator(f"{scope} .aw-headgrid [data-layer][data-head]".strip()).first.wait_for(state="visible")


def show_tab(pg, kind: str, scope: str = "") -> None:
    """Click a dashboard's tab of `kind` (headgrid, rollout, graph) when the view sits in one."""
    tab = pg.locator(f"{scope} .aw-tab[data-tab='{kind}']".strip())
    if tab.count():
        tab.first.click()


def screenshots(pg, artifacts: Path, prefix: str, scope: str = "") -> None:
    for kind in KINDS:
        show_tab(pg, kind, scope)
        pg.locator(f"{scope} .aw-{kind}".strip()).first.screenshot(path=str(artifacts / f"{prefix}-{kind}.png"))
    show_tab(pg, "headgrid", scope)


def hover_links_every_view(pg, token: int, scope: str = "") -> None:
    """Hover token label `token` in the heatmap; the three other views mark that token hovered."""
    label = pg.locator(f"{scope} .aw-heatmap [data-token-index='{token}']".strip()).first
    label.scroll_into_view_if_needed()
    label.hover()
    for kind in ("headgrid", "rollout", "graph"):
        marked = pg.locator(f"{scope} .aw-{kind} .aw-hovered[data-token-index='{token}']".strip()).first
        marked.wait_for(state="attached")
    # Only that token is marked (per view, every element of it).
    for kind in KINDS:
        indices = pg.locator(f"{scope} .aw-{kind} .aw-hovered".strip()).evaluate_all(
            "els => [...new Set(els.map(e => e.dataset.tokenIndex))]"
        )
        assert indices in ([str(token)], []), f"{kind} marks tokens {indices} as hovered, expected only {token}"


def click_head_selects_it(pg, layer: int, head: int, scope: str = "") -> None:
    """Click the grid's thumbnail of `layer`/`head`; the heatmap then shows that head."""
    thumb = pg.locator(f"{scope} .aw-headgrid [data-layer='{layer}'][data-head='{head}']".strip()).first
    thumb.scroll_into_view_if_needed()
    thumb.click()
    heat = pg.locator(f"{scope} .aw-heatmap[data-layer='{layer}'][data-head='{head}']".strip()).first
    heat.wait_for(state="attached")
