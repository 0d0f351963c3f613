"""The runtime matrix against an engine: which reference is read, the index kept by image id and read
back warm, a runtime the engine lacks. The engine here is a stand-in that serves real image archives
(real ELF files in real layer tars); the real engines are the acceptance tests' (test_loading.py)."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.names import Runtime, runtime
from pytest_rustimage.session import runtimes
from pytest_rustimage.session.runtimes import matrix, runtime_files
from tests.unit.inspect.test_loader import MULTIARCH, Built, debian_base, image_archive


class Archives:
    """Images by reference, as archives: what the matrix asks of an engine (ids and archives)."""

    name = "stand-in"

    def __init__(self, images: dict[str, bytes]) -> None:
        self.images = images
        self.exports: list[str] = []

    def image_id(self, ref: str) -> str | None:
        return f"sha256:{hashlib.sha256(self.images[ref]).hexdigest()}" if ref in self.images else None

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[io.BytesIO]:
        self.exports.append(ref)
        yield io.BytesIO(self.images[ref])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("elf"))


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """What this process read of runtimes, forgotten: each test starts as a new run would."""
    monkeypatch.setattr(runtimes, "_READ", {})
    monkeypatch.setattr(runtimes, "_IDS", {})


def new_run() -> None:
    runtimes._READ.clear()
    runtimes._IDS.clear()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def engine(built: Built) -> Archives:
    old = [e for e in debian_base() if e[1] != f"{MULTIARCH}/libc.so.6"] + [
        ("file", f"{MULTIARCH}/libc.so.6", built.old_libc)
    ]
    return Archives(
        {
            "pytest-rustimage/runtime:bookworm-slim": image_archive(debian_base()).getvalue(),
            "pytest-rustimage/runtime:bullseye-slim": image_archive(old).getvalue(),
        }
    )


def friendly(*names: str) -> list[Runtime]:
    found = [runtime(name, local=True) for name in names]
    return [r for r in found if r is not None]


def test_the_index_is_read_once_per_image_and_then_from_the_cache(built: Built, cache: Path) -> None:
    stand_in = engine(built)
    elf = inspect_elf(built.hello)
    names = friendly("bookworm-slim", "bullseye-slim")
    cold = matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True)  # type: ignore[arg-type]
    assert [r.cell() for r in cold] == ["bookworm-slim yes", "bullseye-slim no (GLIBC_2.34 > 2.31)"]
    assert len(stand_in.exports) == 2 and len(list((cache / "runtimes").glob("*.json"))) == 2
    assert matrix(stand_in, "/app", elf, names, listed=True)[1].loads is False  # type: ignore[arg-type]
    assert len(stand_in.exports) == 2  # the same run: what it read is kept
    new_run()
    warm = matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True)  # type: ignore[arg-type]
    assert warm == cold and len(stand_in.exports) == 2  # no export: read from the index
    for stored in (cache / "runtimes").glob("*.json"):
        stored.write_text("{not json")  # a damaged index is read again from the image
    new_run()
    assert matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True) == cold  # type: ignore[arg-type]
    assert len(stand_in.exports) == 4


def test_a_runtime_the_engine_lacks_is_shown_only_when_listed(built: Built, cache: Path) -> None:
    stand_in = engine(built)
    elf = inspect_elf(built.hello)
    names = friendly("bookworm-slim", "cc-bookworm")
    (shown,) = matrix(stand_in, "/app", elf, names, listed=False)  # type: ignore[arg-type]
    assert shown.name == "bookworm-slim" and shown.loads is True
    _, lacking = matrix(stand_in, "/app", elf, names, listed=True)  # type: ignore[arg-type]
    assert lacking.loads is None and lacking.cell() == "cc-bookworm cannot tell (not in stand-in)"
    assert "`python -m pytest_rustimage bases`, or pull gcr.io/distroless/cc-debian12" in lacking.problems[0]


def test_without_a_cache_folder_the_image_is_read_each_time(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # a folder others can write to is refused as a cache folder
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(shared))
    stand_in = engine(built)
    ref = "pytest-rustimage/runtime:bookworm-slim"
    for _ in range(2):
        new_run()
        fs = runtime_files(stand_in, ref, stand_in.image_id(ref) or "")  # type: ignore[arg-type]
        assert fs.exists(f"/{MULTIARCH}/libc.so.6")
    assert stand_in.exports == [ref, ref]


def test_kept_loads_are_used_by_runtime_id_and_new_ones_added(built: Built, cache: Path) -> None:
    stand_in = engine(built)
    elf = inspect_elf(built.hello)
    names = friendly("bookworm-slim", "bullseye-slim")
    kept: dict[str, runtimes.RuntimeLoad] = {}
    first = matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True, kept=kept)  # type: ignore[arg-type]
    ids = [stand_in.image_id(r.refs[0]) for r in names]
    assert sorted(kept) == sorted(i for i in ids if i) and len(stand_in.exports) == 2
    new_run()
    for index in (cache / "runtimes").glob("*.json"):
        index.unlink()  # were the kept loads not used, the runtimes would be exported again
    again = matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True, kept=dict(kept))  # type: ignore[arg-type]
    assert again == first and len(stand_in.exports) == 2
    # a runtime rebuilt (another id under the same name) is not answered from a kept load
    stand_in.images["pytest-rustimage/runtime:bookworm-slim"] += b"\0" * 1024
    new_run()
    every = dict(kept)
    matrix(stand_in, "/usr/local/bin/hello", elf, names, listed=True, kept=every)  # type: ignore[arg-type]
    assert len(stand_in.exports) == 3 and len(every) == 3  # the new id read and kept beside the old
