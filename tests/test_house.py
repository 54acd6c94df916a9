"""The house's shape, checked from the source: no import cycles, imports only point down the data flow,
a small top level, no deprecation shims, short modules, and CONTRIBUTING.md's map matches the files.

The import graph is read with `ast`, never by importing: every `import` and `from ... import` anywhere in a
module (module level, inside functions, under `if TYPE_CHECKING:`) is an edge, absolute or relative.
An edge goes to the most specific module named: `from attnwidget.x import y` points at `attnwidget.x.y` when
that is a module, else at `attnwidget.x` (a name from its `__init__`). The parent packages Python initialises
on the way are not edges, so a package's `__init__` importing its own submodules is no cycle by itself; it is
one as soon as a submodule imports a name back from that `__init__` (or from `attnwidget` itself).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "attnwidget"

# Layers of the data flow, bottom first; a folder may import from its own layer and those below.
LOWER = ("attention", "metrics")
UPPER = ("extraction", "analysis", "widgets", "images")
# What `import attnwidget` must not pull in; these belong inside the functions that need them.
HEAVY = ("torch", "transformers", "tokenizers", "gguf", "accelerate", "safetensors", "nnsight", "transformer_lens")
MAX_LINES = 700
MAX_TOP_LEVEL_NAMES = 25


# -- the import graph ---------------------------------------------------------------------------------------


def modules_of(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (a package is its __init__.py)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is a module of the package, if any."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported module of the package, line, at module level) for every import statement in the file.

    An import is at module level when no function encloses it (class bodies and `if`/`try` blocks count as
    module level: they run on import)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name, modules)
                    if target:
                        found.append((target, child.lineno, top))
            elif isinstance(child, ast.ImportFrom):
                if child.level:  # relative: the package the file sits in, then `level - 1` further up
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    origin = ".".join(base + ([child.module] if child.module else []))
                else:
                    origin = child.module or ""
                for alias in child.names:
                    target = _resolve(f"{origin}.{alias.name}", modules) if alias.name != "*" else None
                    if target != f"{origin}.{alias.name}":  # not a submodule: a name from `origin` itself
                        target = _resolve(origin, modules)
                    if target:
                        found.append((target, child.lineno, top))
            visit(child, top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, True)
    return found


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """module -> {imported module: first line importing it}, self-imports left out."""
    modules = modules_of(package)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for target, line, _ in imports_of(module, path, modules):
            if target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a, b, ..., a) through each strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for component in components:
        members = set(component)
        start = component[0]
        # Shortest way back to the start inside the component (breadth first), for a readable report.
        previous: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in previous:
            following = []
            for v in frontier:
                for w in sorted(graph[v]):
                    if w in members and w not in previous:
                        previous[w] = v
                        following.append(w)
            frontier = following
        path = [start]
        while True:
            path.append(previous[path[-1]])
            if path[-1] == start:
                break
        cycles.append(path[::-1])
    return cycles


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 30 and "attnwidget.attention.core" in graph
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(c, graph) for c in cycles)


def _fake_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "fake" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "fake"


def test_the_cycle_finder_finds_cycles_between_siblings_and_back_to_a_package(tmp_path):
    package = _fake_package(
        tmp_path,
        {
            "__init__.py": "from fake.sub import Thing\n",
            "a.py": "def f():\n    from . import b  # inside a function, relative\n",
            "b.py": "import fake.c as c\n",
            "c.py": "from fake.a import f\n",
            "sub/__init__.py": "from fake.sub.core import Thing\n",
            "sub/core.py": "class Thing:\n    pass\n",
            "sub/user.py": "from fake.sub import Thing  # back from the package's __init__\n",
            "sub/other.py": "from ..sub.core import Thing\n",
            "sub/uses.py": "from fake.sub import user\n",
        },
    )
    graph = import_graph(package)
    assert graph["fake.a"] == {"fake.b": 2}
    assert graph["fake.sub.other"] == {"fake.sub.core": 1}
    assert graph["fake.sub.uses"] == {"fake.sub.user": 1}  # a submodule named in `from package import`
    assert find_cycles(graph) == [["fake.a", "fake.b", "fake.c", "fake.a"]]

    (package / "sub" / "__init__.py").write_text("from fake.sub.core import Thing\nfrom fake.sub import user\n")
    graph = import_graph(package)
    cycles = find_cycles(graph)
    assert sorted(cycles) == [["fake.a", "fake.b", "fake.c", "fake.a"], ["fake.sub", "fake.sub.user", "fake.sub"]]
    assert describe(["fake.sub", "fake.sub.user", "fake.sub"], graph) == (
        "fake.sub (line 2) -> fake.sub.user (line 1) -> fake.sub"
    )


def test_a_package_importing_its_own_submodules_is_no_cycle(tmp_path):
    package = _fake_package(
        tmp_path,
        {
            "__init__.py": "from fake import low, high\nfrom fake.low import Thing\n",
            "low.py": "class Thing:\n    pass\n",
            "high.py": "from fake.low import Thing\n",
        },
    )
    assert find_cycles(import_graph(package)) == []


# -- imports point down the data flow -------------------------------------------------------------------------


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_attention_and_metrics_import_nothing_above_them():
    modules = modules_of(PACKAGE)
    upward = [
        f"{module} line {line} imports {target}"
        for module, path in modules.items()
        if _layer(module) in LOWER
        for target, line, _ in imports_of(module, path, modules)
        if _layer(target) in UPPER or target == "attnwidget"
    ]
    assert upward == []


def _module_level_imports(path: Path) -> list[tuple[str, int]]:
    """Top package names imported where the module runs them on import (outside any function)."""
    names = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(ast.Module(body=child.orelse, type_ignores=[]))  # annotations only: never run
                continue
            if isinstance(child, ast.Import):
                names.extend((alias.name.split(".")[0], child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and not child.level and child.module:
                names.append((child.module.split(".")[0], child.lineno))
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return names


def test_only_extraction_imports_the_model_libraries_at_module_level():
    offenders = [
        f"{module} line {line} imports {name}"
        for module, path in modules_of(PACKAGE).items()
        if _layer(module) != "extraction"
        for name, line in _module_level_imports(path)
        if name in HEAVY
    ]
    assert offenders == []


def test_importing_the_package_loads_no_model_library():
    code = f"import sys, attnwidget; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# -- a small, current surface ---------------------------------------------------------------------------------


def test_the_top_level_stays_small():
    import attnwidget as aw

    assert len(aw.__all__) <= MAX_TOP_LEVEL_NAMES, sorted(aw.__all__)
    assert len(set(aw.__all__)) == len(aw.__all__)
    assert all(hasattr(aw, name) for name in aw.__all__)


def test_no_deprecation_shims_in_the_package():
    found = [
        f"{path.relative_to(ROOT)} line {node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if (isinstance(node, ast.Name) and node.id in ("DeprecationWarning", "PendingDeprecationWarning"))
        or (isinstance(node, ast.Attribute) and node.attr in ("DeprecationWarning", "PendingDeprecationWarning"))
    ]
    assert found == []


def test_no_module_is_longer_than_the_limit():
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them along what they own"


def test_view_options_are_keywords_only():
    import attnwidget as aw

    att = aw.Attention(np.full((1, 1, 2, 2), 0.5, np.float32), ["a", "b"])
    with pytest.raises(TypeError):
        aw.AttentionHeatmap(att, 1)


# -- CONTRIBUTING.md's map of the house -------------------------------------------------------------------------


def layout_block(text: str) -> list[str]:
    """Paths named in the first fenced block that starts with `attnwidget/`, from its indented tree.

    Each line is `<indent><name>  <what it owns>`; a name ending in `/` is a folder, two spaces per level."""
    match = re.search(r"^```[a-z]*\n(attnwidget/\n.*?)^```", text, flags=re.M | re.S)
    assert match, "CONTRIBUTING.md needs a fenced block that starts with the line `attnwidget/`"
    paths, folders = [], []
    for line in match.group(1).splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        else:
            paths.append("/".join(folders + [name]))
    return paths


def test_contributing_draws_the_files_on_disk():
    named = layout_block((ROOT / "CONTRIBUTING.md").read_text())
    on_disk = {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")}
    assert sorted(p for p in named if not (ROOT / p).is_file()) == [], "named in CONTRIBUTING.md, not on disk"
    assert sorted(on_disk - set(named)) == [], "on disk, missing from CONTRIBUTING.md's layout"


def test_the_layout_reader_follows_the_indentation():
    text = "x\n```\nattnwidget/\n  a.py   one\n  sub/\n    b.py  two\n  c.py\n```\n"
    assert layout_block(text) == ["attnwidget/a.py", "attnwidget/sub/b.py", "attnwidget/c.py"]
