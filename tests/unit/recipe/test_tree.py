"""Folders updated in place: only what differs is copied, what is gone is removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pytest_rustimage.recipe.tree import files_of, sync

OLD = 1_700_000_000  # a time well before any sync: files changed then are not racy


def make(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        os.utime(root / rel, (OLD, OLD))
    for rel, target in (links or {}).items():
        (root / rel).symlink_to(target)
    return root


def test_a_second_sync_copies_nothing_and_keeps_the_files_as_they_were(tmp_path: Path) -> None:
    src = make(tmp_path / "src", {"a": "1", "d/b": "2", "d/e/c": "3"}, {"l": "a"})
    dest = tmp_path / "dest"
    assert sync(files_of(src), dest) == 4
    assert (tmp_path / ".dest.synced").is_file()  # when it was: beside the folder, not in it
    before = {rel: (dest / rel).lstat().st_ino for rel, _ in files_of(dest)}
    assert sync(files_of(src), dest) == 0
    assert {rel: (dest / rel).lstat().st_ino for rel, _ in files_of(dest)} == before
    assert os.readlink(dest / "l") == "a" and (dest / "d/e/c").read_text() == "3"


def test_changed_files_are_copied_and_gone_ones_removed_but_kept_names_stay(tmp_path: Path) -> None:
    src = make(tmp_path / "src", {"a": "1", "d/b": "2", "x/y": "3"})
    dest = tmp_path / "dest"
    sync(files_of(src), dest)
    make(dest, {"vendor/v": "kept"})
    (src / "a").write_text("changed, and longer")
    (src / "x/y").unlink()
    (src / "x").rmdir()
    make(src, {"new": "4"}, {"d/b2": "b"})
    assert sync(files_of(src), dest, keep={"vendor"}) == 3
    assert sorted(rel for rel, _ in files_of(dest)) == ["a", "d/b", "d/b2", "new", "vendor/v"]
    assert (dest / "a").read_text() == "changed, and longer" and not (dest / "x").exists()


def test_a_file_that_became_a_folder_and_a_link_that_changed_target(tmp_path: Path) -> None:
    src = make(tmp_path / "src", {"p": "file"}, {"l": "one"})
    dest = tmp_path / "dest"
    sync(files_of(src), dest)
    (src / "p").unlink()
    (src / "l").unlink()
    make(src, {"p/inner": "now a folder"}, {"l": "two"})
    sync(files_of(src), dest)
    assert (dest / "p/inner").read_text() == "now a folder" and os.readlink(dest / "l") == "two"


def test_a_change_that_looks_the_same_right_after_a_sync_is_copied(tmp_path: Path) -> None:
    """git's racy rule: same size and time, yet changed in the tick of the last sync."""
    src = make(tmp_path / "src", {"a": "one"})
    dest = tmp_path / "dest"
    now = time.time()
    os.utime(src / "a", (now, now))
    sync(files_of(src), dest)
    (src / "a").write_text("two")  # the same size
    os.utime(src / "a", (now, now))  # and the same time, as an edit within one clock tick shows
    assert sync(files_of(src), dest) == 1
    assert (dest / "a").read_text() == "two"


def test_linked_files_are_never_written_through(tmp_path: Path) -> None:
    kept = make(tmp_path / "kept", {"a": "1", "d/b": "2"})
    dest = tmp_path / "dest"
    assert sync(files_of(kept), dest, link=True) == 2
    assert (dest / "d/b").stat().st_ino == (kept / "d/b").stat().st_ino  # a link, not a copy
    other = make(tmp_path / "other", {"a": "1", "d/b": "changed"})
    os.utime(other / "d/b", (OLD + 5, OLD + 5))
    assert sync(files_of(other), dest) == 1
    assert (dest / "d/b").read_text() == "changed" and (kept / "d/b").read_text() == "2"
    assert (dest / "d/b").stat().st_ino != (kept / "d/b").stat().st_ino


def test_linking_falls_back_to_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = make(tmp_path / "src", {"a": "1", "d/b": "2"})
    tried: list[str] = []

    def refused(source: Path, target: Path, **kwargs: object) -> None:
        tried.append(str(source))
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refused)
    assert sync(files_of(src), tmp_path / "dest", link=True) == 2
    assert len(tried) == 1  # once refused, not asked again
    copy = tmp_path / "dest/d/b"
    assert copy.read_text() == "2" and copy.stat().st_ino != (src / "d/b").stat().st_ino


def test_a_copy_whose_folder_was_a_link_is_made_real_and_never_written_through(tmp_path: Path) -> None:
    """An earlier copy kept a link where the source now has a folder (the source's folder was a link
    into the crate then): the files go into a real folder, and nothing is removed through the link."""
    crate, dest = tmp_path / "crate", tmp_path / "dest"
    (crate / "common").mkdir(parents=True)
    (crate / "common" / "Cargo.toml").write_text("[package]\n")
    (crate / "common" / "lib.rs").write_text("pub fn f() {}\n")
    dest.mkdir()
    os.symlink(crate / "common", dest / "common")  # through it, dest's files are the crate's own
    sync(files_of(crate), dest)
    assert not (dest / "common").is_symlink() and (dest / "common").is_dir()
    assert (dest / "common" / "Cargo.toml").read_text() == "[package]\n"
    assert (crate / "common" / "Cargo.toml").read_text() == "[package]\n"  # the crate's files untouched
    assert (crate / "common" / "lib.rs").read_text() == "pub fn f() {}\n"
