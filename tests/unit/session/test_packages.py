"""Which image a binary was built in, for the package hint of a failed linkage check."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.crate.reader import read_crate
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.session.packages import builder_image

MANIFEST = '[package]\nname = "tool"\nversion = "0.1.0"\nedition = "2021"\n'


def spec_of(tmp_path: Path, strategy: str, dockerfile: str | None = None) -> ImageSpec:
    (tmp_path / "Cargo.toml").write_text(MANIFEST)
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    if dockerfile is not None:
        (tmp_path / "Dockerfile").write_text(dockerfile)
    settings = Settings(cli_strategies=(strategy,), builder_image="my/builder:1", runtime_image="my/runtime:1")
    (spec,) = specs_for(settings, read_crate(tmp_path))
    return spec


@pytest.mark.parametrize("strategy", ["chef", "static", "incremental"])
def test_a_generated_strategy_builds_in_the_configured_builder(tmp_path: Path, strategy: str) -> None:
    assert builder_image(spec_of(tmp_path, strategy)) == "my/builder:1"


@pytest.mark.parametrize(
    ("dockerfile", "builder"),
    [
        ("FROM rust:1-bookworm AS build\nRUN cargo build\nFROM debian:bookworm-slim\nCOPY --from=build /x /x\n",
         "rust:1-bookworm"),
        ("# syntax=docker/dockerfile:1\nFROM rust:1 as b\nFROM gcr.io/distroless/cc\n", "rust:1"),
        ("FROM rust:1\nRUN cargo build\n", None),  # one stage: the runtime is the builder, nothing to ask apart
        ("ARG BUILDER=rust:1\nFROM ${BUILDER} AS build\nFROM debian\n", None),  # an ARG: not known here
        ("FROM scratch AS empty\nFROM debian\n", None),
    ],
)  # fmt: skip
def test_a_crates_own_dockerfile_builds_in_its_first_stage(
    tmp_path: Path, dockerfile: str, builder: str | None
) -> None:
    assert builder_image(spec_of(tmp_path, "dockerfile", dockerfile)) == builder
