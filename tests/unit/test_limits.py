"""Small modules, short functions: no module of the package or the benchmark over 400 lines, no function
over 60 (docs/architecture.md). A module that grows past the limit is split by what its parts do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SOURCES = sorted([*(ROOT / "pytest_rustimage").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])


def long_functions(path: Path) -> list[str]:
    """``NAME (N lines)`` for each function in ``path`` longer than the limit, decorators left out."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{node.name} ({lines} lines)")
    return found


def test_the_sources_are_found() -> None:
    assert len(SOURCES) > 60


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_functions_are_small(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_MODULE_LINES})"
    assert long_functions(path) == [], f"{path.relative_to(ROOT)}: functions over {MAX_FUNCTION_LINES} lines"


def test_the_limit_would_catch_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def long() -> None:\n{body}\n\n\ndef short() -> None:\n    pass\n")
    assert long_functions(tmp_path / "long.py") == [f"long ({MAX_FUNCTION_LINES + 1} lines)"]


def test_every_test_module_has_a_name_of_its_own() -> None:
    """The test folders have no ``__init__.py``: two test files of one name anywhere under tests/ stop
    pytest's collection of the whole suite ("import file mismatch")."""
    names: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert len(names) > 50
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
