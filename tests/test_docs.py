"""The README and the documentation site: links that resolve, a short README that shows a picture and
`aw.show(` early, and a site that `mkdocs build --strict` builds (broken links, anchors and API
references fail it)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)


def _prose(text: str) -> str:
    """The page without code blocks and inline code, where link-like text is not a link."""
    return CODE.sub("", FENCE.sub("", text))


def _slug(heading: str) -> str:
    """A heading's anchor as Python-Markdown's toc (MkDocs) makes it; GitHub agrees for plain headings."""
    text = re.sub(r"\{[^}]*\}\s*$", "", heading)  # attribute lists such as { #id }
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    found = set()
    for _, title in HEADING.findall(text):
        explicit = re.search(r"\{\s*#([\w-]+)[^}]*\}\s*$", title)
        found.add(explicit.group(1) if explicit else _slug(title))
    return found


def _links(page: Path) -> list[str]:
    return LINK.findall(_prose(page.read_text(encoding="utf-8")))


def _relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("/")


def test_pages_exist():
    assert README.is_file()
    assert (DOCS / "index.md").is_file()
    assert len(PAGES) > 5


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    broken = []
    for target in _links(page):
        if not _relative(target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file {dest}")
            continue
        # Anchors on images (#only-light) are theme hints, not headings; only pages have headings.
        if anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_readme_is_short_and_shows_a_picture_and_the_views_early():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 160, f"README.md has {len(lines)} lines; keep it under 160"
    first = "\n".join(lines[:50])
    assert "aw.show(" in first, "aw.show( should appear within the README's first 50 lines"
    images = [t for t in LINK.findall(first) if t.lower().endswith((".png", ".jpg", ".gif", ".svg", ".webp"))]
    assert images, "an image should appear within the README's first 50 lines"
    assert all((ROOT / t).is_file() for t in images)


def test_readme_does_not_promise_a_pypi_install():
    text = README.read_text(encoding="utf-8")
    assert "pip install attnwidget" not in text
    assert "not on PyPI" in text


@pytest.mark.slow  # about 25 s; make test runs it, make check leaves it out
def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install mkdocs-material mkdocstrings-python)")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    # The API reference lists every public name of every namespace (a module re-exported under the
    # name of a function it holds once hid that function here; constants need a docstring to show).
    import types

    import attnwidget as aw

    pages = {
        "attnwidget": aw,
        "attnwidget.extraction": aw.extraction,
        "attnwidget.metrics": aw.metrics,
        "attnwidget.analysis": aw.analysis,
        "attnwidget.experiments": aw.experiments,
        "attnwidget.widgets": aw.widgets,
        "attnwidget.images": aw.images,
        "attnwidget.errors": aw.errors,
    }
    missing = {}
    for path, module in pages.items():
        page = path.removeprefix("attnwidget.") if path != "attnwidget" else "attnwidget"
        html = (tmp_path / "site" / "api" / page / "index.html").read_text(encoding="utf-8")
        names = [n for n in module.__all__ if not isinstance(getattr(module, n), types.ModuleType)]
        gone = [n for n in names if f'id="{path}.{n}"' not in html]
        if gone:
            missing[path] = gone
    assert missing == {}, f"public names missing from the API reference: {missing}"
