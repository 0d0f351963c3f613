"""The package's layers (docs/architecture.md), kept true by reading its imports.

Each module belongs to a layer; a module may import its own layer or a lower one, never a sibling of
its layer (``crate``, ``inspect`` and ``engines`` know nothing of each other), and no import circle
exists, ``TYPE_CHECKING`` imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_rustimage"
ROOT = "pytest_rustimage"

# lowest first; a group's members are siblings that may not import each other
LAYERS: tuple[tuple[str, ...], ...] = (
    ("foundation",),
    ("crate", "inspect", "engines"),
    ("recipe",),
    ("cachecheck",),
    ("session",),
    ("report", "housekeeping"),
    ("checks",),
    ("plugin", "cli"),
)
FOUNDATION = {"__init__", "errors", "names", "units", "folders", "locks"}
CLI = {"__main__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def group_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "foundation"  # the package itself: __version__
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    if parts[1] in FOUNDATION:
        return "foundation"
    if parts[1] in CLI:
        return "cli"
    raise AssertionError(f"{module} is in no layer: add it to docs/architecture.md and to this test")


def level_of(group: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if group in layer)


def imports_of(module: str) -> set[str]:
    """The plugin's modules that ``module`` imports (``from X import Y`` counts Y when it is a module)."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == ROOT}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == ROOT:
            assert node.level == 0, f"{module}: relative imports are not used in this package"
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    found.discard(module)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 40
    for module in MODULES:
        group_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_or_within_a_layer(module: str) -> None:
    group = group_of(module)
    for target in sorted(GRAPH[module]):
        other = group_of(target)
        assert level_of(other) <= level_of(group), f"{module} ({group}) imports {target} ({other}), a higher layer"
        if other != group:
            assert level_of(other) < level_of(group), f"{module} ({group}) imports its sibling layer's {target}"


def test_no_import_circle() -> None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            circle = [*path[path.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(circle))
        if module in done:
            return
        for target in sorted(GRAPH[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(MODULES):
        visit(module, [])


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_each_subpackage_says_what_it_holds_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc, f"{package}/__init__.py has no docstring"
    assert "import" in doc, f"{package}/__init__.py does not say what it may import"


def test_the_layer_test_would_catch_a_wrong_import() -> None:
    """The rules refuse what they are for: an engine reading ELF files, a circle."""
    assert level_of(group_of("pytest_rustimage.engines.docker")) == level_of(group_of("pytest_rustimage.inspect.elf"))
    assert group_of("pytest_rustimage.engines.docker") != group_of("pytest_rustimage.inspect.elf")
    assert level_of(group_of("pytest_rustimage.session.factory")) > level_of(group_of("pytest_rustimage.engines"))
    assert level_of(group_of("pytest_rustimage.plugin.settings")) > level_of(group_of("pytest_rustimage.report.parity"))
    probe, image = "pytest_rustimage.cachecheck.probe", "pytest_rustimage.session.image"
    assert level_of(group_of(probe)) < level_of(group_of(image))


def test_only_the_plugin_imports_pytest() -> None:
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        if any(name.split(".")[0] in ("pytest", "_pytest") for name in names):
            assert group_of(module) == "plugin", f"{module} imports pytest but is not in the plugin package"


def test_the_checks_sit_between_the_reports_and_the_plugin() -> None:
    """A check may use the size gate and parity (``report``); the renderers never know the checks."""
    checks, report, plugin = (
        level_of(group_of(f"pytest_rustimage.{name}.x")) for name in ("checks", "report", "plugin")
    )
    assert level_of(group_of("pytest_rustimage.housekeeping")) < checks
    assert report < checks < plugin


def test_the_check_names_are_written_once() -> None:
    """The registry is the one list of checks: no other module spells a check's name as a string it tests."""
    from pytest_rustimage.checks.registry import CHECK_NAMES, DEFAULT_CHECKS
    from pytest_rustimage.plugin import settings

    assert settings.Settings().checks == DEFAULT_CHECKS
    for module in ("plugin.items", "plugin.hooks", "plugin.state", "plugin.fixtures", "report.summary", "report.html"):
        tree = ast.parse(MODULES[f"{ROOT}.{module}"].read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                spelled = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
                assert not spelled & set(CHECK_NAMES), f"{module} tests a check's name: {ast.unparse(node)}"
