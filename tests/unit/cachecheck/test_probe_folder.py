"""Where the cache probe copies and builds: the image's kept probe folder, or a fresh one when it is held."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.probe import CacheProbe
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.context import probe_folder, stable_folder
from tests.unit.plugin.test_settings import make_crate


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CacheProbe:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    (tmp_path / "locks").mkdir(mode=0o700)

    def no_engine(name: str) -> None:
        raise AssertionError("no engine is needed to choose a folder")

    return CacheProbe(
        no_engine,  # type: ignore[arg-type]
        workdir=tmp_path / "work",
        session_id="s",
        run_id="r",
        labels={},
        say=lambda message: None,
        progress=lambda: None,
        lock_dir=tmp_path / "locks",
    )


def test_the_probe_folder_is_kept_beside_the_images_context(tmp_path: Path, probe: CacheProbe) -> None:
    (crate := tmp_path / "crate").mkdir()
    (spec,) = specs_for(Settings(), make_crate(crate))
    assert probe_folder(spec).parent == stable_folder(spec).parent
    assert probe_folder(spec).name == stable_folder(spec).name + "-probe"
    with contextlib.ExitStack() as stack:
        folder, kept = probe._folder(spec, stack)
        assert (folder, kept) == (probe_folder(spec), True)
        # while this probe holds it, another probe (another process) gets a fresh folder of its own
        with contextlib.ExitStack() as other:
            fresh, kept = probe._folder(spec, other)
            assert not kept and fresh.parent == tmp_path / "work" and fresh != folder
    with contextlib.ExitStack() as stack:  # let go: kept again
        assert probe._folder(spec, stack) == (probe_folder(spec), True)


def test_what_an_earlier_probe_put_beside_the_copy_is_cleared(tmp_path: Path, probe: CacheProbe) -> None:
    (crate := tmp_path / "crate").mkdir()
    (spec,) = specs_for(Settings(), make_crate(crate))
    folder = probe_folder(spec)
    for rel in (
        "crate/src/main.rs",
        "context/Dockerfile",
        "dockerfile/Dockerfile",
        "dockerfile/Dockerfile.dockerignore",
    ):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("an earlier probe's")
    with contextlib.ExitStack() as stack:
        assert probe._folder(spec, stack) == (folder, True)
    assert sorted(p.name for p in folder.iterdir()) == ["context", "crate"]  # the copy and context stay
