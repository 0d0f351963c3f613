"""The incremental strategy's pure parts: its Dockerfile, its freshness script (run in a real shell),
which builders have locked cache mounts, and which cache mounts are the plugin's."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from pytest_rustimage.engines.cache_mounts import (
    buildah_cache_folders,
    buildah_lacks_mounts,
    buildah_mounts,
    buildkit_mount,
)
from pytest_rustimage.names import REGISTRY_CACHE_MOUNT, cache_mount_id, is_crate_mount
from pytest_rustimage.recipe.dockerfile import COOKED, DEPS_DIR, FRESHEN, NOW_SUMS, RECORD, SEED, SUMS, Recipe
from pytest_rustimage.recipe.strategies import render, strategy

OLD = time.mktime((2000, 1, 1, 0, 0, 0, 0, 0, -1))


BUILDER_ID = "sha256:80b027bf6e4f" + "0" * 52


def test_the_build_step_compiles_in_a_locked_target_mount_named_for_crate_binary_and_builder() -> None:
    text = render(Recipe("incremental", "ws-cli", "wsctl", crate="My Crate", builder=BUILDER_ID))
    mount = cache_mount_id("My Crate", "wsctl", BUILDER_ID)
    assert mount == "pytest-rustimage-target-my-crate--wsctl--80b027bf6e4f"
    build = text[text.index("FROM cook AS build") :]
    assert f"--mount=type=cache,id={mount},target=/app/target,sharing=locked" in build
    # the registry cache, shared by all crates' builds, is locked too, in every step that mounts it
    registry = f"--mount=type=cache,id={REGISTRY_CACHE_MOUNT},target=/usr/local/cargo/registry,sharing=locked"
    assert text.count("--mount=type=cache,id=pytest-rustimage-cargo-registry,") == text.count(registry) == 2
    assert build.index(mount) < build.index(registry)  # one order of locking for every step
    assert f"RUST_IMAGE_MOUNT={mount}" in build  # where BuildKit shows no ids, prune finds it by this
    assert "cargo build --release --locked --package ws-cli --bin wsctl" in build
    assert "cp target/release/wsctl /rust-image-out/" in build  # out of the mount, into a layer
    # the dependencies stay in the cook layer: the mount is only ever a cache of them
    cook = text[text.index("FROM chef AS cook") : text.index("FROM cook AS build")]
    assert "/app/target" not in cook
    assert f"mv target {DEPS_DIR}" in cook
    assert text.rstrip().endswith('ENTRYPOINT ["/usr/local/bin/wsctl"]')
    assert "FROM ${RUNTIME_IMAGE} AS runtime" in text


def test_another_builder_image_has_another_target_mount() -> None:
    other = "sha256:" + "1" * 64
    assert cache_mount_id("ws", "wsctl", other) == "pytest-rustimage-target-ws--wsctl--111111111111"
    # an image the engine has no id for yet: its reference, as twelve hex digits
    by_name = cache_mount_id("ws", "wsctl", "rust:1-bookworm")
    assert re.fullmatch(r"pytest-rustimage-target-ws--wsctl--[0-9a-f]{12}", by_name)
    assert len({by_name, cache_mount_id("ws", "wsctl", "rust:1-bullseye"), cache_mount_id("ws", "wsctl", other)}) == 3
    for mount in (by_name, cache_mount_id("ws", "wsctl", other)):  # prune still knows them as the crate's
        assert is_crate_mount(mount, "ws")
        assert buildkit_mount(TARGET.format(id=mount)) == mount
        assert buildkit_mount(f'cached mount /app/target from exec /bin/sh -c x with id "{mount}"') == mount


def test_secrets_are_mounted_beside_the_cache_mounts() -> None:
    text = render(Recipe("incremental", "p", "b", crate="c", secrets=("TOKEN",), builder=BUILDER_ID))
    build = next(line for line in text.splitlines() if "RUST_IMAGE_STEP=build" in line)
    assert build.startswith("RUN --mount=type=cache,id=pytest-rustimage-target-c--b--80b027bf6e4f,")
    assert "--mount=type=secret,id=TOKEN RUST_IMAGE_STEP=build && export TOKEN=" in build


def test_the_strategy_row() -> None:
    row = strategy("incremental")
    assert row.generated and row.cache_mounts and row.deps_stage == "cook" and not row.control
    assert not strategy("chef").cache_mounts


def sh(script: str, cwd: Path) -> None:
    subprocess.run(["sh", "-c", script], cwd=cwd, check=True, capture_output=True)


def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "target").mkdir()
    (root / "src" / "main.rs").write_text("fn main() {}\n")
    (root / "src" / "lib.rs").write_text("pub fn f() {}\n")
    (root / "Cargo.toml").write_text("[package]\n")
    return root


def mtimes(root: Path) -> dict[str, float]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*") if p.is_file() and "target" not in p.parts
    }


def test_without_a_record_every_source_file_is_new(tmp_path: Path) -> None:
    root = app(tmp_path)
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD))
    sh(FRESHEN, root)
    assert all(t > OLD + 1e6 for t in mtimes(root).values()), mtimes(root)


def test_with_a_record_only_files_whose_content_changed_are_new(tmp_path: Path) -> None:
    root = app(tmp_path)
    sh(f"{FRESHEN} && mv {NOW_SUMS} target/{SUMS}", root)  # a build that succeeded
    now = time.time()
    for path in root.rglob("*"):  # whatever times a context brings: here all newer than that build
        os.utime(path, (now + 100, now + 100))
    (root / "src" / "main.rs").write_text("fn main() { println!(); }\n")
    sh(FRESHEN, root)
    times = mtimes(root)
    assert times["src/lib.rs"] == OLD and times["Cargo.toml"] == OLD  # same content: older than any build
    assert times["src/main.rs"] >= now - 5  # changed: newer than the last build


def test_a_revert_to_an_older_text_is_new_again(tmp_path: Path) -> None:
    root = app(tmp_path)
    original = (root / "src" / "main.rs").read_text()
    sh(f"{FRESHEN} && mv {NOW_SUMS} target/{SUMS}", root)
    (root / "src" / "main.rs").write_text("fn main() { edited(); }\n")
    sh(f"{FRESHEN} && mv {NOW_SUMS} target/{SUMS}", root)  # the edited build was the last
    (root / "src" / "main.rs").write_text(original)
    os.utime(root / "src" / "main.rs", (OLD, OLD))  # an old time: cargo alone would call it fresh
    sh(FRESHEN, root)
    assert mtimes(root)["src/main.rs"] > OLD + 1e6


def test_the_record_is_gone_until_the_build_records_it_again(tmp_path: Path) -> None:
    root = app(tmp_path)
    sh(f"{FRESHEN} && {RECORD}", root)
    assert (root / "target" / SUMS).is_file()
    sh(FRESHEN, root)  # then cargo fails, or the build is killed: the next build finds no record
    assert not (root / "target" / SUMS).exists()
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD))
    sh(FRESHEN, root)
    assert all(t > OLD + 1e6 for t in mtimes(root).values()), mtimes(root)


@pytest.mark.parametrize(
    "change",
    [
        "rm src/lib.rs",  # a file gone
        "echo '[lib]' >> Cargo.toml",  # a manifest
        "mkdir src/empty",  # a folder
        "ln -s lib.rs src/other.rs",  # a link
        "mkdir .cargo && echo '[build]' > .cargo/config.toml",  # cargo's configuration
    ],
)
def test_a_change_beyond_file_edits_makes_every_file_new(tmp_path: Path, change: str) -> None:
    root = app(tmp_path)
    sh(f"{FRESHEN} && {RECORD}", root)
    sh(change, root)
    sh(FRESHEN, root)
    assert all(t > OLD + 1e6 for t in mtimes(root).values()), mtimes(root)


def test_the_seed_replaces_a_mount_of_another_cook_and_keeps_one_of_the_same(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / COOKED).write_text("cook A\n")
    (deps / "dep.rlib").write_text("A")
    script = SEED.replace(DEPS_DIR, str(deps))
    root = app(tmp_path)
    (root / "target" / "stale").write_text("from another cook")
    sh(script, root)
    assert sorted(p.name for p in (root / "target").iterdir()) == [COOKED, "dep.rlib"]
    (root / "target" / "own.rlib").write_text("built here")
    sh(script, root)  # the same cook: what the mount holds stays
    assert (root / "target" / "own.rlib").is_file()


@pytest.mark.parametrize(
    ("version", "refused"),
    [("1.28.2", False), ("1.25.0", False), ("v1.33.7", False), ("1.24.1", True), ("1.19.6", True), ("", True)],
)
def test_buildah_needs_locked_cache_mounts(version: str, refused: bool) -> None:
    reason = buildah_lacks_mounts(version)
    assert (reason is not None) is refused
    if reason:
        assert reason.startswith(f"buildah {version or 'of unknown version'} (Podman's builder) has no locked")
        assert "use the Docker engine with BuildKit" in reason


TARGET = "cached mount /app/target from exec /bin/sh -c RUST_IMAGE_STEP=build && RUST_IMAGE_MOUNT={id} && if ..."


@pytest.mark.parametrize(
    ("description", "name"),
    [
        (TARGET.format(id="pytest-rustimage-target-ws--wsctl"), "pytest-rustimage-target-ws--wsctl"),
        (
            "cached mount /usr/local/cargo/registry from exec /bin/sh -c RUST_IMAGE_STEP=deps && cargo chef cook",
            REGISTRY_CACHE_MOUNT,
        ),
        (
            'cached mount /app/target from exec /bin/sh -c make with id "//pytest-rustimage-target-a--b"',
            "pytest-rustimage-target-a--b",
        ),
        (
            'cached mount /x from exec /bin/sh -c x with id "pytest-rustimage-target-a--b"',
            "pytest-rustimage-target-a--b",
        ),
        ('cached mount /root/.cache from exec /bin/sh -c pip install with id "/root/.cache"', None),
        ("cached mount /usr/local/cargo/registry from exec /bin/sh -c cargo build", None),  # someone else's
    ],
)
def test_which_buildkit_cache_records_are_the_plugins(description: str, name: str | None) -> None:
    assert buildkit_mount(description) == name


def test_buildah_cache_folders_of_the_plugin(tmp_path: Path) -> None:
    cache = tmp_path / "buildah-cache"
    (cache / "pytest-rustimage-target-ws--wsctl" / "release").mkdir(parents=True)
    (cache / "pytest-rustimage-target-ws--wsctl" / "release" / "wsctl").write_bytes(b"x" * 1000)
    (cache / "someone-elses-cache").mkdir()
    folders = buildah_cache_folders(uid=0, tmpdir=str(tmp_path))
    assert folders == [cache]
    assert buildah_cache_folders(uid=1000, tmpdir=str(tmp_path)) == []  # rootless: buildah-cache-1000
    mounts = buildah_mounts(folders)
    assert [(m.name, m.size) for m in mounts] == [("pytest-rustimage-target-ws--wsctl", 1000)]


def test_a_crates_mounts_are_told_apart_from_a_longer_names() -> None:
    assert is_crate_mount(cache_mount_id("ws", "wsctl", BUILDER_ID), "ws")
    assert not is_crate_mount(cache_mount_id("ws-two", "wsctl", BUILDER_ID), "ws")
    assert not is_crate_mount(REGISTRY_CACHE_MOUNT, "ws")
