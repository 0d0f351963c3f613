"""The binary store: kept by image id and path, for the code that wrote it, never trusted when broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rustimage.inspect.needs import BinaryScan, Need
from pytest_rustimage.session import binary_store
from pytest_rustimage.session.binary_store import Needs, StoredBinary
from tests.unit.inspect.test_codec import FACTS

IMAGE = "sha256:" + "1" * 64
STORED = StoredBinary(
    FACTS, BinaryScan(cert_env=True), Needs((Need("user", "its config", ("/etc/passwd",), "/etc/passwd", ""),))
)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _only_file(cache: Path) -> Path:
    (file,) = (cache / "binaries").iterdir()
    return file


def test_what_is_kept_comes_back_equal() -> None:
    binary_store.save(IMAGE, FACTS.path, STORED)
    assert binary_store.load(IMAGE, FACTS.path) == STORED
    assert binary_store.load(IMAGE, FACTS.path) is not STORED


def test_another_image_or_path_finds_nothing() -> None:
    binary_store.save(IMAGE, FACTS.path, STORED)
    assert binary_store.load("sha256:" + "2" * 64, FACTS.path) is None
    assert binary_store.load(IMAGE, "/usr/local/bin/other") is None


def test_a_file_moved_under_another_key_is_not_used(cache: Path) -> None:
    binary_store.save(IMAGE, FACTS.path, STORED)
    other = "sha256:" + "2" * 64
    binary_store.save(other, FACTS.path, STORED)
    files = sorted((cache / "binaries").iterdir())
    data = [f.read_text() for f in files]
    files[0].write_text(data[1])  # each file now holds the other's facts
    files[1].write_text(data[0])
    assert binary_store.load(IMAGE, FACTS.path) is None and binary_store.load(other, FACTS.path) is None


def test_facts_written_by_other_code_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    binary_store.save(IMAGE, FACTS.path, STORED)
    monkeypatch.setattr(binary_store, "code_digest", lambda: "another version")
    assert binary_store.load(IMAGE, FACTS.path) is None


def test_the_code_digest_follows_the_inspect_sources() -> None:
    digest = binary_store.code_digest()
    assert len(digest) == 32 and digest == binary_store.code_digest()
    sources = sorted(p.name for p in binary_store._INSPECT.glob("*.py"))
    assert {"elf.py", "loader.py", "needs.py", "imagefs.py"} <= set(sources)


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "not json",
        lambda text: text.replace('"format": 1', '"format": 99'),
        lambda text: json.dumps({**json.loads(text), "binary": {"facts": {}}}),
        lambda text: json.dumps([json.loads(text)]),
    ],
)
def test_a_broken_file_is_ignored_and_rewritten(cache: Path, damage: object) -> None:
    binary_store.save(IMAGE, FACTS.path, STORED)
    file = _only_file(cache)
    file.write_text(damage(file.read_text()))  # type: ignore[operator]
    assert binary_store.load(IMAGE, FACTS.path) is None
    binary_store.save(IMAGE, FACTS.path, STORED)  # what a run does next: read again, keep again
    assert binary_store.load(IMAGE, FACTS.path) == STORED


def test_no_usable_cache_folder_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(blocker))
    binary_store.save(IMAGE, FACTS.path, STORED)
    assert binary_store.load(IMAGE, FACTS.path) is None
