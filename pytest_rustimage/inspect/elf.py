"""Classify how an ELF executable is linked, by reading the file itself.

Why read the ELF and not run ``ldd``: the binaries we check usually end up in
minimal images (``scratch``, distroless) that have no ``ldd``, no shell and
often no dynamic loader at all -- which is exactly what we want to verify.
``ldd`` also works by *running* the program's interpreter, so it needs a
matching libc on the host and is unsafe on untrusted input.  Parsing the
program headers answers the same questions from bytes alone, on any host.

Classification:

* ``PT_INTERP`` present, or any ``DT_NEEDED`` entry -> ``"dynamic"``;
* otherwise ``ET_EXEC`` -> ``"static"``;
* otherwise ``ET_DYN`` -> ``"static-pie"`` (what ``gcc -static-pie`` and
  rustc's ``-C target-feature=+crt-static`` on x86_64-unknown-linux-gnu make).

Program headers (segments) are read rather than section headers, because the
loader only uses the former and ``strip``-like tools may drop the latter.

**Anatomy.** Where a binary's bytes are is read from the section headers
(:func:`section_sizes`): each section's bytes in the file, by name.
:func:`debug_bytes` adds up what ``strip`` would remove: every ``.debug_*``
(and compressed ``.zdebug_*``) section plus the symbol table ``.symtab`` and
its string table ``.strtab``.

**Loading.** What the loader needs to resolve a dynamic object is read too (for
:mod:`pytest_rustimage.inspect.loader`): its ``DT_SONAME``, ``DT_RUNPATH`` and ``DT_RPATH``, the ELF
class, and the symbol versions it needs of each library (``.gnu.version_r``) and those it defines
(``.gnu.version_d``). Versions come from the section headers, which every linker writes; an object
stripped of them has no version facts and is not judged on versions.

**Dependencies.** The list ``cargo auditable`` embeds (section ``.dep-v0``) is read by
:mod:`pytest_rustimage.inspect.audit`; a malformed one is kept as ``audit_error``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

# pyelftools ships inline types (py.typed) since 0.32; older releases have
# none, hence the tolerant ignores.
from elftools.common.exceptions import ELFError  # type: ignore[import-untyped,unused-ignore]
from elftools.elf.dynamic import DynamicSegment  # type: ignore[import-untyped,unused-ignore]
from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped,unused-ignore]
from elftools.elf.gnuversions import (  # type: ignore[import-untyped,unused-ignore]
    GNUVerDefSection,
    GNUVerNeedSection,
)
from elftools.elf.segments import (  # type: ignore[import-untyped,unused-ignore]
    InterpSegment,
    NoteSegment,
)

from pytest_rustimage.errors import NotAnElfError
from pytest_rustimage.inspect.audit import AuditData, AuditDataError, audit_data_from_elf

Linkage = Literal["static", "static-pie", "dynamic"]
Libc = Literal["glibc", "musl", "unknown"]

_ELF_MAGIC = b"\x7fELF"
_VER_FLG_BASE = 0x1  # a version definition that is the file's own name, not a version
_VER_FLG_WEAK = 0x2  # a version need the loader does not insist on
_MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64"}

# glibc's crt1.o carries the NT_GNU_ABI_TAG note (section ``.note.ABI-tag``),
# and static glibc embeds version/tunable strings such as ``GLIBC_PRIVATE``
# and ``GLIBC_TUNABLES``.
_GLIBC_MARKERS = (b"GLIBC_", b"GNU C Library")

# musl has no ABI note and no version strings.  Verified on Debian's
# musl-tools 1.2.3 (``musl-gcc -static``):
# * ``__init_libc`` is musl's startup routine (glibc has no such symbol); its
#   name is in ``.strtab`` of every unstripped musl static binary.
# * "No error information" is musl's strerror() text for errno 0 / unknown
#   errors (glibc says "Success" / "Unknown error N").  It survives ``strip``
#   and is present whenever strerror is linked, which Rust's std always does.
# A stripped C program that never links strerror has no reliable marker left
# and is reported as "unknown".
_MUSL_MARKERS = (b"\x00__init_libc\x00", b"No error information\x00")


@dataclass(frozen=True)
class ElfFacts:
    """What :func:`inspect_elf` found out about one executable."""

    machine: str
    elf_type: str
    linkage: Linkage
    interpreter: str | None
    needed: tuple[str, ...]
    libc: Libc
    stripped: bool
    build_id: str | None
    sections: Mapping[str, int] = field(default_factory=dict)  # section name -> bytes in the file
    elf_class: int = 64
    soname: str | None = None
    runpath: tuple[str, ...] = ()  # DT_RUNPATH, split on ":"
    rpath: tuple[str, ...] = ()  # DT_RPATH, split on ":"
    version_needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # library -> versions it must define
    version_defs: tuple[str, ...] = ()  # versions this object defines (GLIBC_2.34, ...)
    audit: AuditData | None = None  # cargo-auditable's dependency list (section .dep-v0), None when absent
    audit_error: str | None = None  # why the .dep-v0 section present could not be read

    @property
    def debug_size(self) -> int:
        """Bytes of debug info and symbols (see :func:`debug_bytes`)."""
        return debug_bytes(self.sections)


def inspect_elf(data: bytes, *, name: str = "binary") -> ElfFacts:
    """Classify the ELF executable in ``data``; ``name`` is used in errors.

    Raises :class:`NotAnElfError` when ``data`` is not an ELF file, is
    truncated, or is an ELF object that is not an executable (``ET_REL``,
    ``ET_CORE``).
    """
    if not data.startswith(_ELF_MAGIC):
        raise NotAnElfError(f"{name} is not an ELF file: {_describe(data)}")
    try:
        return _inspect(ELFFile(io.BytesIO(data)), data, name)
    except (ELFError, struct.error, ValueError, EOFError) as exc:
        problem = f"malformed or truncated ELF ({len(data)} bytes): {exc}"
        raise NotAnElfError(f"{name} is not an ELF file: {problem}") from exc


def _inspect(elf: ELFFile, data: bytes, name: str) -> ElfFacts:
    e_type = str(elf.header["e_type"])
    if e_type not in ("ET_EXEC", "ET_DYN"):
        problem = f"its ELF type is {e_type}"
        raise NotAnElfError(f"{name} is not an ELF executable: {problem}")
    machine = str(elf.header["e_machine"])

    interpreter: str | None = None
    needed: list[str] = []
    build_id: str | None = None
    abi_tag = False
    dynamic: dict[str, str] = {}
    for segment in elf.iter_segments():
        if isinstance(segment, InterpSegment):
            interpreter = str(segment.get_interp_name())
        elif isinstance(segment, DynamicSegment):
            for tag in segment.iter_tags():
                # pyelftools sets the resolved string as a dynamic attribute named after the tag.
                kind = str(tag.entry.d_tag)
                if kind == "DT_NEEDED":
                    needed.append(str(vars(tag)["needed"]))
                elif kind in ("DT_SONAME", "DT_RUNPATH", "DT_RPATH"):
                    dynamic[kind] = str(vars(tag).get(kind[3:].lower(), ""))
        elif isinstance(segment, NoteSegment):
            for note in segment.iter_notes():
                if note["n_name"] != "GNU":
                    continue
                if note["n_type"] == "NT_GNU_BUILD_ID":
                    build_id = str(note["n_desc"])
                elif note["n_type"] == "NT_GNU_ABI_TAG":
                    abi_tag = True

    linkage: Linkage
    if interpreter is not None or needed:
        linkage = "dynamic"
        libc = _dynamic_libc(interpreter, needed)
    else:
        linkage = "static" if e_type == "ET_EXEC" else "static-pie"
        libc = _static_libc(data, abi_tag)

    audit, audit_error = _audit(elf)
    return ElfFacts(
        machine=_MACHINES.get(machine, machine),
        elf_type=e_type.removeprefix("ET_"),
        linkage=linkage,
        interpreter=interpreter,
        needed=tuple(needed),
        libc=libc,
        stripped=not any(True for _ in elf.iter_sections("SHT_SYMTAB")),
        build_id=build_id,
        sections=section_sizes(elf),
        elf_class=int(elf.elfclass),
        soname=dynamic.get("DT_SONAME"),
        runpath=_path_list(dynamic.get("DT_RUNPATH")),
        rpath=_path_list(dynamic.get("DT_RPATH")),
        version_needs=_version_needs(elf),
        version_defs=_version_defs(elf),
        audit=audit,
        audit_error=audit_error,
    )


def _audit(elf: ELFFile) -> tuple[AuditData | None, str | None]:
    """The embedded dependency list, or why its section is unreadable (kept as a fact, not raised:
    a malformed list is a finding of the ``sbom`` check, not a reason the binary cannot be inspected)."""
    try:
        return audit_data_from_elf(elf), None
    except AuditDataError as exc:
        return None, str(exc)


def _path_list(value: str | None) -> tuple[str, ...]:
    return tuple(part for part in (value or "").split(":") if part)


def _version_needs(elf: ELFFile) -> dict[str, tuple[str, ...]]:
    """Library -> the (non-weak) versions this object needs it to define, from ``.gnu.version_r``."""
    needs: dict[str, tuple[str, ...]] = {}
    for section in elf.iter_sections():
        if isinstance(section, GNUVerNeedSection):
            for verneed, auxiliaries in section.iter_versions():
                names = [str(aux.name) for aux in auxiliaries if not int(aux["vna_flags"]) & _VER_FLG_WEAK]
                needs[str(verneed.name)] = tuple(dict.fromkeys(needs.get(str(verneed.name), ()) + tuple(names)))
    return needs


def _version_defs(elf: ELFFile) -> tuple[str, ...]:
    """The versions this object defines, from ``.gnu.version_d`` (not the base entry: its own name)."""
    defined: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, GNUVerDefSection):
            for verdef, auxiliaries in section.iter_versions():
                if int(verdef["vd_flags"]) & _VER_FLG_BASE:
                    continue
                first = next(iter(auxiliaries), None)
                if first is not None:
                    defined.append(str(first.name))
    return tuple(dict.fromkeys(defined))


def section_sizes(elf: ELFFile) -> dict[str, int]:
    """Each section's bytes in the file, by name, in file order (sections of one name are added up).

    Sections that take no room in the file (``SHT_NOBITS`` such as ``.bss``, and the null section)
    are left out: they are not bytes of the image.
    """
    sizes: dict[str, int] = {}
    for section in elf.iter_sections():
        if section["sh_type"] in ("SHT_NULL", "SHT_NOBITS"):
            continue
        name = str(section.name) or "(unnamed)"
        sizes[name] = sizes.get(name, 0) + int(section["sh_size"])
    return sizes


def is_debug_section(name: str) -> bool:
    """Whether ``strip`` removes a section of this name: debug info (``.debug_*``, ``.zdebug_*``) or symbols."""
    return name.startswith((".debug_", ".zdebug_")) or name in (".symtab", ".strtab")


def debug_bytes(sections: Mapping[str, int]) -> int:
    """The bytes of debug info and symbols among ``sections``: what ``strip`` would save."""
    return sum(size for name, size in sections.items() if is_debug_section(name))


def _dynamic_libc(interpreter: str | None, needed: list[str]) -> Libc:
    # The interpreter is the most telling; musl's libc soname is just
    # "libc.so" on Debian (and "libc.musl-<arch>.so.1" on Alpine).
    names = [interpreter.rsplit("/", 1)[-1]] if interpreter else []
    for lib in names + needed:
        if lib.startswith(("ld-musl-", "libc.musl-")):
            return "musl"
        if lib.startswith(("ld-linux", "ld64.so.")) or lib == "libc.so.6":
            return "glibc"
    return "unknown"


def _static_libc(data: bytes, abi_tag: bool) -> Libc:
    if abi_tag or any(marker in data for marker in _GLIBC_MARKERS):
        return "glibc"
    if any(marker in data for marker in _MUSL_MARKERS):
        return "musl"
    return "unknown"


def _describe(data: bytes) -> str:
    """Say briefly what ``data`` looks like instead of an ELF file."""
    if not data:
        return "it is empty"
    if data.startswith(b"#!"):
        shebang = data.split(b"\n", 1)[0][:80].decode("utf-8", "replace")
        return f"it is a script starting with {shebang!r}"
    if len(data) < len(_ELF_MAGIC) and _ELF_MAGIC.startswith(data):
        return f"truncated ELF header ({len(data)} bytes)"
    return f"it starts with {data[:16]!r}"
