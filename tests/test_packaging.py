"""Packaging: one version, a wheel that carries the JS bundle, and viewing without the models extra."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _package_version() -> str:
    source = (ROOT / "attnwidget" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', source, re.M)
    assert match, "attnwidget/__init__.py must define __version__ as a string literal"
    return match.group(1)


def test_js_package_version_matches_python_version():
    js = json.loads((ROOT / "js" / "package.json").read_text())
    assert js["version"] == _package_version()


def test_wheel_contains_the_built_bundle(tmp_path):
    bundle = ROOT / "attnwidget" / "static" / "widget.js"
    assert bundle.exists(), "build the bundle first: cd js && npm ci && npm run build"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            "-q",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = list(tmp_path.glob("attnwidget-*.whl"))
    assert len(wheels) == 1
    assert f"attnwidget-{_package_version()}-" in wheels[0].name
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        assert "attnwidget/static/widget.js" in names
        assert wheel.read("attnwidget/static/widget.js") == bundle.read_bytes()
        # The offline host of exported pages ships beside the bundle.
        host = bundle.with_name("host.js")
        assert wheel.read("attnwidget/static/host.js") == host.read_bytes()


# Runs in a fresh interpreter where importing torch or transformers fails, as on a machine with the
# base install only.
WITHOUT_MODELS = textwrap.dedent("""
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "transformers"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None
    sys.meta_path.insert(0, Block())
    import importlib.util
    _find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name.split(".")[0] in ("torch", "transformers") else _find_spec(name, *a)
    import numpy as np
    import attnwidget as aw
    assert "torch" not in sys.modules and "transformers" not in sys.modules
    w = np.tril(np.ones((2, 2, 3, 3)))
    w = w / w.sum(-1, keepdims=True)
    att = aw.Attention(w, ["a", "b", "c"])
    att.save(sys.argv[1])
    back = aw.Attention.load(sys.argv[1])
    assert np.allclose(back.weights, att.weights)
    print("entropy", float(aw.metrics.entropy(back).mean()))
    aw.save_html(aw.show(back), sys.argv[2])
    try:
        aw.extract(None, None, "text")
    except aw.errors.MissingExtraError as err:
        print("error:", err)
    else:
        raise SystemExit("extract ran without torch")
""")


def test_viewing_saved_attention_needs_no_model_packages(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_MODELS, str(tmp_path / "a.npz"), str(tmp_path / "a.html")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "entropy" in result.stdout
    assert 'pip install "attnwidget[models]"' in result.stdout
    assert (tmp_path / "a.html").stat().st_size > 10_000
