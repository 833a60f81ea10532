"""The package layout shows the pipeline, and the code keeps to it.

``generator/`` has one package per stage: catalog → evidence → evaluation → views →
render → signing → publish, with ``diff`` and ``report`` beside them and the CLI on top.
These tests read every module's imports (including those inside functions) and fail on
an import cycle, or on a stage importing a later one.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each top-level part of ``generator`` may import, besides itself. The first five
# are the shared ground floor: types, errors and reference data every stage uses.
SHARED = {"errors", "diagnostics", "resources", "model", "references"}
ALLOWED: dict[str, set[str]] = {
    "diagnostics": set(),
    "errors": {"diagnostics"},
    "resources": set(),
    "model": {"diagnostics", "references"},
    "references": {"diagnostics", "errors"},
    "catalog": SHARED,
    "evidence": SHARED | {"catalog"},
    "evaluation": SHARED | {"catalog", "evidence"},
    "views": SHARED | {"catalog", "evidence", "evaluation"},
    "render": SHARED | {"evidence", "evaluation", "views"},
    "signing": SHARED | {"render"},
    "publish": SHARED | {"catalog", "evidence", "evaluation", "views", "render", "signing"},
    "diff": SHARED | {"catalog", "evidence", "evaluation"},
    "report": SHARED | {"evidence", "evaluation", "diff", "render"},
}
TOP = {"cli", "__main__", "__init__"}  # may import anything


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module of this repository that ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def graph(package: str) -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / package).rglob("*.py")}
    edges = {}
    for name, path in files.items():
        # a module's own package is always imported first; that is not a dependency
        edges[name] = {
            d for d in imports(path) if d in files and d != name and not name.startswith(d + ".")
        }
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", ["generator", "benchmarks"])
def test_no_import_cycles(package: str) -> None:
    assert cycles(graph(package)) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_stage_imports_only_earlier_stages() -> None:
    wrong = []
    for name, deps in sorted(graph("generator").items()):
        part = name.split(".")[1] if "." in name else "__init__"
        if part in TOP:
            continue
        assert part in ALLOWED, f"{name}: a new top-level part; give it a place in ALLOWED"
        for dep in sorted(deps):
            other = dep.split(".")[1] if "." in dep else "__init__"
            if other not in (part, "__init__") and other not in ALLOWED[part]:
                wrong.append(f"{name} imports {dep}")
    assert wrong == []


def test_the_top_level_is_the_pipeline() -> None:
    top = sorted(p.name for p in (ROOT / "generator").iterdir() if not p.name.startswith("_"))
    assert top == [
        "catalog",
        "cli",
        "diagnostics.py",
        "diff",
        "errors.py",
        "evaluation",
        "evidence",
        "model",
        "publish",
        "references",
        "render",
        "report",
        "resources.py",
        "signing",
        "views",
    ]


def test_every_package_says_what_it_takes_and_gives() -> None:
    for init in (ROOT / "generator").glob("*/__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"{init.parent.name}/ has no docstring"


def test_every_module_imports() -> None:
    for path in sorted((ROOT / "generator").rglob("*.py")):
        if path.name != "__main__.py":
            importlib.import_module(module_name(path))
