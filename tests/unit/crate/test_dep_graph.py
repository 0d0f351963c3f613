"""What cargo says a binary was built from, checked against what ``cargo auditable`` put in real binaries.

The graph is computed from the real ``cargo metadata`` of crates built here; the lists to compare it
with are read from the binaries the same build made. Diffs are shown on changed copies of a real list.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_rustimage.crate.dep_graph import (
    ExpectedGraph,
    KindMismatch,
    cargo_metadata,
    compare,
    expected_packages,
    source_word,
)
from pytest_rustimage.errors import CrateError
from pytest_rustimage.inspect.audit import AuditData, AuditedPackage, audit_data_from_bytes
from tests.unit.conftest import host_target

if TYPE_CHECKING:
    from tests.unit.conftest import AuditableBuild


def listed(binary: Path) -> AuditData:
    audit = audit_data_from_bytes(binary.read_bytes())
    assert audit is not None, f"{binary} has no .dep-v0 section"
    return audit


def same_list(audit: AuditData, graph: ExpectedGraph) -> None:
    """The computed graph is the binary's list exactly: order, kinds, sources, root and indices."""
    assert [(p.name, p.version, p.source, p.kind, p.root, p.dependencies) for p in graph.packages] == [
        (p.name, p.version, p.source, p.kind, p.root, p.dependencies) for p in audit.packages
    ]


def test_the_probe_graph_is_the_list_cargo_auditable_embedded(probe_build: AuditableBuild) -> None:
    folder, binary = probe_build.need()
    graph = expected_packages(cargo_metadata(folder, target=host_target()))
    same_list(listed(binary), graph)
    kinds = {p.name: p.kind for p in graph.packages}
    assert kinds["version_check"] == "build" and kinds["syn"] == "build" and kinds["itoa"] == "runtime"
    assert "either" not in kinds  # dev-dependency
    diff = compare(listed(binary), graph)
    assert diff.ok and diff.matched == len(graph.packages) - 1 and diff.kinds_compared


def test_the_server_sample_graph_is_its_binarys_list(server_build: AuditableBuild) -> None:
    folder, binary = server_build.need()
    graph = expected_packages(cargo_metadata(folder, target=host_target()))
    same_list(listed(binary), graph)
    assert graph.root_package.name == "server"
    assert {p.name: p.kind for p in graph.packages}["tokio-macros"] == "build"  # a proc-macro
    assert compare(listed(binary), graph).ok


def test_each_workspace_member_graph_is_its_binarys_list(workspace_build: AuditableBuild) -> None:
    folder, _ = workspace_build.need()
    target = host_target()
    for member, binary in (("cli", "wsctl"), ("daemon", "ws-daemon")):
        graph = expected_packages(cargo_metadata(folder / "crates" / member, target=target))
        same_list(listed(folder / "target" / "release" / binary), graph)
    # from the workspace root (a virtual manifest) the package is named
    at_root = cargo_metadata(folder, target=target)
    same_list(listed(folder / "target" / "release" / "wsctl"), expected_packages(at_root, "ws-cli"))
    with pytest.raises(CrateError, match="no root package"):
        expected_packages(at_root)
    with pytest.raises(CrateError, match=r"no workspace member named 'ws-nope' \(members: ws-cli, ws-core"):
        expected_packages(at_root, "ws-nope")


def test_a_graph_needs_the_resolve(probe_build: AuditableBuild) -> None:
    folder, _ = probe_build.need()
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with pytest.raises(CrateError, match="no resolve graph"):
        expected_packages(json.loads(out))


def test_source_words_are_cargo_auditables() -> None:
    assert source_word(None) == "local"
    assert source_word("registry+https://github.com/rust-lang/crates.io-index") == "crates.io"
    assert source_word("registry+https://example.com/index") == "registry"
    assert source_word("git+https://github.com/a/b?branch=main#abc") == "git"
    assert source_word("sparse+https://example.com/index/") == "sparse"


# compare() on changed copies of a real list


@pytest.fixture
def probe_lists(probe_build: AuditableBuild) -> tuple[AuditData, ExpectedGraph]:
    folder, binary = probe_build.need()
    return listed(binary), expected_packages(cargo_metadata(folder, target=host_target()))


def _without(audit: AuditData, name: str) -> AuditData:
    """The list without the crate ``name`` (indices are not used by compare)."""
    return replace(audit, packages=tuple(p for p in audit.packages if p.name != name))


def test_a_crate_missing_from_the_binary_is_named(probe_lists: tuple[AuditData, ExpectedGraph]) -> None:
    audit, graph = probe_lists
    itoa = next(p for p in audit.packages if p.name == "itoa")
    diff = compare(_without(_without(audit, "syn"), "itoa"), graph)
    syn = next(p for p in audit.packages if p.name == "syn")
    assert diff.missing == tuple(sorted([("itoa", itoa.version), ("syn", syn.version)]))
    assert diff.unexpected == () and diff.matched == len(graph.packages) - 3 and not diff.ok


def test_a_crate_cargo_does_not_know_is_named(probe_lists: tuple[AuditData, ExpectedGraph]) -> None:
    audit, graph = probe_lists
    extra = (AuditedPackage("zlib-rs", "0.5.0", "crates.io", "runtime", False, ()),)
    other_version = tuple(replace(p, version="9.9.9") if p.name == "version_check" else p for p in audit.packages)
    diff = compare(AuditData(other_version + extra, 1), graph)
    check = next(p for p in graph.packages if p.name == "version_check")
    assert diff.unexpected == (("version_check", "9.9.9"), ("zlib-rs", "0.5.0"))
    assert diff.missing == (("version_check", check.version),)
    assert not diff.ok


def test_a_kind_that_disagrees_is_named_unless_the_list_is_format_0(
    probe_lists: tuple[AuditData, ExpectedGraph],
) -> None:
    audit, graph = probe_lists
    flipped = AuditData(tuple(replace(p, kind="runtime") if p.name == "syn" else p for p in audit.packages), 1)
    diff = compare(flipped, graph)
    syn = next(p for p in graph.packages if p.name == "syn")
    assert diff.kind_mismatches == (KindMismatch("syn", syn.version, "runtime", "build"),)
    assert not diff.ok and not diff.missing and not diff.unexpected
    old = compare(replace(flipped, format=0), graph)  # format 0 records proc-macros as runtime
    assert old.ok and not old.kinds_compared and old.kind_mismatches == ()


def test_the_root_is_compared(probe_lists: tuple[AuditData, ExpectedGraph]) -> None:
    audit, graph = probe_lists
    renamed = AuditData(tuple(replace(p, version="0.3.2") if p.root else p for p in audit.packages), 1)
    diff = compare(renamed, graph)
    assert (diff.listed_root, diff.expected_root) == (("sbom-probe", "0.3.2"), ("sbom-probe", "0.3.1"))
    assert not diff.root_matches and not diff.ok and diff.missing == () and diff.unexpected == ()
    no_root = compare(AuditData(tuple(replace(p, root=False) for p in audit.packages), 1), graph)
    assert no_root.listed_root is None and not no_root.ok
    assert ("sbom-probe", "0.3.1") in no_root.unexpected  # a list without a root lists it as a crate


# cargo metadata failing


def _crate(folder: Path, dependencies: str) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "main.rs").write_text("fn main() {}\n")
    (folder / "Cargo.toml").write_text(
        f'[package]\nname = "failing"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n{dependencies}\n'
        "\n[workspace]\n"
    )
    return folder


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_a_dependency_cargo_cannot_find_offline_is_a_crate_error_with_its_stderr(tmp_path: Path) -> None:
    folder = _crate(tmp_path, 'no-such-crate-pytest-rustimage = "1"')
    with pytest.raises(CrateError, match="--offline` failed") as caught:
        cargo_metadata(folder, target=host_target())
    assert "no-such-crate-pytest-rustimage" in str(caught.value) and str(folder) in str(caught.value)


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_a_stale_lockfile_fails_because_it_is_locked(probe_build: AuditableBuild, tmp_path: Path) -> None:
    folder, _ = probe_build.need()
    copy = tmp_path / "probe"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("target"))
    assert (copy / "Cargo.lock").is_file()
    cargo_metadata(copy, target=host_target())  # the lockfile fits: it works, with --locked
    manifest = copy / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('either = "1"', 'either = "1"\nonce_cell = "1"'))
    with pytest.raises(CrateError, match="--locked") as caught:
        cargo_metadata(copy, target=host_target())
    assert "lock file" in str(caught.value)


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_features_and_default_features_are_passed(tmp_path: Path) -> None:
    folder = _crate(tmp_path, "")
    manifest = folder / "Cargo.toml"
    manifest.write_text(manifest.read_text() + "\n[features]\ndefault = []\nextra = []\n")
    with pytest.raises(CrateError, match="nope"):
        cargo_metadata(folder, target=host_target(), features=["nope"])
    data: dict[str, Any] = cargo_metadata(folder, target=host_target(), features=["extra"], default_features=False)
    assert data["resolve"]["nodes"][0]["features"] == ["extra"]
