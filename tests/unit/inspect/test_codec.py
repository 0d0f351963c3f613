"""The codec that keeps frozen facts as JSON: round trips exactly, and refuses data of another shape."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from pytest_rustimage.inspect.audit import AuditData, AuditedPackage
from pytest_rustimage.inspect.codec import CodecError, from_data, to_data
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.loader import Loading, LoadProblem
from pytest_rustimage.inspect.needs import BinaryScan, Need

ELF = ElfFacts(
    machine="x86_64",
    elf_type="DYN",
    linkage="dynamic",
    interpreter="/lib64/ld-linux-x86-64.so.2",
    needed=("libc.so.6", "libgcc_s.so.1"),
    libc="glibc",
    stripped=False,
    build_id=None,
    sections={".text": 1000},
    version_needs={"libc.so.6": ("GLIBC_2.34", "GLIBC_2.2.5")},
)
LOADING = Loading(
    interpreter="/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    resolved={"libc.so.6": "/usr/lib/x86_64-linux-gnu/libc.so.6"},
    problems=(LoadProblem("missing", "libgcc_s.so.1", "/usr/local/bin/app", looked_in=("/lib", "/usr/lib")),),
)
FACTS = BinaryFacts("app", "/usr/local/bin/app", 1234, "ab" * 32, ELF, LOADING)
AUDIT = AuditData(
    (
        AuditedPackage("app", "0.1.0", "local", "runtime", True, (1, 2)),
        AuditedPackage("itoa", "1.0.15", "crates.io", "runtime", False, ()),
        AuditedPackage("version_check", "0.9.5", "crates.io", "build", False, ()),
    ),
    1,
)
AUDITED = replace(ELF, audit=AUDIT)


@pytest.mark.parametrize(
    "value",
    [
        FACTS,
        BinaryFacts("app", "/app", 1, "00", ELF),
        BinaryFacts("app", "/app", 1, "00", AUDITED),  # with cargo-auditable's list
        replace(ELF, audit_error=".dep-v0: not zlib-compressed data"),  # static-like: no loading
        BinaryScan(cert_files=("/etc/ssl/cert.pem",), cert_env=True, tzif_records=3, glibc_version="2.36"),
        Need("user", "the image's config", ("/etc/passwd",), None, "add the user"),
    ],
)
def test_a_fact_comes_back_equal_through_json(value: object) -> None:
    data = json.loads(json.dumps(to_data(value)))
    assert from_data(type(value), data) == value


def test_what_comes_back_has_the_declared_types() -> None:
    back = from_data(BinaryFacts, json.loads(json.dumps(to_data(FACTS))))
    assert isinstance(back.elf.needed, tuple) and isinstance(back.elf.version_needs["libc.so.6"], tuple)
    assert back.loads == FACTS.loads and not back.loads  # the problem is still a problem


def _broken(change: str) -> dict[str, object]:
    data: dict[str, object] = to_data(FACTS)
    elf = dict(data["elf"])  # type: ignore[call-overload]
    if change == "missing field":
        del elf["machine"]
    elif change == "unknown field":
        elf["colour"] = "red"
    elif change == "wrong type":
        elf["needed"] = "libc.so.6"
    elif change == "bool for int":
        elf["elf_class"] = True
    elif change == "int for bool":
        elf["stripped"] = 1
    elif change == "not a literal":
        elf["linkage"] = "half-static"
    elif change == "null for a value":
        elf["machine"] = None
    return {**data, "elf": elf}


@pytest.mark.parametrize(
    "change",
    [
        "missing field",
        "unknown field",
        "wrong type",
        "bool for int",
        "int for bool",
        "not a literal",
        "null for a value",
    ],
)
def test_data_of_another_shape_is_refused(change: str) -> None:
    with pytest.raises(CodecError):
        from_data(BinaryFacts, _broken(change))


def test_data_that_is_no_object_is_refused() -> None:
    for data in ([], "facts", None, 3):
        with pytest.raises(CodecError):
            from_data(BinaryFacts, data)


def test_what_json_cannot_hold_is_not_kept() -> None:
    with pytest.raises(CodecError):
        to_data({1: "a"})
    with pytest.raises(CodecError):
        to_data(object())


def test_the_audit_list_comes_back_with_its_types() -> None:
    back = from_data(ElfFacts, json.loads(json.dumps(to_data(AUDITED))))
    assert back.audit == AUDIT and back.audit is not None
    assert isinstance(back.audit.packages, tuple) and isinstance(back.audit.packages[0].dependencies, tuple)
    assert back.audit.root_package == AUDIT.packages[0]


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "dev"), ("root", 1), ("dependencies", [True]), ("version", None)],
)
def test_an_audit_package_of_another_shape_is_refused(field: str, value: object) -> None:
    data: dict[str, Any] = to_data(AUDITED)
    data["audit"]["packages"][1][field] = value
    with pytest.raises(CodecError):
        from_data(ElfFacts, data)
