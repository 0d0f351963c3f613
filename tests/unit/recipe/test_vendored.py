"""cargo vendor made once per set of manifests: real `cargo vendor` runs, counted."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.recipe.vendored import inputs_digest, vendor, vendor_cached

SAMPLES = Path(__file__).resolve().parents[3] / "sample_crates"


def copy(sample: str, dest: Path) -> Path:
    shutil.copytree(SAMPLES / sample, dest, ignore=shutil.ignore_patterns("target"))
    return dest


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_manifests_are_vendored_once_and_copied_after(cache: Path, tmp_path: Path) -> None:
    calls: list[Path] = []

    def counted(app: Path, vendor_dir: Path, **kwargs: Any) -> str:
        calls.append(app)
        return vendor(app, vendor_dir, **kwargs)

    first, second = copy("workspace", tmp_path / "a"), copy("workspace", tmp_path / "b")
    (second / "crates" / "cli" / "src" / "main.rs").write_text("fn main() {}\n")  # sources are no input
    assert inputs_digest(first, locked=False) == inputs_digest(second, locked=False)
    assert vendor_cached(first, tmp_path / "va", vendor=counted, what="ws") is False
    assert vendor_cached(second, tmp_path / "vb", vendor=counted, what="ws") is True
    assert calls == [first]
    made = files(tmp_path / "va")
    assert any(name.startswith("itoa-") or name.startswith("itoa/") for name in made)
    assert files(tmp_path / "vb") == made
    assert (second / "Cargo.lock").read_bytes() == (first / "Cargo.lock").read_bytes()


def test_vendored_sources_in_the_folder_are_no_input(cache: Path, tmp_path: Path) -> None:
    app = copy("hello", tmp_path / "h")
    before = inputs_digest(app, locked=True)
    (app / "vendor" / "itoa").mkdir(parents=True)
    (app / "vendor" / "itoa" / "Cargo.toml").write_text("[package]\nname = 'itoa'\n")
    (app / "target").mkdir()
    (app / "target" / "Cargo.lock").write_text("")
    assert inputs_digest(app, locked=True) == before


def test_another_lockfile_or_locking_is_another_entry(cache: Path, tmp_path: Path) -> None:
    app = copy("hello", tmp_path / "h")
    before = inputs_digest(app, locked=False)
    assert inputs_digest(app, locked=True) != before
    manifest = app / "Cargo.toml"
    manifest.write_text(manifest.read_text() + "\n[features]\nextra = []\n")
    assert inputs_digest(app, locked=False) != before
    assert vendor_cached(app, tmp_path / "v", vendor=vendor, what="hello") is False
    assert (tmp_path / "v").is_dir() and not any((tmp_path / "v").iterdir())  # no dependencies: empty
    assert len([p for p in (cache / "vendor").iterdir() if p.is_dir()]) == 1


def test_a_failed_vendoring_is_not_kept(cache: Path, tmp_path: Path) -> None:
    app = copy("hello", tmp_path / "h")
    manifest = app / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("[dependencies]\n", '[dependencies]\nno-such-crate-x9 = "1"\n'))

    def failing(app: Path, vendor_dir: Path, **kwargs: Any) -> str:
        raise RuntimeError("cargo said no")

    with pytest.raises(RuntimeError):
        vendor_cached(app, tmp_path / "v", vendor=failing, what="hello")
    assert not list((cache / "vendor").iterdir())  # neither a complete entry nor a partial one is left
