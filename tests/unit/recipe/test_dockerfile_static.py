"""The static strategy's target choice, run in a real shell against recorded `rustc -vV` outputs of an
x86_64 and an aarch64 toolchain (a stand-in `rustc` and `rustup` on PATH), and its Dockerfile."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.recipe import dockerfile
from pytest_rustimage.recipe.context import compiles_c
from pytest_rustimage.recipe.dockerfile import TARGET_FILE, Recipe
from pytest_rustimage.recipe.strategies import render

RUSTC_VV = {
    "x86_64": """rustc 1.95.0 (59807616e 2026-04-14)
binary: rustc
commit-hash: 59807616e1a4ee3bb5ee51b1ee4ad1c6d1d2d2d0
commit-date: 2026-04-14
host: x86_64-unknown-linux-gnu
release: 1.95.0
LLVM version: 20.1.8
""",
    "aarch64": """rustc 1.95.0 (59807616e 2026-04-14)
binary: rustc
commit-hash: 59807616e1a4ee3bb5ee51b1ee4ad1c6d1d2d2d0
commit-date: 2026-04-14
host: aarch64-unknown-linux-gnu
release: 1.95.0
LLVM version: 20.1.8
""",
}


def toolchain(tmp_path: Path, arch: str, installed: tuple[str, ...], rustup: str | None) -> Path:
    """A bin folder with a `rustc` that prints the recorded -vV output and a sysroot with ``installed``
    targets, and a `rustup` that exits with ``rustup`` ("ok" or "fail"; None: no rustup)."""
    sysroot = tmp_path / "sysroot"
    for target in installed:
        (sysroot / "lib" / "rustlib" / target).mkdir(parents=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "vv").write_text(RUSTC_VV[arch])
    scripts = {
        "rustc": f'#!/bin/sh\nif [ "$1" = -vV ]; then cat {tmp_path / "vv"}; else echo {sysroot}; fi\n',
    }
    if rustup is not None:
        scripts["rustup"] = f'#!/bin/sh\necho "$@" >> {tmp_path / "rustup-calls"}\n' + (
            "exit 0\n" if rustup == "ok" else "echo 'error: could not download' >&2; exit 1\n"
        )
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    return bin_dir


def pick(tmp_path: Path, bin_dir: Path) -> tuple[str, str]:
    chosen = tmp_path / "target"
    script = dockerfile._PICK_TARGET.replace(TARGET_FILE, str(chosen))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    subprocess.run(["sh", "-c", script], check=True, env=env, capture_output=True)
    flags = subprocess.run(
        ["sh", "-c", dockerfile._TARGET_ENV.replace(TARGET_FILE, str(chosen)) + 'echo "$RUSTFLAGS"'],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return chosen.read_text().strip(), flags


@pytest.mark.parametrize(
    ("arch", "installed", "rustup", "target"),
    [
        ("x86_64", ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"), None, "x86_64-unknown-linux-musl"),
        ("x86_64", ("x86_64-unknown-linux-gnu",), None, "x86_64-unknown-linux-gnu"),  # this project's machines
        ("x86_64", ("x86_64-unknown-linux-gnu",), "fail", "x86_64-unknown-linux-gnu"),  # rustup, offline
        ("aarch64", ("aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"), None, "aarch64-unknown-linux-musl"),
        ("aarch64", ("aarch64-unknown-linux-gnu",), "ok", "aarch64-unknown-linux-musl"),  # the official images
        ("aarch64", ("aarch64-unknown-linux-gnu",), None, "aarch64-unknown-linux-gnu"),
    ],
)
def test_the_static_target_follows_the_builders_architecture(
    tmp_path: Path, arch: str, installed: tuple[str, ...], rustup: str | None, target: str
) -> None:
    chosen, flags = pick(tmp_path, toolchain(tmp_path, arch, installed, rustup))
    assert chosen == target
    assert flags == ("" if target.endswith("-musl") else "-C target-feature=+crt-static")
    calls = tmp_path / "rustup-calls"
    if rustup is None or f"{arch}-unknown-linux-musl" in installed:
        assert not calls.exists()
    else:
        assert calls.read_text() == f"target add {arch}-unknown-linux-musl\n"


def test_the_static_dockerfile_names_no_architecture() -> None:
    text = render(Recipe("static", "p", "b"))
    assert "x86_64" not in text and "aarch64" not in text
    assert "--target $target" in text
    assert "musl-tools" not in text
    with_c = render(Recipe("static", "p", "b", needs_c=True))
    assert "apt-get install -y --no-install-recommends musl-tools" in with_c
    assert "musl-tools" not in render(Recipe("chef", "p", "b", needs_c=True))  # only a static build needs it


def test_a_lockfile_with_the_cc_crate_compiles_c(tmp_path: Path) -> None:
    lock = tmp_path / "Cargo.lock"
    assert not compiles_c(lock)  # no lockfile
    lock.write_text('[[package]]\nname = "ccache-ish"\nversion = "1.0.0"\n')
    assert not compiles_c(lock)
    lock.write_text('[[package]]\nname = "cc"\nversion = "1.2.0"\n')
    assert compiles_c(lock)
