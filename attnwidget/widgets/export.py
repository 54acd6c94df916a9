"""Widgets outside a kernel: one self-contained HTML file, and notebooks exported by nbconvert.

Both rely on the small anywidget host, built from ``js/src/host/`` into ``static/host.js``
beside the views' bundle (``cd js && npm run build``). It reads widget state in the
``@jupyter-widgets/schema`` form (trait values plus base64 buffers), gives each model a
``get/set/on/off/save_changes/send`` shim, resolves widget references (``anywidget:<id>`` from
``anywidget.WidgetTrait`` and ``IPY_MODEL_<id>`` from ipywidgets) through ``host.getModel``, imports
each model's ``_esm`` text and renders it. Nothing is fetched from the network.

- `save_html` walks the views' synced traits (and every widget they reference, such as a shared
  selection model), and writes one page with the state, the ESM text (stored once when models
  share it) and the host inlined.
- For ``jupyter nbconvert --execute --to html``, nbconvert already embeds the widget state of the
  executed notebook, but it draws widgets with ``@jupyter-widgets/html-manager`` loaded from a
  CDN. `ipython_display` therefore puts the host beside each widget's output as a ``text/html``
  script; in the exported page it draws the anywidget views from the embedded state and marks them
  so that html-manager (when online) does not draw them twice. In a live notebook the script finds
  no embedded state and does nothing.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from attnwidget import _validate as V
from attnwidget.errors import ArgumentTypeError, AttentionError

__all__ = ["save_html", "page_html", "widget_state", "host_script", "ipython_display"]

_HOST_PATH = Path(__file__).resolve().parent.parent / "static" / "host.js"
_PAGE_MIME = "application/vnd.attnwidget.page+json"


def _is_widget(obj: Any) -> bool:
    import ipywidgets

    return isinstance(obj, ipywidgets.Widget)


def _referenced_widgets(value: Any) -> Iterable[Any]:
    """Widgets inside a trait value (directly, or in lists, tuples and dict values)."""
    if _is_widget(value):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _referenced_widgets(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _referenced_widgets(v)


def _collect(views: list) -> list:
    """The views and every widget reachable from their synced traits, each once, views first."""
    seen: dict[str, Any] = {}
    stack = list(reversed(views))
    while stack:
        w = stack.pop()
        if w.model_id in seen:
            continue
        seen[w.model_id] = w
        refs: list[Any] = []
        for name in w.keys:
            refs.extend(_referenced_widgets(getattr(w, name)))
        stack.extend(reversed(refs))
    return list(seen.values())


def widget_state(widgets: Iterable[Any]) -> dict[str, dict]:
    """Widget state in the ``@jupyter-widgets/schema`` form, keyed by model id.

    Parameters
    ----------
    widgets : iterable of ipywidgets.Widget
        The models to serialise (references to other widgets are not followed here).

    Returns
    -------
    dict
        ``{model_id: {"model_name", "model_module", "model_module_version", "state", "buffers"}}``
        where ``buffers`` lists ``{"path", "data", "encoding": "base64"}`` for each binary value.
    """
    from ipywidgets.widgets.widget import _remove_buffers

    out = {}
    for w in widgets:
        settle = getattr(w, "_settle", None)
        if callable(settle):  # kernel work in flight (rollout rows) finishes before the state is saved
            settle()
        state, paths, buffers = _remove_buffers(w.get_state())
        out[w.model_id] = {
            "model_name": state["_model_name"],
            "model_module": state["_model_module"],
            "model_module_version": state["_model_module_version"],
            "state": state,
            "buffers": [
                {"path": list(p), "data": base64.b64encode(bytes(b)).decode("ascii"), "encoding": "base64"}
                for p, b in zip(paths, buffers)
            ],
        }
    return out


def host_script() -> str:
    """The export host as an inline ``<script>`` element.

    Raises
    ------
    FileNotFoundError
        When the host is not built (a source checkout without ``cd js && npm run build``).
    """
    if not _HOST_PATH.is_file():
        raise FileNotFoundError(
            f"the export host {_HOST_PATH} is not built; run `cd js && npm ci && npm run build` "
            "(it is built with the views' bundle)"
        )
    text = _HOST_PATH.read_text(encoding="utf-8")
    if "</script" in text.lower():  # would end the element early
        raise RuntimeError(f"{_HOST_PATH} contains '</script' and cannot be inlined")
    return f"<script>\n{text}</script>"


def _json_for_script(data: Any) -> str:
    # Inside <script> only "</script" and "<!--" are dangerous; no "<" at all leaves none of them.
    # Token text is data: it stays inside JSON strings and views set it with textContent.
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


def _as_views(view_or_views: Any) -> list:
    if _is_widget(view_or_views):
        views = [view_or_views]
    elif isinstance(view_or_views, (list, tuple)):
        views = list(view_or_views)
        if not views:
            raise AttentionError("save_html got an empty list of views; pass a widget or a list of widgets")
    else:
        raise ArgumentTypeError(
            f"save_html expects a widget or a list of widgets (e.g. aw.show(att) or "
            f"[heatmap, grid]); got {type(view_or_views).__name__}"
        )
    for i, v in enumerate(views):
        if not _is_widget(v):
            raise ArgumentTypeError(f"view {i} passed to save_html is a {type(v).__name__}, not a widget")
        if getattr(v, "_model_module", None) != "anywidget":
            raise ArgumentTypeError(
                f"view {i} passed to save_html is a {type(v).__name__}, which is not an anywidget "
                "widget; the exported page can only draw anywidget views"
            )
    return views


def page_html(view_or_views: Any, title: str | None = None) -> str:
    """The text of the page `save_html` writes.

    Parameters
    ----------
    view_or_views : anywidget widget or list of them
        What to show, in order. Widgets they reference (a shared selection model, child views of a
        dashboard) are included automatically.
    title : str, optional
        Heading and ``<title>`` of the page (shown as text, never parsed as HTML).

    Returns
    -------
    str
    """
    views = _as_views(view_or_views)
    state = widget_state(_collect(views))
    # Every attnwidget model carries the same bundle; store each distinct ESM text once.
    esm_table: list[str] = []
    esm_index: dict[str, int] = {}
    for spec in state.values():
        esm = spec["state"].get("_esm")
        if isinstance(esm, str):
            if esm not in esm_index:
                esm_index[esm] = len(esm_table)
                esm_table.append(esm)
            spec["state"]["_esm"] = {"attnwidget_esm": esm_index[esm]}
    page = {"state": state, "esm": esm_table}
    heading = html.escape(V.visible(title)) if title else ""
    slots = "\n".join(
        f'<div class="attnwidget-export-view" data-model-id="{html.escape(v.model_id)}"></div>' for v in views
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="attnwidget">
<title>{heading or "attnwidget"}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #1f2328; background: #ffffff; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e6edf3; background: #010409; color-scheme: dark; }} }}
.attnwidget-export-views {{ display: flex; flex-direction: column; gap: 16px; }}
</style>
</head>
<body>
{f"<h1>{heading}</h1>" if heading else ""}
<div class="attnwidget-export-views">
{slots}
</div>
<script type="{_PAGE_MIME}">{_json_for_script(page)}</script>
{host_script()}
</body>
</html>
"""


def save_html(view_or_views: Any, path: str | Path, title: str | None = None) -> Path:
    """Write views to one self-contained HTML file that works offline, with no kernel.

    The page holds the widgets' state (attention as base64 binary buffers), their JS bundle and a
    minimal anywidget host, so linking between views (hover, clicked heads) keeps working in the
    browser alone. Changes made in the page are not sent anywhere.

    Parameters
    ----------
    view_or_views : anywidget widget or list of them
        E.g. ``aw.show(att)`` or ``[heatmap, grid]``.
    path : str or Path
        File to write (parent directories must exist).
    title : str, optional
        Page heading.

    Returns
    -------
    Path
        The file written.
    """
    title = V.text("title", title, optional=True)  # a str that encodes to UTF-8
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise AttentionError(f"save_html writes an HTML page; give a path ending in .html, got {str(path)!r}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save_html: directory {str(path.parent)!r} does not exist")
    path.write_text(page_html(view_or_views, title), encoding="utf-8")
    return path


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def ipython_display(widget: Any) -> None:
    """Display `widget` in IPython with the export host beside it.

    For a widget's ``_ipython_display_``: in a kernel it publishes a ``text/html`` output holding
    the host script, then the widget's own bundle. Only the page nbconvert makes of the notebook
    runs the host (see the module docstring); outside a kernel just the widget is displayed.
    """
    from IPython.display import display

    # A checkout without the built host still displays the widget (which then says the bundle is
    # not built); only the page nbconvert would make of the notebook lacks the host.
    if _in_kernel() and _HOST_PATH.is_file():
        display({"text/html": host_script()}, raw=True)
    bundle = widget._repr_mimebundle_()
    if bundle is None:  # a widget with no view (anywidget returns None when _view_name is None)
        return
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    display(data, metadata=metadata, raw=True)
