"""The session's reports, CycloneDX folder, baseline and JUnit file are never build inputs: a run that
writes them into the crate's folder does not give the next run's image a new tag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.recipe.context import context_files, digest_inputs
from pytest_rustimage.recipe.dockerignore import leave_out, outputs_below


@pytest.fixture
def crate(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "crate"
    (root / "src").mkdir(parents=True)
    (root / "Cargo.toml").write_text('[package]\nname = "app"\nversion = "0.1.0"\n')
    (root / "src" / "main.rs").write_text("fn main() {}\n")
    yield root
    leave_out([])


def test_outputs_inside_the_crate_are_left_out_and_do_not_change_the_digest(crate: Path) -> None:
    before = digest_inputs(crate, {})
    leave_out([crate / "report.html", crate / "sbom", crate / "rust-image-baseline.json", crate.parent / "r.json"])
    (crate / "report.html").write_text("<html>")
    (crate / "sbom").mkdir()
    (crate / "sbom" / "app-chef-docker.cdx.json").write_text("{}")
    (crate / "rust-image-baseline.json").write_text("{}")
    assert [rel for rel, _ in context_files(crate)] == ["Cargo.toml", "src/main.rs"]
    assert digest_inputs(crate, {}) == before
    assert outputs_below(crate) == ("/report.html", "/sbom", "/rust-image-baseline.json")  # not ../r.json


def test_only_those_paths_a_file_of_the_same_name_deeper_stays(crate: Path) -> None:
    leave_out([crate / "report.html"])
    (crate / "src" / "report.html").write_text("a template the build embeds")
    assert "src/report.html" in [rel for rel, _ in context_files(crate)]


def test_an_engine_sending_the_folder_itself_still_sends_them(crate: Path) -> None:
    leave_out([crate / "report.html"])
    (crate / "report.html").write_text("<html>")
    assert "report.html" in [rel for rel, _ in context_files(crate, as_engine=True)]
