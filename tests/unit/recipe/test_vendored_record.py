"""A kept context's vendor/ is left alone when its record names the cache entry it was made from, and
a fresh folder gets hard links to the entry: real folders, a stand-in for `cargo vendor` that writes files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.recipe import vendored
from pytest_rustimage.recipe.context import copy_tree
from pytest_rustimage.recipe.vendored import entry_identity, vendor_cached

SAMPLES = Path(__file__).resolve().parents[3] / "sample_crates"


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders :func:`vendored.sync` was asked to fill, in order (it still runs)."""
    calls: list[Path] = []
    real = vendored.sync

    def counted(entries: Any, dest: Path, **kwargs: Any) -> int:
        calls.append(dest)
        return real(entries, dest, **kwargs)

    monkeypatch.setattr(vendored, "sync", counted)
    return calls


def fake_vendor(app: Path, vendor_dir: Path, **kwargs: Any) -> str:
    """Sources that depend on the manifest, as `cargo vendor` writes them (it leaves a lockfile that
    matches the manifests as it is)."""
    text = (app / "Cargo.toml").read_text()
    for name in ("itoa-1.0.0", "ryu-1.0.0"):
        (vendor_dir / name / "src").mkdir(parents=True)
        (vendor_dir / name / "Cargo.toml").write_text(f"[package]\nname = '{name}'\n# {len(text)}\n")
        (vendor_dir / name / "src" / "lib.rs").write_text(f"// {len(text)}\n")
    return ""


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def context(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLES / "hello", folder / "app", ignore=shutil.ignore_patterns("target"))
    return folder


def entry_of(cache: Path) -> Path:
    (entry,) = [p for p in (cache / "vendor").iterdir() if (p / "complete").is_file()]
    return entry


def test_a_kept_context_whose_record_names_the_entry_is_not_synced_again(
    cache: Path, tmp_path: Path, syncs: list[Path]
) -> None:
    ctx = context(tmp_path, "kept")
    assert vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor) is False
    entry = entry_of(cache)
    assert (ctx / ".vendor.entry").read_text() == entry_identity(entry)
    made = files(ctx / "vendor")
    os.utime(ctx / "app" / "Cargo.lock", (1_700_000_000, 1_700_000_000))  # as the crate's copy has it
    assert vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor) is True
    assert syncs == [ctx / "vendor"]  # the second call left vendor/ alone
    assert files(ctx / "vendor") == made == files(entry / "vendor")  # the kept answer is the computed one
    # the entry's lockfile still comes (copy2: its time too)
    assert (ctx / "app" / "Cargo.lock").stat().st_mtime_ns == (entry / "Cargo.lock").stat().st_mtime_ns


def test_other_manifests_or_a_remade_entry_sync_again(cache: Path, tmp_path: Path, syncs: list[Path]) -> None:
    ctx = context(tmp_path, "kept")
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    manifest = ctx / "app" / "Cargo.toml"
    manifest.write_text(manifest.read_text() + "\n[features]\nextra = []\n")  # another key
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert len(syncs) == 2
    newest = max((p for p in (cache / "vendor").iterdir()), key=lambda p: (p / "complete").stat().st_mtime_ns)
    assert files(ctx / "vendor") == files(newest / "vendor") != {}
    assert (ctx / ".vendor.entry").read_text() == entry_identity(newest)
    # the same key made again (the cache's vendor/ deleted): another entry, maybe another resolution
    shutil.rmtree(cache / "vendor")
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert len(syncs) == 3 and (ctx / ".vendor.entry").read_text() == entry_identity(entry_of(cache))


@pytest.mark.parametrize("record", ["garbage", "binary", "folder", "link", "old format"])
def test_a_corrupt_or_foreign_record_is_not_trusted_and_is_rewritten(
    cache: Path, tmp_path: Path, syncs: list[Path], record: str
) -> None:
    ctx = context(tmp_path, "kept")
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    entry = entry_of(cache)
    path = ctx / ".vendor.entry"
    good = path.read_text()
    path.unlink()
    if record == "garbage":
        path.write_text("not a record\n")
    elif record == "binary":
        path.write_bytes(b"\xff\xfe" + good.encode())
    elif record == "folder":
        path.mkdir()
        (path / "x").write_text(good)
    elif record == "link":  # a link to a file holding the right text is still no record of ours
        (tmp_path / "elsewhere").write_text(good)
        path.symlink_to(tmp_path / "elsewhere")
    else:
        path.write_text(good.replace("1\n", "0\n", 1))
    (ctx / "vendor" / "ryu-1.0.0" / "src" / "lib.rs").unlink()  # what a sync would bring back
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert len(syncs) == 2
    assert files(ctx / "vendor") == files(entry / "vendor")
    assert path.is_file() and not path.is_symlink() and path.read_text() == good


def test_an_interrupted_sync_leaves_no_record(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = context(tmp_path, "kept")
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    before = files(ctx / "vendor")
    manifest = ctx / "app" / "Cargo.toml"
    original = manifest.read_text()
    manifest.write_text(original + "\n[features]\nextra = []\n")  # another entry, whose sync is cut short
    real = vendored.files_of

    def interrupted(root: Path) -> Iterator[tuple[str, Path]]:
        yield next(iter(real(root)))
        raise KeyboardInterrupt

    monkeypatch.setattr(vendored, "files_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert not os.path.lexists(ctx / ".vendor.entry")
    assert files(ctx / "vendor") != before  # half of one, half of the other
    monkeypatch.setattr(vendored, "files_of", real)
    manifest.write_text(original)  # back to the first entry: its old record must not count
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert files(ctx / "vendor") == before


def test_a_missing_vendor_folder_is_made_even_with_a_matching_record(cache: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "kept")
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    shutil.rmtree(ctx / "vendor")  # as prepare() does for a build without vendoring
    vendor_cached(ctx / "app", ctx / "vendor", vendor=fake_vendor)
    assert files(ctx / "vendor") == files(entry_of(cache) / "vendor")


def test_a_fresh_folder_gets_hard_links_and_the_lockfile_a_copy(cache: Path, tmp_path: Path) -> None:
    first, fresh = context(tmp_path, "first"), context(tmp_path, "fresh")
    vendor_cached(first / "app", first / "vendor", vendor=fake_vendor)
    assert vendor_cached(fresh / "app", fresh / "vendor", vendor=fake_vendor) is True
    entry = entry_of(cache)
    for rel in files(entry / "vendor"):
        assert (fresh / "vendor" / rel).stat().st_ino == (entry / "vendor" / rel).stat().st_ino
    assert (fresh / "app" / "Cargo.lock").stat().st_ino != (entry / "Cargo.lock").stat().st_ino
    shutil.rmtree(fresh)  # the probe's context goes; the entry stays whole
    assert files(entry / "vendor") == files(first / "vendor") != {}


def test_a_crates_own_vendor_folder_does_not_touch_the_vendored_one(tmp_path: Path) -> None:
    crate = tmp_path / "crate"
    (crate / "vendor" / "mine").mkdir(parents=True)
    (crate / "vendor" / "mine" / "lib.rs").write_text("// the crate's own\n")
    (crate / "Cargo.toml").write_text("[package]\nname = 'x'\n")
    ctx = tmp_path / "ctx"
    (ctx / "vendor" / "itoa").mkdir(parents=True)
    (ctx / "vendor" / "itoa" / "lib.rs").write_text("// vendored\n")
    (ctx / ".vendor.entry").write_text("record\n")
    listed = copy_tree(crate, ctx, keep=("vendor", ".vendor.entry"))
    assert listed == ["Cargo.toml"]
    assert files(ctx) == {".vendor.entry": b"record\n", "Cargo.toml": b"[package]\nname = 'x'\n",
                          "vendor/itoa/lib.rs": b"// vendored\n"}  # fmt: skip
