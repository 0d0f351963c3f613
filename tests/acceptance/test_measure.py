"""Measuring images reads as little as it can: an image once per machine, a base layer once per machine."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from pytest_rustimage import names
from pytest_rustimage.engines import ENGINE_NAMES, Engine, make_engine
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.session.image import BuildRecord, RustImage
from pytest_rustimage.session.measure import measure, read_files
from tests.unit.plugin.test_settings import make_crate


class NoExport:
    """A real engine whose image export is off: measuring through it proves no archive is read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        raise AssertionError(f"the archive of {ref} was read")
        yield  # pragma: no cover


@pytest.fixture(params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest, base_images: None) -> Iterator[Engine]:
    made = make_engine(request.param)
    made.ping()
    yield made
    made.close()


def test_an_image_is_read_once_and_a_known_base_layer_is_not_parsed_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    first = measure(engine, names.LOCAL_RUNTIME)
    layers = sorted(p.name for p in (tmp_path / "cache" / "layers").iterdir())
    assert layers == [f"{la.diff_id.removeprefix('sha256:')}.json" for la in first.layers]
    assert measure(NoExport(engine), names.LOCAL_RUNTIME) == first  # type: ignore[arg-type]

    # an image on that base: only its own layer is read and learned
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "f").write_text(uuid.uuid4().hex)
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {names.LOCAL_RUNTIME}\nCOPY f /f\n")
    tag = f"pytest-rustimage/measure-test:{uuid.uuid4().hex[:12]}"
    cli = engine.name
    subprocess.run([cli, "build", "-q", "-t", tag, str(tmp_path / "ctx")], check=True, capture_output=True)
    try:
        on_base = measure(engine, tag)
        learned = sorted(p.name for p in (tmp_path / "cache" / "layers").iterdir())
        assert len(learned) == len(layers) + 1
        assert on_base.layers[0] == first.layers[0] and on_base.layers[1].size == 32
        assert on_base.size == first.size + 32
    finally:
        subprocess.run([cli, "rmi", "-f", tag], capture_output=True)


class CountedExports:
    """A real engine whose archive exports are counted (and done): a spy, not a stand-in."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.exports: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        self.exports.append(ref)
        with self._engine.open_archive(ref) as stream:
            yield stream


def _image(engine: CountedExports, tmp_path: Path) -> RustImage:
    """The local runtime image as a RustImage whose checked binary is its dynamically linked ``ls``."""
    (spec,) = specs_for(Settings(cli_engine="docker"), make_crate(tmp_path / "crate"))
    spec = dataclasses.replace(spec, binary_path="/bin/ls", runtime_image=names.LOCAL_RUNTIME)
    image_id = str(engine.inspect_raw(names.LOCAL_RUNTIME)["Id"])
    build = BuildRecord(names.LOCAL_RUNTIME, image_id, "docker", spec.strategy, True, 0.0, log="")
    return RustImage(spec, engine, build, {}, probe=lambda *_: None)  # type: ignore[arg-type]


def test_a_fresh_image_is_exported_once_for_its_sizes_and_its_files(
    base_images: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker = make_engine("docker")
    try:
        monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))  # nothing measured before
        spy = CountedExports(docker)
        image = _image(spy, tmp_path)
        info = image.info
        loading = image.binary().loading
        assert loading is not None and loading.loads and image.needs() is not None
        assert spy.exports == [image.id]  # one export: binary() and needs() used the files info read

        # the same answers as the separate reads: the sizes with no layer known, the files alone
        monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache-2"))
        assert measure(docker, image.id) == info
        alone = read_files(docker, image.id)
        assert sorted(alone.paths()) == sorted(image.files.paths())
        assert all(alone.node(p) == image.files.node(p) for p in alone.paths())

        # facts stored: info reads nothing, and the files are read when asked for, once
        again = _image(spy, tmp_path)
        assert again.info == info and spy.exports == [image.id]
        assert again.binary().loading == image.binary().loading and spy.exports == [image.id] * 2

        # sizes alone (no check reads the files): measured as before, the files read when asked for
        monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache-3"))
        alone_sizes = _image(spy, tmp_path)
        alone_sizes.files_with_info = False
        assert alone_sizes.info == info and spy.exports == [image.id] * 3 and "files" not in alone_sizes.__dict__
        assert alone_sizes.binary().loading == image.binary().loading and spy.exports == [image.id] * 4
    finally:
        docker.close()
