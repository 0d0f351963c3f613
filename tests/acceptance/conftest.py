"""Acceptance tests: real `pytest --rust-image` sessions on copies of the sample crates.

They build real images on the real Docker engine with the local base images
(made here if missing, idempotent) and vendored dependencies.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.housekeeping import base_images as bases
from pytest_rustimage.names import PLUGIN_LABEL
from tests.acceptance.project import Project, output_words


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


def plugin_leftovers() -> dict[str, list[str]]:
    """Containers of the plugin on either engine, and untagged images its builds left on either engine."""
    label = f"label={PLUGIN_LABEL}"
    return {
        "docker containers": output_words("docker", "ps", "-aq", "--filter", label),
        "podman containers": output_words("podman", "ps", "-aq", "--filter", label),
        "docker <none> images": output_words("docker", "images", "-q", "--filter", "dangling=true", "--filter", label),
        "podman <none> images": output_words("podman", "images", "-q", "--filter", "dangling=true", "--filter", label),
    }


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """Every acceptance test must leave no container (and no untagged image of the plugin) behind, pass or fail."""
    yield
    left = {what: ids for what, ids in plugin_leftovers().items() if ids}
    assert not left, f"left behind: {left}"


# pytester points HOME at its own folder; rustup and cargo must still find the real ones
REAL_HOMES = {
    "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(Path.home() / ".rustup")),
    "CARGO_HOME": os.environ.get("CARGO_HOME", str(Path.home() / ".cargo")),
}


@pytest.fixture(scope="session")
def runtime_indexes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The linkage check's runtime indexes, shared by every test's cache folder: an index is named by
    its image's id, which names the content, so sharing it is exact, and each runtime base is exported
    once per session rather than once per test."""
    return tmp_path_factory.mktemp("runtime-indexes")


@pytest.fixture
def project(
    pytester: pytest.Pytester, base_images: None, runtime_indexes: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    for key, value in REAL_HOMES.items():
        monkeypatch.setenv(key, value)
    # each test's runs keep their cache verdicts in a folder of their own (a test's second run may reuse them)
    cache = pytester.path / ".rust-image-cache"
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(cache))
    own = cache / "runtimes"
    own.mkdir(mode=0o700, parents=True)
    cache.chmod(0o700)
    for index in runtime_indexes.glob("*.json"):
        shutil.copy2(index, own / index.name)
    made = Project(pytester)
    yield made
    made.remove_images()
    for index in own.glob("*.json"):
        if not (runtime_indexes / index.name).exists():
            shutil.copy2(index, runtime_indexes / index.name)
