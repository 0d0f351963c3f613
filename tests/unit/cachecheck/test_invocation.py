"""Reading a cargo command's unit-choosing flags."""

from __future__ import annotations

import pytest

from pytest_rustimage.cachecheck.invocation import Invocation, differences, feature_words, read
from pytest_rustimage.cachecheck.shell_commands import commands


def run(text: str, env: dict[str, str] | None = None) -> Invocation:
    (found,) = [r for c in commands(f"RUN {text}", env) if (r := read(c)) is not None]
    return found


def test_features_in_every_spelling_keep_their_order() -> None:
    found = run("cargo build -F a,b --features=c --features 'd e' -Ff --no-default-features")
    assert found.features == ("a", "b", "c", "d", "e", "f") and not found.default_features
    assert feature_words(found) == "--no-default-features --features a,b,c,d,e,f"
    assert feature_words(run("cargo build --features x")) == "default features and --features x"
    assert feature_words(run("cargo build --all-features")) == "--all-features"


@pytest.mark.parametrize(
    ("text", "profile"),
    [
        ("cargo build", "dev"),
        ("cargo build -r", "release"),
        ("cargo build --release", "release"),
        ("cargo build --profile dist", "dist"),
        ("cargo build --profile=dist", "dist"),
        ("cargo chef cook --release --recipe-path recipe.json", "release"),
        ("cargo install --path .", "release"),
        ("cargo install --debug --path .", "dev"),
    ],
)
def test_profiles(text: str, profile: str) -> None:
    assert run(text).profile == profile


def test_target_packages_toolchain_config_and_env() -> None:
    found = run(
        "RUSTFLAGS=-Cx CARGO_TERM_COLOR=always cargo +1.85 build --target=x86_64-unknown-linux-musl -pone "
        "--package two --config profile.release.lto=true",
        {"CARGO_PROFILE_RELEASE_LTO": "true", "PATH": "/usr/bin"},
    )
    assert found.target == "x86_64-unknown-linux-musl" and found.packages == ("one", "two")
    assert found.toolchain == "1.85" and found.config == ("profile.release.lto=true",)
    assert found.env == (("CARGO_PROFILE_RELEASE_LTO", "true"), ("RUSTFLAGS", "-Cx"))  # not the colour, not PATH
    assert run("cargo build", {"CARGO_BUILD_TARGET": "aarch64-unknown-linux-gnu"}).target == "aarch64-unknown-linux-gnu"


def test_what_a_command_that_compiles_nothing_reads_as() -> None:
    assert [read(c) for c in commands("RUN cargo fetch && ls")] == [None, None]


def test_differences_name_each_kind_once() -> None:
    cook = run("cargo chef cook --release --recipe-path recipe.json")
    build = run("cargo build --no-default-features --target x --config a=1")
    found = differences(cook, build)
    assert [d.split(":")[0] for d in found] == ["features", "profile", "target", "--config"]
    assert differences(cook, run("cargo build --release --locked --bin app -j 2")) == []
