"""The glibc floor, a runtime's index and the verdict on it: real ELF files compiled here (with a stand-in
for bullseye's glibc 2.31), in real image archives, resolved through the index as through the image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rustimage.errors import NotAnElfError
from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.imagefs import ImageFs
from pytest_rustimage.inspect.loader import Loading, resolve_loading
from pytest_rustimage.inspect.runtimes import (
    IndexedFs,
    RuntimeVerdict,
    absent,
    from_data,
    glibc_release,
    index_of,
    runtime_glibc,
    to_data,
    verdict,
    version_floor,
)
from tests.unit.inspect.test_loader import MULTIARCH, Built, debian_base, gcc, image, version_script

BANNER = "GNU C Library (Debian GLIBC 2.31-13+deb11u5) stable release version 2.31.\\n"
OLD = ("GLIBC_2.2.5", "GLIBC_2.3", "GLIBC_2.17", "GLIBC_2.28", "GLIBC_2.30")  # 2.31 adds no version node


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("elf"))


@pytest.fixture(scope="module")
def bullseye_libc(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A libc.so.6 like bullseye's: versions up to GLIBC_2.30, and the banner of release 2.31."""
    tmp = tmp_path_factory.mktemp("libc")
    source = f'const char banner[] = "{BANNER}";\nint old_glibc(void) {{ return banner[0]; }}\n'
    script = version_script(tmp, "libc", *OLD, symbol="old_glibc")
    return gcc(
        tmp,
        "libc.so.6",
        source,
        "-shared",
        "-fPIC",
        "-nostdlib",
        "-Wl,-soname,libc.so.6",
        f"-Wl,--version-script={script}",
    )


def bullseye(built: Built, libc: bytes) -> ImageFs:
    base = [e for e in debian_base() if e[1] != f"{MULTIARCH}/libc.so.6"]
    return image(
        base, [("file", f"{MULTIARCH}/libc.so.6", libc), ("file", f"{MULTIARCH}/libgreet.so.1", built.greet_v1)]
    )


def indexed(fs: ImageFs) -> IndexedFs:
    """``fs``'s index as it is stored (JSON text) and read back."""
    return IndexedFs(json.loads(json.dumps(index_of(fs))))


def loading(fs: ImageFs, data: bytes, path: str = "/usr/local/bin/app") -> Loading:
    return resolve_loading(fs, path, inspect_elf(data))


def test_the_floor_is_the_highest_version_of_each_family_glibcs_first(built: Built) -> None:
    assert version_floor([inspect_elf(built.hello).version_needs]) == ("GLIBC_2.34",)
    assert version_floor([inspect_elf(built.app_v2).version_needs]) == ("GLIBC_2.34", "GREET_2")
    assert version_floor([inspect_elf(built.static).version_needs]) == ()
    needs = {"libgcc_s.so.1": ("GCC_3.0", "GCC_4.2.0", "GCC_3.3"), "libc.so.6": ("GLIBC_2.9", "GLIBC_2.17")}
    more = {"libc.so.6": ("GLIBC_PRIVATE", "GLIBC_2.3.4"), "libm.so.6": ("GLIBC_2.29",)}
    assert version_floor([needs, more]) == ("GLIBC_2.29", "GCC_4.2.0")  # 2.29 > 2.17 > 2.9 > 2.3.4


def test_the_index_resolves_as_the_image_does(built: Built, bullseye_libc: bytes) -> None:
    for fs in (image(debian_base()), bullseye(built, bullseye_libc)):
        for binary in (built.hello, built.app_v2, built.app_outer):
            assert loading(indexed(fs), binary) == loading(fs, binary)
    fs = indexed(bullseye(built, bullseye_libc))
    problems = loading(fs, built.app_v2).problems
    assert {p.kind for p in problems} == {"version"} and len(problems) == 2
    assert {p.versions_needed[-1] for p in problems} == {"GLIBC_2.34", "GREET_2"}


def test_the_runtimes_glibc_is_its_release_not_its_newest_version_node(built: Built, bullseye_libc: bytes) -> None:
    assert glibc_release(bullseye_libc) == "2.31" and glibc_release(built.greet) is None
    fs = bullseye(built, bullseye_libc)
    assert runtime_glibc(fs, "x86_64") == runtime_glibc(indexed(fs), "x86_64") == "2.31"
    host = image(debian_base())  # the host's own libc: its release, whatever it is
    assert runtime_glibc(host, "x86_64") == glibc_release(Path("/lib/x86_64-linux-gnu/libc.so.6").read_bytes())
    assert runtime_glibc(image([("dir", "etc")]), "x86_64") is None


def test_a_runtime_with_an_old_glibc_says_what_is_needed_and_what_it_has(built: Built, bullseye_libc: bytes) -> None:
    fs = indexed(bullseye(built, bullseye_libc))
    found = verdict("bullseye-slim", "pytest-rustimage/runtime:bullseye-slim", loading(fs, built.app_v2), "2.31")
    assert found.loads is False
    assert found.cell() == "bullseye-slim no (GLIBC_2.34 > 2.31, GREET_2 > 1)"
    head, *problems = found.sentence().splitlines()
    assert head == "bullseye-slim (pytest-rustimage/runtime:bullseye-slim) has glibc 2.31: would not load: " + (
        "GLIBC_2.34 > 2.31, GREET_2 > 1"
    )
    assert any("lacks GLIBC_2.34 needed by /usr/local/bin/app" in p and "up to GLIBC_2.30" in p for p in problems)
    good = verdict("bookworm-slim", "debian:bookworm-slim", loading(indexed(image(debian_base())), built.hello), "2.36")
    assert good.loads is True and good.cell() == "bookworm-slim yes" and from_data(to_data(good)) == good
    assert from_data(json.loads(json.dumps(to_data(found)))) == found


def test_a_missing_library_and_a_missing_runtime(built: Built) -> None:
    fs = indexed(image(debian_base()))
    found = verdict("cc-bookworm", "x:cc", loading(fs, built.app_plain), "2.36")
    assert found.loads is False and found.cell() == "cc-bookworm no (libgreet.so.1 missing)"
    gone = absent("bullseye-slim", ("pytest-rustimage/runtime:bullseye-slim", "debian:bullseye-slim"), "docker", "X")
    assert gone.loads is None and gone.cell() == "bullseye-slim cannot tell (not in docker)"
    assert gone.problems == (
        "neither pytest-rustimage/runtime:bullseye-slim nor debian:bullseye-slim is in docker; get it with X",
    )
    assert absent("a:b", ("a:b",), "podman", "Y").problems == ("a:b is not in podman; get it with Y",)
    assert RuntimeVerdict("a", "a", None, "why").sentence() == "a: cannot tell: why"


def test_unusual_files_in_the_index_say_what_the_image_says(built: Built) -> None:
    lib = f"{MULTIARCH}/libgreet.so.1"
    for entries in (
        [("file", lib, b"not a library\n")],
        [("file", lib, b"\x7fELF\x02\x01\x01")],
        [("dir", lib)],
        [("link", lib, "libgreet.so.1.0")],
    ):
        fs = image(debian_base(), entries)
        assert loading(indexed(fs), built.app_plain) == loading(fs, built.app_plain), entries
    with pytest.raises(NotAnElfError):
        indexed(image(debian_base(), [("file", lib, b"not a library\n")])).elf(lib)
    with pytest.raises(ValueError, match="not a runtime index"):
        IndexedFs({"paths": {"/x": ["socket"]}, "unreadable": {}, "releases": {}})
