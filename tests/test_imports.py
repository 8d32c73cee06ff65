"""The package's import graph has no circles (function-level imports count too).

Every ``import`` / ``from ... import`` in ``iccc/`` (at module level or inside a function, but not
under ``if TYPE_CHECKING:``) is an edge from its module to the iccc module it names: for
``from pkg import name``, to ``pkg.name`` when that is a module, else to ``pkg``. Edges to a
module's own parent packages are left out: Python imports them before the module anyway. A
circle (a strongly connected component of two or more modules) fails the test with its members
and the import lines that close it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "iccc"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported iccc module: line}}`` over every module of the package."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        ancestors = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)}
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            for target in targets:
                while target and target not in modules and "." in target:
                    target = target.rpartition(".")[0]  # "iccc.operators.swap.Swap" -> the module
                if target in modules and target != name and target not in ancestors:
                    graph[name].setdefault(target, node.lineno)
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
    return found


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert len(graph) > 40
    # iccc/corrupt.py imports the parser inside `corrupt` (it is only needed for raw strings)
    assert "iccc.parsing" in graph["iccc.corrupt"]


def test_a_circle_is_found_when_there_is_one():
    assert circles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert circles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_circles():
    graph = import_graph()
    found = circles(graph)
    if found:
        lines = []
        for component in found:
            members = set(component)
            lines.append(" <-> ".join(component))
            for module in component:
                for target, line in sorted(graph[module].items()):
                    if target in members:
                        lines.append(f"    {module} (line {line}) imports {target}")
        pytest.fail("Import circles in iccc:\n" + "\n".join(lines))
