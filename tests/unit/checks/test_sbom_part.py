"""The sbom check's pure parts: the binary's target, and a failure that names every disagreement."""

from __future__ import annotations

from pytest_rustimage.checks.sbom import HOW_TO, _failure, target_of
from pytest_rustimage.crate.dep_graph import KindMismatch, SbomDiff
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.facts import BinaryFacts


def facts(libc: str) -> BinaryFacts:
    elf = ElfFacts(
        machine="x86_64",
        elf_type="EXEC",
        linkage="static",
        interpreter=None,
        needed=(),
        libc=libc,  # type: ignore[arg-type]
        stripped=True,
        build_id=None,
    )
    return BinaryFacts(name="app", path="/usr/local/bin/app", size=1, sha256="0" * 64, elf=elf)


def test_the_target_is_the_binarys_own() -> None:
    assert target_of(facts("musl")) == "x86_64-unknown-linux-musl"
    assert target_of(facts("glibc")) == "x86_64-unknown-linux-gnu"


def test_a_failure_names_each_crate_with_its_version_and_the_root() -> None:
    diff = SbomDiff(
        missing=(("itoa", "1.0.15"),),
        unexpected=(("left-pad", "1.3.0"), ("serde", "1.0.0")),
        matched=3,
        kind_mismatches=(KindMismatch("cc", "1.2.0", "runtime", "build"),),
        kinds_compared=True,
        listed_root=("other", "0.1.0"),
        expected_root=("app", "0.1.0"),
    )
    said = _failure("/usr/local/bin/app in t", diff)
    assert "root package: listed other 0.1.0, expected app 0.1.0" in said
    assert "missing from the list: itoa 1.0.15" in said
    assert "listed but not in cargo's graph: left-pad 1.3.0, serde 1.0.0" in said
    assert "cc 1.2.0: listed as runtime, cargo's graph has build" in said
    assert "3 crates agree" in said


def test_the_failure_without_a_list_says_how_to_turn_auditable_builds_on() -> None:
    assert "--rust-image-auditable" in HOW_TO and "cargo auditable build" in HOW_TO and "auditable = true" in HOW_TO
