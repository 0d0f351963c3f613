"""The dependency list ``cargo auditable`` embeds in a Rust binary, read from its ELF section.

Facts from cargo-auditable's own source (cargo-auditable 0.7.7, auditable-serde 0.9.0):

* The ELF section is ``.dep-v0``, written with no flags (not ``SHF_ALLOC``): it is in the file but
  never loaded. Its bytes are zlib-compressed (a zlib stream, not raw deflate) UTF-8 JSON.
* The JSON is ``{"packages": [...], "format": N}``. ``format`` is absent or 0 for data from
  ``cargo metadata`` (proc-macros recorded as runtime), 1 for the same with proc-macros and their
  dependencies recorded as build dependencies, 8 for data from cargo's unstable SBOM precursor.
* Each package is ``{"name", "version", "source", "kind", "dependencies", "root"}``: ``version`` is
  semver; ``source`` is ``"crates.io"``, ``"git"``, ``"local"`` (a path dependency: cargo gives it no
  source), ``"registry"`` (another registry), or any other word (the part of cargo's source id before
  ``+``, e.g. ``"sparse"``); ``kind`` is ``"runtime"`` or ``"build"`` and absent when runtime;
  ``dependencies`` is a list of indices into ``packages`` and absent when empty; ``root`` is absent
  when false. Unknown fields are ignored (serde's default), as here.
* A valid list has at most one root and no cycle (auditable-serde refuses both); indices must point
  into the list. We refuse the same, and say what is wrong.

Reading is cheap: one section found by name through the section headers, then a bounded
decompression. A binary whose section headers were removed (``sstrip``) has no list to read.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped,unused-ignore]

from pytest_rustimage.errors import RustImageError

SECTION = ".dep-v0"
MAX_JSON_BYTES = 64 * 1024 * 1024  # far above any real list; stops a zlib bomb
DependencyKind = Literal["runtime", "build"]

_SEMVER = re.compile(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


class AuditDataError(RustImageError):
    """The binary has a ``.dep-v0`` section, but its contents are not a valid dependency list."""


@dataclass(frozen=True)
class AuditedPackage:
    """One package of the embedded list; ``dependencies`` are indices into :attr:`AuditData.packages`."""

    name: str
    version: str
    source: str
    kind: DependencyKind
    root: bool
    dependencies: tuple[int, ...]


@dataclass(frozen=True)
class AuditData:
    """The whole embedded list, in the binary's order (indices refer to it)."""

    packages: tuple[AuditedPackage, ...]
    format: int = 0

    @property
    def root_package(self) -> AuditedPackage | None:
        """The package the binary belongs to (the one marked ``root``), or None when none is marked."""
        return next((p for p in self.packages if p.root), None)

    def crates(self) -> tuple[AuditedPackage, ...]:
        """Every package but the root: the dependencies the binary was built from."""
        return tuple(p for p in self.packages if not p.root)


def audit_data_from_bytes(data: bytes) -> AuditData | None:
    """The list embedded in the ELF file ``data``, or None when it has no ``.dep-v0`` section.

    Raises :class:`AuditDataError` when the section is malformed (see :func:`decode_section`).
    """
    return audit_data_from_elf(ELFFile(io.BytesIO(data)))


def audit_data_from_elf(elf: ELFFile) -> AuditData | None:
    """As :func:`audit_data_from_bytes`, from an open pyelftools ``ELFFile``."""
    section = elf.get_section_by_name(SECTION)
    if section is None:
        return None
    return decode_section(bytes(section.data()))


def decode_section(compressed: bytes) -> AuditData:
    """The list from the bytes of a ``.dep-v0`` section; :class:`AuditDataError` saying what is wrong
    when they are not zlib data, not UTF-8 JSON, or not a list of the documented shape."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(compressed, MAX_JSON_BYTES)
    except zlib.error as exc:
        raise AuditDataError(f"{SECTION}: not zlib-compressed data ({len(compressed)} bytes): {exc}") from exc
    if inflater.unconsumed_tail:
        raise AuditDataError(f"{SECTION}: decompresses to more than {MAX_JSON_BYTES} bytes")
    if not inflater.eof:
        raise AuditDataError(f"{SECTION}: the zlib data is truncated ({len(compressed)} bytes)")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditDataError(f"{SECTION}: the decompressed data is not UTF-8 JSON: {exc}") from exc
    return parse_document(document)


def parse_document(document: Any) -> AuditData:
    """The list from decoded JSON; :class:`AuditDataError` when it is not of the documented shape."""
    if not isinstance(document, dict) or not isinstance(document.get("packages"), list):
        raise AuditDataError(f'{SECTION}: the JSON is not an object with a "packages" list')
    form = document.get("format", 0)
    if not isinstance(form, int) or isinstance(form, bool) or form < 0:
        raise AuditDataError(f'{SECTION}: "format" is {form!r}, not a whole number')
    entries: list[Any] = document["packages"]
    packages = tuple(_package(entry, index, len(entries)) for index, entry in enumerate(entries))
    roots = [f"{p.name} {p.version}" for p in packages if p.root]
    if len(roots) > 1:
        raise AuditDataError(f"{SECTION}: more than one root package: {', '.join(roots)}")
    cycle = _cycle(packages)
    if cycle is not None:
        shown = " -> ".join(f"{packages[i].name} {packages[i].version}" for i in cycle)
        raise AuditDataError(f"{SECTION}: the dependencies form a cycle: {shown}")
    return AuditData(packages, form)


def _package(entry: Any, index: int, count: int) -> AuditedPackage:
    where = f"{SECTION}: package {index}"
    if not isinstance(entry, dict):
        raise AuditDataError(f"{where} is not an object")
    fields: Mapping[str, Any] = entry
    for key in ("name", "version", "source"):
        if not isinstance(fields.get(key), str) or not fields[key]:
            raise AuditDataError(f'{where}: "{key}" is missing or not a non-empty string')
    name, version, source = str(fields["name"]), str(fields["version"]), str(fields["source"])
    where = f"{SECTION}: package {index} ({name} {version})"
    if not _SEMVER.fullmatch(version):
        raise AuditDataError(f'{where}: "version" is not a semantic version')
    kind = fields.get("kind", "runtime")
    if kind not in ("runtime", "build"):
        raise AuditDataError(f'{where}: "kind" is {kind!r}, neither "runtime" nor "build"')
    root = fields.get("root", False)
    if not isinstance(root, bool):
        raise AuditDataError(f'{where}: "root" is {root!r}, not true or false')
    dependencies = fields.get("dependencies", [])
    if not isinstance(dependencies, list):
        raise AuditDataError(f'{where}: "dependencies" is not a list')
    for dep in dependencies:
        if not isinstance(dep, int) or isinstance(dep, bool) or not 0 <= dep < count:
            raise AuditDataError(f"{where}: dependency {dep!r} is not an index of the {count} packages")
    return AuditedPackage(name, version, source, kind, root, tuple(dependencies))


def _cycle(packages: tuple[AuditedPackage, ...]) -> list[int] | None:
    """One cycle among the dependency indices (as a path that returns to its start), or None."""
    state = [0] * len(packages)  # 0 unseen, 1 on the current path, 2 done
    for start in range(len(packages)):
        if state[start]:
            continue
        path: list[int] = [start]
        stack = [iter(packages[start].dependencies)]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state[nxt] == 1:
                return [*path[path.index(nxt) :], nxt]
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(packages[nxt].dependencies))
    return None
