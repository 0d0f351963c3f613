"""The cache check's edit kinds, made from copies of the sample crates and applied; cargo reads the results."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.edits import KINDS, make, parse_kinds, set_lock_versions
from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import ConfigError

SAMPLES = Path(__file__).resolve().parents[3] / "sample_crates"
CARGO = shutil.which("cargo")


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / name
    shutil.copytree(SAMPLES / name, dest, ignore=shutil.ignore_patterns("target", "vendor"))
    return dest


def _made(root: Path, kind: str, stamp: str = "0a1b2c3d"):  # type: ignore[no-untyped-def]
    crate = read_crate(root, use_cargo=False)
    return make(kind, crate, crate.select_binary(crate.metadata.get("bin")), stamp)


def _locked(root: Path) -> None:
    """The lockfile is the one cargo writes: ``cargo update --workspace`` (which rewrites the workspace's
    own entries, offline) leaves it as the edit wrote it. (``cargo metadata --locked`` would need every
    third-party crate downloaded, which this host may not have.)"""
    if CARGO is None:
        pytest.skip("cargo is not on PATH")
    written = (root / "Cargo.lock").read_text()
    subprocess.run([CARGO, "update", "--workspace", "--offline"], cwd=root, check=True, capture_output=True)
    assert (root / "Cargo.lock").read_text() == written
    subprocess.run(
        [CARGO, "metadata", "--locked", "--offline", "--no-deps", "--format-version=1"],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_source_appends_a_comment_to_the_binarys_main_file(tmp_path: Path) -> None:
    root = _copy(tmp_path, "workspace")
    made = _made(root, "source")
    assert made.edit is not None and made.edit.path == "crates/cli/src/main.rs" and made.gated
    made.edit.apply(root)
    assert (root / "crates/cli/src/main.rs").read_text().endswith("// pytest-rustimage cache probe 0a1b2c3d\n")
    assert _made(root, "source", "ffff0000").edit.key == made.edit.key  # type: ignore[union-attr]


def test_library_edits_the_member_the_binary_depends_on_and_allows_its_dependents(tmp_path: Path) -> None:
    root = _copy(tmp_path, "workspace")
    made = _made(root, "library")
    assert made.edit is not None and made.edit.path == "crates/core/src/lib.rs"
    assert made.library == "ws-core" and made.allowed_own == {"ws-core", "ws-cli", "ws-daemon"}
    made.edit.apply(root)
    assert "cache probe 0a1b2c3d" in (root / "crates/core/src/lib.rs").read_text()


def test_library_and_member_do_not_apply_to_a_single_package(tmp_path: Path) -> None:
    root = _copy(tmp_path, "hello")
    for kind in ("library", "member"):
        made = _made(root, kind)
        assert made.edit is None and "single package" in made.reason


def test_non_rust_appends_to_the_readme_or_adds_a_file_when_rust_reads_it(tmp_path: Path) -> None:
    root = _copy(tmp_path, "hello")
    made = _made(root, "non-rust")
    assert made.edit is not None and made.edit.path == "README.md"
    made.edit.apply(root)
    assert "cache probe 0a1b2c3d" in (root / "README.md").read_text()
    main = root / "src/main.rs"
    main.write_text(main.read_text() + '\nconst _DOC: &str = include_str!("../README.md");\n')
    other = _made(root, "non-rust")
    assert other.edit is not None and other.edit.path == "rust-image-probe.txt"
    other.edit.apply(root)
    assert (root / "rust-image-probe.txt").is_file()


def test_version_bumps_the_package_and_its_lock_entry_as_cargo_would(tmp_path: Path) -> None:
    root = _copy(tmp_path, "hello")
    made = _made(root, "version")
    assert made.edit is not None and made.edit.path == "Cargo.toml"
    made.edit.apply(root)
    crate = read_crate(root, use_cargo=False)
    assert crate.packages[0].version not in ("0.1.0", "") and crate.packages[0].version.startswith("0.1.")
    assert f'version = "{crate.packages[0].version}"' in (root / "Cargo.lock").read_text()
    _locked(root)


def test_version_of_an_inherited_version_bumps_the_workspace_and_every_inheritor(tmp_path: Path) -> None:
    root = _copy(tmp_path, "workspace")
    made = _made(root, "version", "12345678")
    assert made.edit is not None and made.edit.path == "Cargo.toml"
    made.edit.apply(root)
    versions = {p.name: p.version for p in read_crate(root, use_cargo=False).packages}
    assert len(set(versions.values())) == 1 and versions["ws-cli"] != "0.1.0"
    lock = (root / "Cargo.lock").read_text()
    assert lock.count(f'version = "{versions["ws-cli"]}"') == 3 and 'version = "1.0.19"' in lock
    _locked(root)


def test_member_adds_a_library_under_the_glob_and_to_the_lock(tmp_path: Path) -> None:
    root = _copy(tmp_path, "workspace")
    made = _made(root, "member")
    assert made.edit is not None and not made.gated
    made.edit.apply(root)
    assert (root / "crates/rust-image-probe-0a1b2c3d/src/lib.rs").is_file()
    names = [p.name for p in read_crate(root, use_cargo=False).packages]
    assert "rust-image-probe-0a1b2c3d" in names
    _locked(root)


def test_member_of_a_listed_workspace_is_added_to_members(tmp_path: Path) -> None:
    root = _copy(tmp_path, "workspace")
    manifest = root / "Cargo.toml"
    manifest.write_text(
        manifest.read_text().replace(
            'members = ["crates/*"]', 'members = ["crates/cli", "crates/core", "crates/daemon"]'
        )
    )
    made = _made(root, "member", "fedcba98")
    assert made.edit is not None
    made.edit.apply(root)
    assert '"rust-image-probe-fedcba98", "crates/cli"' in manifest.read_text()
    _locked(root)


def test_lock_versions_leave_registry_packages_of_the_same_name_alone() -> None:
    registry = '[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "registry+x"\n\n'
    lock = registry + '[[package]]\nname = "a"\nversion = "0.1.0"\n'
    assert set_lock_versions(lock, {"a": "0.2.0"}) == lock.replace('"0.1.0"', '"0.2.0"')


def test_kinds_parse_and_an_unknown_one_lists_the_valid_ones() -> None:
    assert parse_kinds("source, version,source", "x") == ("source", "version")
    assert parse_kinds(["member"], "x") == ("member",)
    with pytest.raises(ConfigError, match="unknown cache edit kind.*rebuild.*choose from: " + ", ".join(KINDS)):
        parse_kinds("source,rebuild", "--rust-image-cache-edits")
    with pytest.raises(ConfigError, match="names no cache edit kind"):
        parse_kinds("", "x")


def test_version_without_a_version_line_is_not_applicable(tmp_path: Path) -> None:
    root = _copy(tmp_path, "hello")
    manifest = root / "Cargo.toml"
    manifest.write_text("\n".join(line for line in manifest.read_text().splitlines() if not line.startswith("version")))
    made = _made(root, "version")
    assert made.edit is None and 'no version = "..." line in [package]' in made.reason
