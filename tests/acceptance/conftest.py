"""Acceptance tests: real `pytest --rust-image` sessions on copies of the sample crates.

They build real images on the real Docker engine with the local base images
(made here if missing, idempotent) and vendored dependencies.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage import bases
from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.engines.base import PLUGIN_LABEL
from tests.acceptance.project import Project


@pytest.fixture(scope="session")
def base_images() -> None:
    engines = [make_engine(name) for name in ENGINE_NAMES]
    try:
        for engine in engines:
            engine.ping()
        bases.ensure_runtime(engines, say=lambda message: None)
        bases.ensure_builder(engines, say=lambda message: None)
    finally:
        for engine in engines:
            engine.close()


def plugin_containers() -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={PLUGIN_LABEL}"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()


@pytest.fixture(autouse=True)
def no_containers_left() -> Iterator[None]:
    """Every acceptance test must leave no container of the plugin behind, pass or fail."""
    yield
    left = plugin_containers()
    assert not left, f"containers left behind: {left}"


# pytester points HOME at its own folder; rustup and cargo must still find the real ones
REAL_HOMES = {
    "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
    "CARGO_HOME": os.environ.get("CARGO_HOME", str(Path.home() / ".cargo")),
}


@pytest.fixture
def project(pytester: pytest.Pytester, base_images: None, monkeypatch: pytest.MonkeyPatch) -> Project:
    for key, value in REAL_HOMES.items():
        monkeypatch.setenv(key, value)
    return Project(pytester)
