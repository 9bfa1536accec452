"""No import cycle among the modules of ``speakers``, nor among those of ``bagctl``.

A cycle forces one of its imports to hide inside a function, or makes the package's
behaviour depend on which module happens to be imported first. The graph is read from the
source with ``ast``, so a cycle is found even where a deferred import keeps it from failing
at run time. What it counts:

- every ``import``/``from ... import`` in a module, at any depth (a function-level import
  is a real dependency, merely deferred);
- ``from pkg import name`` as an edge to ``pkg.name`` when that is a module, else to
  ``pkg`` (whose ``__init__`` then leads on to its submodules);
- not the parent packages Python imports implicitly (``a.b.c`` loads ``a.b`` first): every
  package's ``__init__`` imports its own submodules, so those edges would make every
  package a cycle;
- not imports under ``if TYPE_CHECKING:``: they never run; with ``from __future__ import
  annotations`` they exist for the type checker alone, which resolves cycles itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: Path) -> dict[str, Path]:
    """Module name -> file, for every module of the package at ``package``."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:  # the else branch does run
                yield from _import_nodes(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def _targets(
    module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                yield alias.name
        return
    if node.level:
        # ``from .x import y`` is relative to the package the module is in (or, for a
        # package's ``__init__``, to the package itself).
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = package[: len(package) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    for alias in node.names:
        if f"{source}.{alias.name}" in known:
            yield f"{source}.{alias.name}"
        elif source in known:
            yield source


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (module docstring)."""
    modules = _modules(package)
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[module] = {
            target
            for node in _import_nodes(tree)
            for target in _targets(module, path, node, known)
            if target != module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_a_deferred_import_closes_a_cycle_a_type_checking_one_does_not(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .a import f\n",
        "a.py": "from . import c\n\ndef f():\n    from .sub.b import g\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n",
        "sub/__init__.py": "",
        "sub/b.py": "import pkg.a\nfrom ..c import x\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.c", "pkg.sub.b"},
        "pkg.c": set(),
        "pkg.sub": set(),
        "pkg.sub.b": {"pkg.a", "pkg.c"},
    }
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]


@pytest.mark.parametrize("package", ["speakers", "bagctl"])
def test_no_import_cycle(package: str) -> None:
    assert cycles(import_graph(ROOT / package)) == []
