"""save_html's page: what it holds, how it escapes, what it refuses (drawing is tests/browser's)."""

from __future__ import annotations

import base64
import json
import re

import anywidget
import ipywidgets
import numpy as np
import pytest
import traitlets as t

import attnwidget as aw
from attnwidget.widgets import export


class Shared(anywidget.AnyWidget):
    _esm = "export default {};"
    value = t.Int(0).tag(sync=True)


class View(anywidget.AnyWidget):
    _esm = "export default { render({ el }) { el.textContent = 'view'; } };"
    shared = anywidget.WidgetTrait().tag(sync=True)
    labels = t.List(t.Unicode()).tag(sync=True)
    data = t.Bytes(b"").tag(sync=True)


def _page_data(text: str) -> dict:
    m = re.search(r'<script type="application/vnd\.attnwidget\.page\+json">(.*?)</script>', text, re.S)
    assert m, "page has no state script"
    return json.loads(m.group(1))


def test_page_holds_views_referenced_models_and_buffers(tmp_path):
    shared = Shared(value=7)
    arr = np.arange(6, dtype=np.float32)
    a = View(shared=shared, labels=["x"], data=arr.tobytes())
    b = View(shared=shared, labels=["y"], data=b"\x01\x02")
    path = aw.save_html([a, b], tmp_path / "p.html")
    text = path.read_text()
    page = _page_data(text)
    state = page["state"]
    assert set(state) >= {a.model_id, b.model_id, shared.model_id}
    assert state[shared.model_id]["state"]["value"] == 7
    assert state[a.model_id]["state"]["shared"] == f"anywidget:{shared.model_id}"
    (buf,) = state[a.model_id]["buffers"]
    assert buf["path"] == ["data"]
    assert np.array_equal(np.frombuffer(base64.b64decode(buf["data"]), np.float32), arr)
    # One copy of each distinct ESM text, however many models use it.
    assert sorted(page["esm"]) == sorted({View._esm, Shared._esm})
    assert state[a.model_id]["state"]["_esm"] == state[b.model_id]["state"]["_esm"]
    # The two views get a slot each, in order; the shared model is reached through them.
    slots = re.findall(r'class="attnwidget-export-view" data-model-id="([^"]+)"', text)
    assert slots == [a.model_id, b.model_id]


def test_markup_in_state_cannot_end_the_script(tmp_path):
    hostile = "</script><script>alert(1)</script><!--"
    v = View(shared=Shared(), labels=[hostile])
    text = aw.save_html(v, tmp_path / "p.html", title="<img src=x onerror=alert(1)>").read_text()
    plain = aw.save_html(View(shared=Shared(), labels=["ok"]), tmp_path / "q.html").read_text()
    assert text.lower().count("<script") == plain.lower().count("<script")
    assert "alert(1)</script>" not in text
    assert "<img" not in text
    assert _page_data(text)["state"][v.model_id]["state"]["labels"] == [hostile]


def test_bad_arguments_are_named():
    v = View(shared=Shared())
    with pytest.raises(TypeError, match="widget or a list of widgets"):
        export.page_html("not a widget")
    with pytest.raises(ValueError, match="empty list"):
        export.page_html([])
    with pytest.raises(TypeError, match="view 1 .* not a widget"):
        export.page_html([v, 3])
    with pytest.raises(TypeError, match="not an anywidget"):
        export.page_html(ipywidgets.IntSlider())


def test_bad_paths_are_named(tmp_path):
    v = View(shared=Shared())
    with pytest.raises(ValueError, match=r"ending in \.html"):
        aw.save_html(v, tmp_path / "p.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        aw.save_html(v, tmp_path / "missing" / "p.html")


def test_host_script_is_inlinable():
    s = export.host_script()
    assert s.startswith("<script>") and s.endswith("</script>")
    assert s.lower().count("</script") == 1


def test_missing_host_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_HOST_PATH", tmp_path / "host.js")
    with pytest.raises(FileNotFoundError, match=r"not built; run `cd js && npm ci && npm run build`"):
        export.host_script()
    with pytest.raises(FileNotFoundError, match="not built"):
        export.page_html(View(shared=Shared()))
