"""The generated Dockerfiles of the chef and static strategies, and the vendored cargo config."""

from __future__ import annotations

import re
import sys

import pytest

from pytest_rustimage.names import DEFAULT_BUILDER, DEFAULT_RUNTIME
from pytest_rustimage.recipe.dockerfile import BINARY_DIR, DEFAULT_USER, VENDOR_DIR, Recipe, binary_path, vendor_config
from pytest_rustimage.recipe.strategies import render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CRT_STATIC = 'RUSTFLAGS="-C target-feature=+crt-static"'
VARIANTS = [
    pytest.param(
        strategy,
        locked,
        vendored,
        id=f"{strategy}-{'locked' if locked else 'unlocked'}-{'vendored' if vendored else 'online'}",
    )
    for strategy in ("chef", "static")
    for locked in (True, False)
    for vendored in (True, False)
]


def lines_of(
    strategy: str, locked: bool = True, vendored: bool = False, *, package: str = "my-pkg", binary: str = "my-bin"
) -> list[str]:
    return render(Recipe(strategy, package, binary, locked=locked, vendored=vendored)).splitlines()


def index_of(lines: list[str], needle: str) -> int:
    found = [i for i, line in enumerate(lines) if needle in line]
    assert len(found) == 1, f"{needle!r} found on lines {found}"
    return found[0]


def test_chef_stages() -> None:
    lines = lines_of("chef")
    assert [line for line in lines if line.startswith("FROM ")] == [
        "FROM ${BUILDER_IMAGE} AS chef",
        "FROM chef AS planner",
        "FROM chef AS cook",
        "FROM cook AS build",
        "FROM ${RUNTIME_IMAGE} AS runtime",
    ]


def test_static_stages() -> None:
    lines = lines_of("static")
    assert [line for line in lines if line.startswith("FROM ")] == [
        "FROM ${BUILDER_IMAGE} AS chef",
        "FROM chef AS planner",
        "FROM chef AS cook",
        "FROM cook AS build",
        "FROM scratch AS runtime",
    ]


@pytest.mark.parametrize(("strategy", "locked", "vendored"), VARIANTS)
def test_common_shape(strategy: str, locked: bool, vendored: bool) -> None:
    text = render(Recipe(strategy, "my-pkg", "my-bin", locked=locked, vendored=vendored))
    lines = text.splitlines()
    # the base images are build args with defaults, declared before the first FROM
    first_from = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    builder_arg = lines.index(f"ARG BUILDER_IMAGE={DEFAULT_BUILDER}")
    runtime_arg = lines.index(f"ARG RUNTIME_IMAGE={DEFAULT_RUNTIME}")
    assert builder_arg < first_from
    assert runtime_arg < first_from
    assert DEFAULT_BUILDER == "rust:1-bookworm"
    assert DEFAULT_RUNTIME == "debian:bookworm-slim"
    # stages in order
    stage_order = [index_of(lines, f" AS {stage}") for stage in ("planner", "cook", "build", "runtime")]
    assert stage_order == sorted(stage_order)
    # no parser directive (a `# syntax=` line would make BuildKit pull a frontend image)
    assert not any(re.match(r"^#\s*syntax\s*=", line, re.IGNORECASE) for line in lines)
    assert not re.match(r"^#\s*[A-Za-z]+\s*=", lines[0])
    # the binary, its user and its entrypoint
    assert lines.count('ENTRYPOINT ["/usr/local/bin/my-bin"]') == 1
    assert lines.count("USER 65532:65532") == 1
    assert lines.count("COPY --from=build /rust-image-out/my-bin /usr/local/bin/my-bin") == 1
    assert lines.index("USER 65532:65532") > index_of(lines, " AS runtime")
    assert text.endswith("\n")


@pytest.mark.parametrize(("strategy", "locked", "vendored"), VARIANTS)
def test_cook_and_build_select_the_same_target(strategy: str, locked: bool, vendored: bool) -> None:
    lines = lines_of(strategy, locked, vendored)
    cook = lines[index_of(lines, "cargo chef cook")]
    build = lines[index_of(lines, "cargo build")]
    flags = re.compile(r"--release( --locked)?( --target \$target)? (--package \S+ --bin \S+)")
    cook_flags = flags.search(cook)
    build_flags = flags.search(build)
    assert cook_flags is not None
    assert build_flags is not None
    # the same profile, lock flag, target and selection: cook's cache is what build reuses
    assert cook_flags.groups() == build_flags.groups()
    assert cook_flags.group(3) == "--package my-pkg --bin my-bin"
    assert (cook_flags.group(1) is not None) is locked
    assert (cook_flags.group(2) is not None) is (strategy == "static")
    # the static RUSTFLAGS go with both or neither
    assert (CRT_STATIC in cook) is (strategy == "static")
    assert (CRT_STATIC in build) is (strategy == "static")
    assert index_of(lines, "cargo chef cook") < index_of(lines, " AS build") < index_of(lines, "cargo build")


@pytest.mark.parametrize(("strategy", "locked", "vendored"), VARIANTS)
def test_locked_only_when_locked(strategy: str, locked: bool, vendored: bool) -> None:
    text = render(Recipe(strategy, "p", "b", locked=locked, vendored=vendored))
    # `cargo install cargo-chef --locked` is always there; count the other ones
    assert text.count("--locked") == (3 if locked else 1)
    assert "cargo install cargo-chef --locked" in text


@pytest.mark.parametrize(("strategy", "locked", "vendored"), VARIANTS)
def test_static_only_parts(strategy: str, locked: bool, vendored: bool) -> None:
    text = render(Recipe(strategy, "p", "b", locked=locked, vendored=vendored))
    static = strategy == "static"
    assert ("FROM scratch AS runtime" in text) is static
    assert ("FROM ${RUNTIME_IMAGE} AS runtime" in text) is not static
    assert text.count("--target $target") == (2 if static else 0)
    assert text.count(CRT_STATIC) == (2 if static else 0)
    assert text.count("> /rust-image-target") == (1 if static else 0)
    assert ("cp target/$target/release/b /rust-image-out/" in text) is static
    assert ("cp target/release/b /rust-image-out/" in text) is not static


@pytest.mark.parametrize(("strategy", "locked", "vendored"), VARIANTS)
def test_vendor_lines(strategy: str, locked: bool, vendored: bool) -> None:
    lines = lines_of(strategy, locked, vendored)
    vendor_lines = [f"COPY vendor/ {VENDOR_DIR}/", "COPY cargo-vendor.toml /.cargo/config.toml"]
    if not vendored:
        assert not any("vendor" in line for line in lines)
        return
    positions = [lines.index(line) for line in vendor_lines]
    assert [lines.count(line) for line in vendor_lines] == [1, 1]
    # in the cook stage, before cooking
    assert index_of(lines, "FROM chef AS cook") < min(positions)
    assert max(positions) < index_of(lines, "cargo chef cook")
    # not in the planner stage
    assert index_of(lines, "FROM chef AS planner") < index_of(lines, "cargo chef prepare") < min(positions)


def test_exact_chef_cook_and_build_lines() -> None:
    lines = lines_of("chef", locked=True, vendored=False, package="p", binary="b")
    assert (
        "RUN RUST_IMAGE_STEP=deps && cargo chef cook --release --locked --package p --bin b --recipe-path recipe.json"
        in lines
    )
    assert "RUN RUST_IMAGE_STEP=build && cargo build --release --locked --package p --bin b \\" in lines


def test_names_are_shell_quoted_alike() -> None:
    lines = lines_of("chef", package="odd name", binary="b")
    cook = lines[index_of(lines, "cargo chef cook")]
    build = lines[index_of(lines, "cargo build")]
    assert "--package 'odd name' --bin b" in cook
    assert "--package 'odd name' --bin b" in build


def test_custom_user() -> None:
    text = render(Recipe("static", "p", "b", user="1000:1000"))
    assert "USER 1000:1000" in text.splitlines()
    assert DEFAULT_USER not in text


def test_binary_path() -> None:
    assert BINARY_DIR == "/usr/local/bin"
    assert binary_path("hello") == "/usr/local/bin/hello"


@pytest.mark.parametrize("strategy", ["dockerfile", "", "Chef", "musl"])
def test_no_template_for_other_strategies(strategy: str) -> None:
    with pytest.raises(ValueError) as info:
        render(Recipe(strategy, "p", "b"))
    assert str(info.value) == f"no template for strategy {strategy!r}"


def test_vendor_config() -> None:
    text = vendor_config()
    assert tomllib.loads(text) == {
        "source": {
            "crates-io": {"replace-with": "vendored-sources"},
            "vendored-sources": {"directory": "/opt/rust-image/vendor"},
        },
        "net": {"offline": True},
    }
    assert VENDOR_DIR == "/opt/rust-image/vendor"


def test_vendor_config_other_folder() -> None:
    config = tomllib.loads(vendor_config("/elsewhere/v"))
    assert config["source"]["vendored-sources"] == {"directory": "/elsewhere/v"}
    assert config["source"]["crates-io"] == {"replace-with": "vendored-sources"}
    assert config["net"] == {"offline": True}


@pytest.mark.parametrize("strategy", ["chef", "static", "naive", "dummy-main"])
def test_every_generated_strategy_marks_its_final_build_step(strategy: str) -> None:
    lines = render(Recipe(strategy, "p", "b")).splitlines()
    assert sum("RUST_IMAGE_STEP=build && " in line for line in lines) == 1
    deps = sum("RUST_IMAGE_STEP=deps && " in line for line in lines)
    assert deps == (0 if strategy == "naive" else 1)


def test_naive_copies_everything_then_builds() -> None:
    lines = render(Recipe("naive", "p", "b", vendored=True)).splitlines()
    assert "cargo chef" not in "\n".join(lines)
    assert lines.index("COPY app/ ./") < index_of(lines, "RUST_IMAGE_STEP=build")
    assert "FROM ${RUNTIME_IMAGE} AS runtime" in lines


def test_dummy_main_is_the_chapters_trick() -> None:
    lines = render(Recipe("dummy-main", "p", "b")).splitlines()
    order = [
        "COPY app/Cargo.toml app/Cargo.loc[k] ./",
        'RUN mkdir src && echo "fn main() {}" > src/main.rs',
        "RUN RUST_IMAGE_STEP=deps && cargo build --release --locked",
        "RUN rm -rf src",
        "COPY app/src ./src",
    ]
    assert [lines.index(line) for line in order] == sorted(lines.index(line) for line in order)
    assert index_of(lines, "RUST_IMAGE_STEP=build") > lines.index("COPY app/src ./src")
