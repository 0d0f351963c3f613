"""The registry is the one list of the built-in checks: options, metadata keys and docs follow it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from pytest_rustimage.checks import registry
from pytest_rustimage.checks.base import Check, Needs
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.names import item_name, variant
from pytest_rustimage.plugin import resolve, settings

ROOT = Path(__file__).resolve().parents[3]
CHECKS = ROOT / "pytest_rustimage" / "checks"


def test_the_registry_lists_each_check_module_once_in_order() -> None:
    modules = sorted(p.stem for p in CHECKS.glob("*.py") if p.stem not in ("__init__", "base", "registry"))
    defined = []
    for module in modules:
        found = [v for v in vars(importlib.import_module(f"pytest_rustimage.checks.{module}")).values()]
        checks = [value for value in found if isinstance(value, Check)]
        assert len(checks) == 1, f"checks/{module}.py defines {len(checks)} checks, not one"
        assert checks[0].name == module
        defined.append(checks[0])
    assert sorted(check.name for check in registry.CHECKS) == modules
    assert registry.CHECK_NAMES == (
        "build",
        "runs",
        "size",
        "linkage",
        "needs",
        "sbom",
        "cache",
        "reproducible",
        "parity",
    )
    assert registry.DEFAULT_CHECKS == ("build", "runs", "size", "linkage", "needs", "cache", "parity")
    assert [c.name for c in registry.CHECKS if c.reports_build_failure] == ["build"]
    assert [c.name for c in registry.CHECKS if c.needs is Needs.ENGINES] == ["parity"]


def test_the_checks_do_not_import_pytest() -> None:
    for path in CHECKS.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {name.split(".")[0] for name in names} & {"pytest", "_pytest"}, path.name


def test_the_metadata_keys_are_the_general_ones_and_each_checks_own() -> None:
    owned = [key for check in registry.CHECKS for key in check.metadata_keys]
    assert len(owned) == len(set(owned)), "a metadata key belongs to one check"
    assert not set(owned) & set(resolve.GENERAL_METADATA_KEYS)
    assert (*resolve.GENERAL_METADATA_KEYS, *owned) == resolve.METADATA_KEYS
    assert registry.BY_NAME["size"].metadata_keys == ("max-size", "max-wasted")
    assert registry.BY_NAME["linkage"].metadata_keys == ("expect-linkage", "runtimes")


def test_the_checks_option_follows_the_registry() -> None:
    assert settings.Settings().checks == registry.DEFAULT_CHECKS
    assert settings._checks([]) == registry.DEFAULT_CHECKS
    with pytest.raises(ConfigError) as refused:
        settings._checks(["nope"])
    assert str(refused.value) == (
        "unknown check 'nope'; choose from: build, runs, size, linkage, needs, sbom, cache, reproducible, parity"
    )
    assert registry.checks_needing(Needs.IMAGE, ("parity", "size", "build")) == (
        registry.BY_NAME["build"],
        registry.BY_NAME["size"],
    )


def test_an_opt_in_check_is_collected_for_the_images_that_ask_unless_checks_are_named(tmp_path: Path) -> None:
    from pytest_rustimage.crate import read_crate

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "a"\nversion = "0.1.0"\n\n[package.metadata.rust-image]\nreproducible = true\n'
    )
    crate = read_crate(tmp_path)
    plain = resolve.specs_for(settings.Settings(), crate)
    audited = resolve.specs_for(settings.Settings(cli_auditable=True), crate)
    defaults = registry.DEFAULT_CHECKS
    names = [c.name for c in registry.checks_needing(Needs.IMAGE, defaults, plain, named=False)]
    assert "reproducible" in names and "sbom" not in names
    names = [c.name for c in registry.checks_needing(Needs.IMAGE, defaults, audited, named=False)]
    assert "reproducible" in names and "sbom" in names
    named = [c.name for c in registry.checks_needing(Needs.IMAGE, ("size",), audited, named=True)]
    assert named == ["size"]
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "a"\nversion = "0.1.0"\n\n[package.metadata.rust-image]\nreproducible = "yes"\n'
    )
    with pytest.raises(ConfigError, match="reproducible must be true or false"):
        resolve.specs_for(settings.Settings(), read_crate(tmp_path))


def test_the_docs_list_the_checks_of_the_registry() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert registry.docs_table() in page, "docs/configuration.md's table of checks: paste checks.registry.docs_table()"
    section = page.split("## Built-in checks")[1].split("\n## ")[0]
    listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
    assert tuple(listed) == registry.CHECK_NAMES


def test_item_ids_have_one_format() -> None:
    assert item_name("runs", variant("chef", "docker")) == "runs[chef-docker]"
    assert item_name("runs", variant("chef", "docker", "wsctl")) == "runs[chef-docker-wsctl]"
    assert item_name("parity", variant("chef", None, "wsctl")) == "parity[chef-wsctl]"
    assert item_name("parity", variant("chef")) == "parity[chef]"
