"""Reading cargo-auditable's dependency list (section ``.dep-v0``) from real binaries, and refusing bad ones.

Good lists come from a crate built here with ``cargo auditable``; bad ones are put into a gcc-built
binary with ``objcopy --add-section``, so every case goes through the same ELF reading as a real image.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.audit import (
    SECTION,
    AuditData,
    AuditDataError,
    AuditedPackage,
    audit_data_from_bytes,
    decode_section,
)
from pytest_rustimage.inspect.elf import inspect_elf

if TYPE_CHECKING:
    from tests.unit.conftest import AuditableBuild

HELLO_C = "int main(void) { return 0; }\n"


@pytest.fixture(scope="module")
def plain_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gcc-built executable with no ``.dep-v0`` section."""
    if shutil.which("gcc") is None or shutil.which("objcopy") is None:
        pytest.skip("gcc and objcopy (binutils) are needed to build the test binary")
    folder = tmp_path_factory.mktemp("plain")
    (folder / "hello.c").write_text(HELLO_C)
    subprocess.run(["gcc", "-O", "-o", str(folder / "hello"), str(folder / "hello.c")], check=True)
    return folder / "hello"


def with_section(plain: Path, tmp_path: Path, contents: bytes) -> bytes:
    """The bytes of ``plain`` with a ``.dep-v0`` section holding ``contents`` added, as cargo-auditable does."""
    (tmp_path / "section.bin").write_bytes(contents)
    out = tmp_path / "with-section"
    subprocess.run(
        ["objcopy", "--add-section", f"{SECTION}={tmp_path / 'section.bin'}", str(plain), str(out)], check=True
    )
    return out.read_bytes()


def packed(document: Any) -> bytes:
    return zlib.compress(json.dumps(document).encode(), 7)


def test_a_real_auditable_binary_lists_its_crates_with_their_kinds(probe_build: AuditableBuild) -> None:
    _, binary = probe_build.need()
    audit = audit_data_from_bytes(binary.read_bytes())
    assert audit is not None and audit.format == 1
    by_name = {p.name: p for p in audit.packages}
    assert audit.root_package == by_name["sbom-probe"]
    assert (audit.root_package.version, audit.root_package.source) == ("0.3.1", "local")
    assert by_name["probe-local"].source == "local" and by_name["probe-local"].kind == "runtime"
    assert by_name["itoa"].kind == "runtime"  # a build dependency too: runtime wins
    assert by_name["itoa"].source == "crates.io"
    for build_only in ("version_check", "thiserror-impl", "syn", "quote", "proc-macro2", "unicode-ident"):
        assert by_name[build_only].kind == "build", build_only
    assert by_name["thiserror"].kind == "runtime"
    assert "either" not in by_name  # a dev-dependency is not in the binary's list
    assert "sbom-probe" not in {p.name for p in audit.crates()} and len(audit.crates()) == len(audit.packages) - 1
    impl = audit.packages.index(by_name["thiserror-impl"])
    assert impl in by_name["thiserror"].dependencies


def test_inspect_elf_keeps_the_list(probe_build: AuditableBuild) -> None:
    _, binary = probe_build.need()
    data = binary.read_bytes()
    facts = inspect_elf(data)
    assert facts.audit == audit_data_from_bytes(data) and facts.audit is not None
    assert facts.audit_error is None
    assert facts.sections[SECTION] > 0


def test_a_binary_without_the_section_has_no_list(plain_binary: Path) -> None:
    data = plain_binary.read_bytes()
    assert audit_data_from_bytes(data) is None
    facts = inspect_elf(data)
    assert facts.audit is None and facts.audit_error is None


def test_absent_fields_take_cargo_auditables_defaults(plain_binary: Path, tmp_path: Path) -> None:
    document = {
        "packages": [
            {"name": "app", "version": "1.0.0", "source": "local", "root": True, "dependencies": [1]},
            {"name": "dep", "version": "0.1.0-rc.1+meta", "source": "sparse", "future-field": 1},
        ]
    }
    audit = audit_data_from_bytes(with_section(plain_binary, tmp_path, packed(document)))
    assert audit == AuditData(
        (
            AuditedPackage("app", "1.0.0", "local", "runtime", True, (1,)),
            AuditedPackage("dep", "0.1.0-rc.1+meta", "sparse", "runtime", False, ()),
        ),
        0,
    )


GOOD = {"name": "a", "version": "1.0.0", "source": "crates.io"}
BAD_DOCUMENTS: dict[str, tuple[Any, str]] = {
    "not an object": ([GOOD], 'not an object with a "packages" list'),
    "no packages": ({"format": 1}, 'not an object with a "packages" list'),
    "format not a number": ({"packages": [], "format": "1"}, '"format" is'),
    "package not an object": ({"packages": ["a"]}, "package 0 is not an object"),
    "no name": ({"packages": [{"version": "1.0.0", "source": "local"}]}, '"name" is missing'),
    "version not semver": ({"packages": [{**GOOD, "version": "1.0"}]}, '"version" is not a semantic version'),
    "unknown kind": ({"packages": [{**GOOD, "kind": "dev"}]}, "\"kind\" is 'dev'"),
    "root not a bool": ({"packages": [{**GOOD, "root": 1}]}, '"root" is 1'),
    "dependencies not a list": ({"packages": [{**GOOD, "dependencies": 0}]}, '"dependencies" is not a list'),
    "index out of range": ({"packages": [{**GOOD, "dependencies": [1]}]}, "dependency 1 is not an index of the 1"),
    "negative index": ({"packages": [{**GOOD, "dependencies": [-1]}]}, "dependency -1 is not an index"),
    "bool index": ({"packages": [GOOD, {**GOOD, "dependencies": [True]}]}, "dependency True is not an index"),
    "two roots": ({"packages": [{**GOOD, "root": True}, {**GOOD, "name": "b", "root": True}]}, "more than one root"),
    "cycle": (
        {"packages": [{**GOOD, "dependencies": [1]}, {**GOOD, "name": "b", "dependencies": [0]}]},
        "cycle: a 1.0.0 -> b 1.0.0 -> a 1.0.0",
    ),
    "self dependency": ({"packages": [{**GOOD, "dependencies": [0]}]}, "cycle: a 1.0.0 -> a 1.0.0"),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_list_of_the_wrong_shape_is_refused_with_what_is_wrong(case: str, plain_binary: Path, tmp_path: Path) -> None:
    document, message = BAD_DOCUMENTS[case]
    data = with_section(plain_binary, tmp_path, packed(document))
    with pytest.raises(AuditDataError, match="^" + SECTION) as caught:
        audit_data_from_bytes(data)
    assert message in str(caught.value)
    assert isinstance(caught.value, RustImageError)
    facts = inspect_elf(data)  # the binary is still inspected; the problem is kept as a fact
    assert facts.audit is None and facts.audit_error == str(caught.value)


BAD_BYTES: dict[str, tuple[bytes, str]] = {
    "not zlib": (json.dumps({"packages": []}).encode(), "not zlib-compressed data"),
    "empty section": (b"", "the zlib data is truncated"),
    "truncated zlib": (packed({"packages": [GOOD]})[:-6], "the zlib data is truncated"),
    "not UTF-8": (zlib.compress(b'{"packages": ["\xff"]}'), "not UTF-8 JSON"),
    "not JSON": (zlib.compress(b'{"packages": [}'), "not UTF-8 JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_BYTES))
def test_bytes_that_are_no_compressed_json_are_refused(case: str, plain_binary: Path, tmp_path: Path) -> None:
    contents, message = BAD_BYTES[case]
    data = with_section(plain_binary, tmp_path, contents)
    with pytest.raises(AuditDataError, match=message):
        audit_data_from_bytes(data)
    assert message in (inspect_elf(data).audit_error or "")


def test_a_zlib_bomb_is_stopped() -> None:
    bomb = zlib.compress(b" " * (65 * 1024 * 1024), 9)
    with pytest.raises(AuditDataError, match="decompresses to more than"):
        decode_section(bomb)


def test_a_large_list_below_the_limit_is_read() -> None:
    padding = " " * (1024 * 1024)
    text = '{"packages": []' + padding + "}"
    assert decode_section(zlib.compress(text.encode())) == AuditData((), 0)
