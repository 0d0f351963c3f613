"""The user's private folders: where the cache folder is, that it is the user's alone, private files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.folders import FolderError, cache_folder, write_private


def test_the_cache_folder_is_under_rust_image_cache_dir_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    folder = cache_folder("verdicts")
    assert folder == tmp_path / "cache" / "verdicts"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_without_it_the_cache_folder_is_under_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUST_IMAGE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder("layers") == tmp_path / "pytest-rustimage" / "layers"


def test_a_cache_folder_others_can_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(shared))
    with pytest.raises(
        FolderError, match=r"the cache folder .* only you can write to; remove it, or set RUST_IMAGE_CACHE"
    ):
        cache_folder("verdicts")


def test_a_private_file_is_written_for_the_user_alone_and_never_through_a_link(tmp_path: Path) -> None:
    path = tmp_path / "verdict.json"
    write_private(path, "{}")
    assert path.read_text() == "{}" and path.stat().st_mode & 0o777 == 0o600
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "link.json").symlink_to(target)
    write_private(tmp_path / "link.json", "forged")  # the link itself is replaced, never written through
    assert target.read_text() == "keep"
    assert not (tmp_path / "link.json").is_symlink() and (tmp_path / "link.json").read_text() == "forged"
    assert (tmp_path / "link.json").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "link.json", "verdict.json"]  # no part left


def test_a_private_file_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(FolderError, match="cannot write"):
        write_private(tmp_path / "taken", "text")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
