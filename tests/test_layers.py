"""The package's shape, read from its own ``import`` statements (``ast``): layers, no circles.

Layers, bottom up: ``errors`` and ``demo`` (the bundled documents); ``analysis`` and
``query``; ``index``; ``highlight`` and ``ranking``; ``shards``; ``cli`` and
``integrations`` (which imports only ``vnsearch``'s public names); the package itself.
A module imports only from its own layer or below,
with one documented exception: the public facade ``vnsearch.index.index.Index``
imports :mod:`vnsearch.ranking` when it is first asked to search (as Whoosh's
``Index.searcher()`` does). ``highlight`` is told apart from ``ranking``: it knows only the
analysis. Every import counts, inside functions too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vnsearch"
MAX_LINES = 450

LAYERS = {
    "errors": 0,
    "demo": 0,
    "analysis": 1,
    "query": 1,
    "index": 2,
    "highlight": 3,
    "ranking": 3,
    "shards": 4,
    "cli": 5,
    "integrations": 5,
    "__main__": 6,
}
# what each module may import from its own layer's other packages
SAME_LAYER_ALLOWED = {("ranking", "highlight"), ("query", "analysis")}
# packages that may import only these (the highlighter works from plain data; the
# framework retrievers only the public API, ``import vnsearch``, and their own package)
ONLY = {"highlight": {"analysis", "errors"}, "integrations": set()}
# the one upward arrow: the public Index facade joins the index to ranking
FACADE = "vnsearch.index.index"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, str, int]]:
    """``(module imported, name imported or '', line)`` for every vnsearch import."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{name}:{node.lineno}: relative import")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "vnsearch":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in MODULES:  # ``from vnsearch.index import reader``
                    out.append((full, "", node.lineno))
                else:
                    out.append((node.module, alias.name, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("vnsearch")]
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    return {
        name: {m for m, _, _ in _imports(name) if m in MODULES and m != name} for name in MODULES
    }


def test_no_module_imports_from_a_higher_layer():
    wrong = []
    for name in MODULES:
        pkg = _package(name)
        if pkg not in LAYERS:
            continue  # the package's own __init__: it re-exports every layer
        for target, _, line in _imports(name):
            tpkg = _package(target)
            if tpkg not in LAYERS or tpkg == pkg:
                continue
            if name == FACADE and tpkg == "ranking":
                continue
            if pkg in ONLY and tpkg not in ONLY[pkg]:
                wrong.append(f"{name}:{line} imports {target} (only {sorted(ONLY[pkg])})")
                continue
            up = LAYERS[tpkg] > LAYERS[pkg]
            sideways = LAYERS[tpkg] == LAYERS[pkg] and (pkg, tpkg) not in SAME_LAYER_ALLOWED
            if up or sideways:
                wrong.append(f"{name}:{line} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_circles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
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
                circles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_no_private_name_is_imported_from_another_module():
    wrong = [
        f"{name}:{line} imports {target}.{imported}"
        for name in MODULES
        for target, imported, line in _imports(name)
        if imported.startswith("_") and not imported.startswith("__") and target != name
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_450_lines():
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_checks_see_what_they_look_for():
    """The graph is not empty, and the facade's upward arrow is the one it allows."""
    graph = _graph()
    assert "vnsearch.index.reader" in graph["vnsearch.ranking.search"] or any(
        m.startswith("vnsearch.index") for m in graph["vnsearch.ranking.search"]
    )
    assert any(m.startswith("vnsearch.ranking") for m in graph[FACADE])


def test_every_module_imports_on_its_own():
    """Each module imported first in a fresh interpreter (a circle hidden by import
    order, or a module that only works after another, fails here)."""
    code = "import importlib, sys\nname = sys.argv[1]\nimportlib.import_module(name)\n"
    failed = []
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", code, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PACKAGE.parent,
        )
        for name in MODULES
        if not name.endswith("__main__")
    }
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        if proc.returncode:
            failed.append(f"{name}: {err.strip().splitlines()[-1] if err.strip() else '?'}")
    assert not failed, "\n".join(failed)
