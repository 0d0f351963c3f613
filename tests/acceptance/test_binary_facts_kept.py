"""A binary's facts and the image's needs are read once per image id: a second look reads nothing.

A real image (the local runtime base with the host's ``/bin/true`` as the binary: dynamic, so its
loading is resolved against the image's files) on each engine; the second :class:`RustImage` of the
same id goes through an engine whose file reads and exports fail the test.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage import names
from pytest_rustimage.engines import ENGINE_NAMES, Engine, make_engine
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.session import runtimes
from pytest_rustimage.session.image import BuildRecord, RustImage
from tests.acceptance.test_measure import NoExport
from tests.unit.plugin.test_settings import make_crate


class NoReads(NoExport):
    """A real engine that must not read the image: no export (:class:`NoExport`), no file read either."""

    def read_file(self, image: str, path: str, labels: object = None) -> bytes:
        raise AssertionError(f"{path} was read out of {image}")


@pytest.fixture(params=ENGINE_NAMES)
def image(request: pytest.FixtureRequest, base_images: None, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    engine = make_engine(request.param)
    engine.ping()
    context = tmp_path / "ctx"
    context.mkdir()
    shutil.copy2("/bin/true", context / "p")
    (context / "Dockerfile").write_text(f"FROM {names.LOCAL_RUNTIME}\nCOPY p /usr/local/bin/p\nUSER nobody\n")
    tag = f"pytest-rustimage/kept-test:{uuid.uuid4().hex[:12]}"
    subprocess.run([engine.name, "build", "-q", "-t", tag, str(context)], check=True, capture_output=True)
    try:
        yield engine, tag
    finally:
        subprocess.run([engine.name, "rmi", "-f", tag], capture_output=True)
        engine.close()


def _no_runtime_files(*args: object) -> None:
    raise AssertionError("a runtime's files were read")


def _rust_image(engine: Engine, tag: str, crate: Path) -> RustImage:
    (spec,) = specs_for(Settings(), make_crate(crate))
    image_id = engine.image_id(tag)
    assert image_id is not None
    build = BuildRecord(tag, image_id, engine.name, spec.strategy, True, 0.0, log="", origin="earlier run")
    return RustImage(spec, engine, build, {}, probe=lambda *_: None)  # type: ignore[arg-type,return-value]


def test_a_second_look_at_the_same_image_reads_nothing(
    image: tuple[Engine, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, tag = image
    cache = tmp_path / "cache"
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(cache))
    (tmp_path / "crate").mkdir()
    first = _rust_image(engine, tag, tmp_path / "crate")
    facts, needs, matrix = first.binary(), first.needs(), first.runtimes()
    assert {verdict.name for verdict in matrix} >= {"bookworm-slim"}  # the local bases, as the matrix names them
    assert facts.linkage == "dynamic" and facts.loads is True and facts.resolved  # resolved in the image's files
    assert [need.kind for need in needs] == ["user"]  # nobody, whom the image's /etc/passwd has

    again = _rust_image(NoReads(engine), tag, tmp_path / "crate")  # type: ignore[arg-type]
    with monkeypatch.context() as no_runtime_files:
        no_runtime_files.setattr(runtimes, "runtime_files", _no_runtime_files)
        assert again.binary() == facts and again.needs() == needs and again.unreadable_layers() == {}
        assert again.runtimes() == matrix

    for kept in (cache / "binaries").iterdir():  # a damaged file is read around, then rewritten
        kept.write_text("{")
    third = _rust_image(engine, tag, tmp_path / "crate")
    assert third.binary() == facts and third.needs() == needs
    assert _rust_image(NoReads(engine), tag, tmp_path / "crate").needs() == needs  # type: ignore[arg-type]
