"""Notebook parameters: read each notebook's `parameters` cell and reject unknown names and wrong types
before any kernel starts, so a typo in a config fails in a second, not after a long run."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat

from ..errors import DataError


@lru_cache(maxsize=64)
def notebook_parameters(path: Path) -> dict[str, Any]:
    """Defaults of the single cell tagged `parameters` (literal values only)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat's messages quote the file's text: name the problem, not the content
        raise DataError(f"not a readable Jupyter notebook ({type(exc).__name__})", file=path,
                        hint="A notebook is a JSON file saved by Jupyter") from None
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise DataError(f"a notebook needs exactly one cell tagged 'parameters', found {len(cells)}", file=path)
    return cell_parameters(cells[0].source, path)


def cell_parameters(source: str, path: Path | None = None) -> dict[str, Any]:
    """Name -> default of a parameters cell, parsed as Python: only `name = literal` (or annotated) statements."""
    out: dict[str, Any] = {}
    try:
        body = ast.parse(source).body
    except SyntaxError as exc:
        raise DataError("parameters cell is not valid Python", file=path, row=exc.lineno) from None
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name = node.target.id
        else:
            raise DataError("parameters cell may only assign literal values", file=path, value=ast.unparse(node)[:60])
        try:
            out[name] = ast.literal_eval(node.value)
        except ValueError as exc:
            raise DataError("parameter default must be a literal", file=path, column=name) from exc
    return out


_PAPERMILL_READS_PYTHON = False


def use_python_parameters_in_papermill() -> None:
    """Make papermill read a parameters cell as Python, as `validate_parameters` does.

    papermill compares the parameters it is given with the ones it finds in the parameters cell, and warns
    "Passed unknown parameter" for any it does not find. Its Python inspector reads the cell line by line and
    skips any line with two `=` signs, comments included: `cutoff = ""  # "" = the latest …` (notebook 09)
    was skipped, so an applied `cutoff` was called unknown. Parsing the cell with `ast` (the runner's own
    reading, which has already refused unknown names before any kernel started) removes that cause; the
    translation of values into the injected cell stays papermill's. Registered for the Python language in
    the calling process (a worker), idempotent."""
    from papermill.models import Parameter
    from papermill.translators import PythonTranslator, papermill_translators

    class AstPythonTranslator(PythonTranslator):
        @classmethod
        def inspect(cls, parameters_cell: Any) -> list[Parameter]:
            try:
                values = cell_parameters(parameters_cell.source)
            except DataError:  # papermill's contract: ignore inspection errors (the runner reports them before)
                return []
            return [Parameter(name, type(v).__name__, repr(v), "") for name, v in values.items()]

    global _PAPERMILL_READS_PYTHON
    if not _PAPERMILL_READS_PYTHON:
        papermill_translators.register("python", AstPythonTranslator)
        _PAPERMILL_READS_PYTHON = True


def _type_ok(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        if not isinstance(value, list):
            return False
        return not default or all(_type_ok(default[0], v) for v in value)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return default is None or type(value) is type(default)


def validate_parameters(path: Path, params: dict[str, Any], where: str) -> None:
    defaults = notebook_parameters(path)
    for name, value in params.items():
        if name not in defaults:
            raise DataError(f"unknown parameter for {path.name} in {where}", column=name, value=value,
                            hint=f"Known parameters: {', '.join(sorted(defaults))}")
        if not _type_ok(defaults[name], value):
            raise DataError(f"wrong type for parameter of {path.name} in {where}: expected {type(defaults[name]).__name__}",
                            column=name, value=value)
