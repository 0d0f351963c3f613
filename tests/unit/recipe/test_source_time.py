"""The source time a generated build gets as SOURCE_DATE_EPOCH, and where the Dockerfile declares it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.dockerfile import EPOCH_ARG, Recipe
from pytest_rustimage.recipe.oci import source_epoch
from pytest_rustimage.recipe.request import build_request
from pytest_rustimage.recipe.strategies import render
from tests.unit.recipe.test_oci import crate_in_git  # noqa: F401 - a fixture

GENERATED = ("chef", "static", "incremental", "naive", "dummy-main")


def test_the_environment_wins_then_the_commit(crate_in_git: Path) -> None:  # noqa: F811
    assert source_epoch(crate_in_git, {"SOURCE_DATE_EPOCH": "1234"}) == 1234
    assert source_epoch(crate_in_git, {}) == 1_700_000_000  # the HEAD commit's committer time
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH must be a whole number"):
        source_epoch(crate_in_git, {"SOURCE_DATE_EPOCH": "yesterday"})


def test_outside_git_the_newest_file_outside_target_and_git(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "target").mkdir()
    for name, when in (("Cargo.toml", 1_500_000_000), ("src/main.rs", 1_600_000_000), ("target/x", 1_900_000_000)):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (when, when))
    assert source_epoch(tmp_path, {}) == 1_600_000_000


@pytest.mark.parametrize("strategy", GENERATED)
@pytest.mark.parametrize("auditable", [False, True])
def test_the_epoch_is_declared_only_for_the_final_build_step(strategy: str, auditable: bool) -> None:
    lines = render(Recipe(strategy=strategy, package="app", binary="app", auditable=auditable)).splitlines()
    at = lines.index(EPOCH_ARG)
    assert lines.count(EPOCH_ARG) == 1
    assert "RUST_IMAGE_STEP=build" in lines[at + 1]  # the next line is the final build step
    assert not any("RUST_IMAGE_STEP=deps" in line for line in lines[at:])  # never before the dependency step
    step = "\n".join(lines[at + 1 :]).split("\nFROM ")[0]  # the build step's lines, up to the next stage
    assert ("cargo auditable build --release" in step) is auditable and (
        "cargo build --release" in step
    ) is not auditable


@pytest.mark.parametrize("strategy", ["chef", "static", "incremental"])
def test_auditable_builds_share_the_dependency_layer(strategy: str) -> None:
    plain = render(Recipe(strategy=strategy, package="app", binary="app")).split("FROM cook AS build")[0]
    audited = render(Recipe(strategy=strategy, package="app", binary="app", auditable=True))
    before, after = audited.split("FROM cook AS build")
    assert before == plain  # planner and cook unchanged: one dependency layer for both
    assert "command -v cargo-auditable >/dev/null 2>&1 || cargo install cargo-auditable --locked" in after


def test_the_request_carries_the_epoch_for_generated_strategies_only(crate_in_git: Path) -> None:  # noqa: F811
    (crate_in_git / "Dockerfile").write_text("FROM scratch\n")
    crate = read_crate(crate_in_git, use_cargo=False)
    settings = Settings(rootdir=crate_in_git)
    chef = resolve(settings, crate, "chef", "docker")
    request = build_request(chef, context=crate_in_git, dockerfile=crate_in_git / "Dockerfile", tag="t", labels={})
    assert request.build_args["SOURCE_DATE_EPOCH"] == str(1_700_000_000)
    own = resolve(settings, crate, "dockerfile", "docker")
    request = build_request(own, context=crate_in_git, dockerfile=crate_in_git / "Dockerfile", tag="t", labels={})
    assert "SOURCE_DATE_EPOCH" not in request.build_args  # a crate's own Dockerfile declares its own arguments
