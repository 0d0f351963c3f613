"""Fixtures shared by the recipe tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RUST_IMAGE_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path / "cache"
