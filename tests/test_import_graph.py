"""The package's imports run one way (issue 20, item 4): a graph of every `import` in src/analysis, at any
level (module top, functions, `if TYPE_CHECKING:`), has no cycle. A cycle makes the import order matter and
hides which module is the lower layer; the two that existed (`panel.build` <-> `panel.io` over
`BuildResult`, `sources.mapping` <-> `sources.user`) were removed by placing each name in the lower module."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import analysis

PACKAGE = Path(analysis.__file__).parent


def module_name(path: Path) -> str:
    parts = ["analysis", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> every module of the package it imports. `from pkg import name` points at `pkg.name` when that
    is a module, else at `pkg`; relative imports are resolved against the importing module's package."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for target in targets:
                while target and target not in files:  # `import analysis.panel.io as x` -> analysis.panel.io
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def test_graph_sees_function_level_and_type_checking_imports():
    graph = import_graph()
    assert "analysis.panel.build" in graph["analysis.cli"]  # imported inside a function
    assert "analysis.panel.io" in graph["analysis.panel.build"]
    assert len(graph) > 40


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(set(find_cycle(graph) or [])) == ["a", "b", "c"]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"
