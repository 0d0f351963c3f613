"""Why two builds of one binary differ: what bytes, which strings, the likely cause and its fix.

A build that is run twice (``--no-cache``, the context at another path) or by two engines should give
the same bytes; when it does not, "an input differs" helps nobody. :func:`compare_binaries` names
what differs: the ELF sections whose bytes differ (how many bytes, or how their size changed), and
the printable strings present in one binary and not the other, paired with their counterpart where
one looks like it and classified as symbol, toolchain, timestamp, build path or other
(:mod:`~pytest_rustimage.inspect.repro_strings` says how).

Strings are read from the sections that hold data, not from code (``SHF_EXECINSTR``): machine code
has chance runs of printable bytes that say nothing. The GNU build id (``.note.gnu.build-id``) is a
hash of the other bytes, so its difference is a consequence, reported apart, never a cause by itself
(unless it is all that differs: a random ``--build-id=uuid``).

:func:`causes` turns that into sentences that quote the evidence and name a fix; :func:`explain` is
the message a check prints. A file that is not ELF is compared byte by byte, its strings still
classified. Pure: bytes in, frozen facts out.
"""

from __future__ import annotations

import io
import re
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from elftools.common.exceptions import ELFError  # type: ignore[import-untyped,unused-ignore]
from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped,unused-ignore]
from elftools.elf.sections import NoteSection  # type: ignore[import-untyped,unused-ignore]

from pytest_rustimage.inspect.repro_files import FileDiff, describe_files
from pytest_rustimage.inspect.repro_strings import (
    KINDS,
    StringDiff,
    StringKind,
    differing_region,
    find_strings,
    spans,
    string_diffs,
)

SHOWN = 5  # differing strings kept per kind (totals are kept apart)
BUILD_ID = ".note.gnu.build-id"
_SHF_EXECINSTR = 0x4
_HASH = re.compile(r"17h[0-9a-f]{16}E")  # the crate hash Rust's legacy mangling ends a path with


@dataclass(frozen=True)
class SectionDiff:
    """One ELF section whose bytes differ: its size on each side (``None``: absent there) and how many
    bytes differ at the same offsets within the length both have."""

    name: str
    size_a: int | None
    size_b: int | None
    differing: int

    @property
    def resized(self) -> bool:
        return self.size_a != self.size_b

    def describe(self) -> str:
        """``.rodata (3 bytes differ)``, ``.text (1000 -> 1200 bytes)``, ``.comment (only in a)``."""
        if self.size_a is None or self.size_b is None:
            return f"{self.name} (only in {'b' if self.size_a is None else 'a'})"
        if self.resized:
            return f"{self.name} ({self.size_a} -> {self.size_b} bytes)"
        return f"{self.name} ({self.differing} {'byte differs' if self.differing == 1 else 'bytes differ'})"


@dataclass(frozen=True)
class BinaryDiff:
    """Two binaries compared (see the module's docstring). ``strings`` holds at most :data:`SHOWN` of
    each kind, in file order; ``string_totals`` counts them all."""

    identical: bool
    size_a: int
    size_b: int
    elf: bool  # both are ELF files (sections are known)
    differing_bytes: int  # at the same offsets, within the length both have
    first_difference: int | None  # the offset of the first differing byte
    sections: tuple[SectionDiff, ...] = ()  # in file order; the build id's section among them
    strings: tuple[StringDiff, ...] = ()
    string_totals: Mapping[StringKind, int] = field(default_factory=dict)
    build_ids: tuple[str, str] | None = None  # both GNU build ids, when they differ

    def strings_of(self, kind: StringKind) -> tuple[StringDiff, ...]:
        return tuple(s for s in self.strings if s.kind == kind)

    @property
    def changed_sections(self) -> tuple[SectionDiff, ...]:
        """The differing sections other than the build id's."""
        return tuple(s for s in self.sections if s.name != BUILD_ID)


@dataclass(frozen=True)
class Cause:
    """A likely cause of a difference: what (``kind``), the evidence as a sentence, and the fix."""

    kind: str  # a StringKind, or "codegen", "layout", "build id", "bytes"
    evidence: str
    fix: str


def compare_binaries(a: bytes, b: bytes, *, build_roots: Iterable[str] = (), now: float | None = None) -> BinaryDiff:
    """Compare two binaries; ``build_roots``: folders the builds ran in (a string containing one is a
    build path); ``now``: the time (seconds) near which a 10-digit number is an epoch (default: now)."""
    differing, first = _byte_difference(a, b)
    if a == b:
        return BinaryDiff(True, len(a), len(b), _is_elf(a), 0, None)
    roots = tuple(root.rstrip("/") for root in build_roots if root.strip("/"))
    clock = time.time() if now is None else now
    sections_a, sections_b = _sections(a), _sections(b)
    elf = sections_a is not None and sections_b is not None
    if sections_a is None or sections_b is None:
        sections_a, sections_b = {"": (a, True)}, {"": (b, True)}
    found = string_diffs(find_strings(sections_a), find_strings(sections_b), roots, clock)
    totals = {kind: sum(1 for s in found if s.kind == kind) for kind in KINDS}
    kept = tuple(s for kind in KINDS for s in [d for d in found if d.kind == kind][:SHOWN])
    return BinaryDiff(
        identical=False,
        size_a=len(a),
        size_b=len(b),
        elf=elf,
        differing_bytes=differing,
        first_difference=first,
        sections=_section_diffs(sections_a, sections_b) if elf else (),
        strings=tuple(sorted(kept, key=found.index)),
        string_totals={kind: n for kind, n in totals.items() if n},
        build_ids=_build_ids(a, b) if elf else None,
    )


def _is_elf(data: bytes) -> bool:
    return data.startswith(b"\x7fELF")


def _byte_difference(a: bytes, b: bytes) -> tuple[int, int | None]:
    """How many bytes differ at the same offsets (within the common length), and the first offset
    that differs (a length difference counts at the shorter one's end)."""
    common = min(len(a), len(b))
    if common == 0 or a[:common] == b[:common]:
        return 0, (common if len(a) != len(b) else None)
    xor = (int.from_bytes(a[:common], "big") ^ int.from_bytes(b[:common], "big")).to_bytes(common, "big")
    return common - xor.count(0), common - len(xor.lstrip(b"\x00"))


def _sections(data: bytes) -> dict[str, tuple[bytes, bool]] | None:
    """Each section's bytes by name (sections of one name joined), and whether strings are read from
    it (not code, not the build id); ``None`` when ``data`` is not a readable ELF file."""
    if not _is_elf(data):
        return None
    found: dict[str, tuple[bytes, bool]] = {}
    try:
        for section in ELFFile(io.BytesIO(data)).iter_sections():
            if section["sh_type"] in ("SHT_NULL", "SHT_NOBITS"):
                continue
            name = str(section.name) or "(unnamed)"
            text = not int(section["sh_flags"]) & _SHF_EXECINSTR and name != BUILD_ID
            before = found.get(name, (b"", text))[0]
            found[name] = (before + bytes(section.data()), text)
    except (ELFError, struct.error, ValueError, EOFError):
        return None
    return found


def _section_diffs(a: Mapping[str, tuple[bytes, bool]], b: Mapping[str, tuple[bytes, bool]]) -> tuple[SectionDiff, ...]:
    diffs = []
    for name in [*a, *(n for n in b if n not in a)]:
        data_a, data_b = a.get(name, (None, False))[0], b.get(name, (None, False))[0]
        if data_a == data_b:
            continue
        differing = _byte_difference(data_a, data_b)[0] if data_a is not None and data_b is not None else 0
        size_a, size_b = (None if d is None else len(d) for d in (data_a, data_b))
        diffs.append(SectionDiff(name, size_a, size_b, differing))
    return tuple(diffs)


def _build_ids(a: bytes, b: bytes) -> tuple[str, str] | None:
    ids = (_build_id(a), _build_id(b))
    return (ids[0] or "none", ids[1] or "none") if ids[0] != ids[1] else None


def _build_id(data: bytes) -> str | None:
    try:
        section = ELFFile(io.BytesIO(data)).get_section_by_name(BUILD_ID)
        notes = list(section.iter_notes()) if isinstance(section, NoteSection) else []
    except (ELFError, struct.error, ValueError, EOFError):
        return None
    return next((str(n["n_desc"]) for n in notes if n["n_type"] == "NT_GNU_BUILD_ID"), None)


# ---- causes -------------------------------------------------------------------------------------

_FIXES: dict[StringKind, str] = {
    "toolchain": "pin the builder image by digest (FROM rust:<version>@sha256:...) and the toolchain "
    "(rust-toolchain.toml), so both builds use the same compiler",
    "timestamp": "something embeds the build time (a build.rs writing SystemTime::now() or chrono's now() "
    "into OUT_DIR, a crate such as vergen or built, a macro like C's __DATE__/__TIME__): make it use "
    "SOURCE_DATE_EPOCH when set, and set it in the build (ARG SOURCE_DATE_EPOCH / ENV SOURCE_DATE_EPOCH=...)",
    "build path": "the binary records the folder it was built in (file!(), panic locations, debug info, "
    "a build script's OUT_DIR): add --remap-path-prefix=<that folder>=/build to RUSTFLAGS, or build at one "
    "fixed path (WORKDIR /build in the builder stage, CARGO_HOME fixed too)",
    "other": "an input the binary embeds differs as these strings show: find where they come from "
    "(env!/option_env!, include_str!, a build script reading the environment or the network) and pin it",
}
_WHAT: dict[StringKind, str] = {
    "toolchain": "the compilers differ",
    "timestamp": "the build time is embedded",
    "build path": "the build folder is embedded",
    "other": "embedded text differs",
}
_CODEGEN = "codegen differs: compare toolchain/flags/features (e.g. different rustc, codegen-units, or target-cpu)"


def causes(diff: BinaryDiff) -> list[Cause]:
    """The likely causes of ``diff``, each quoting its evidence, the most telling first."""
    if diff.identical:
        return []
    found: list[Cause] = []
    for kind in KINDS[1:]:
        shown = diff.strings_of(kind)
        if not shown:
            continue
        total = diff.string_totals.get(kind, len(shown))
        more = f" (and {total - len(shown)} more)" if total > len(shown) else ""
        where = sorted({s.section for s in shown if s.section})
        place = f" in {', '.join(where)}" if where else ""
        quoted = "; ".join(s.describe() for s in shown[:3]) + more
        fix = _FIXES[kind]
        if kind == "build path":
            fix = _path_fix(shown) or fix
            if any(name.startswith((".debug", ".zdebug")) for name in where):
                fix += (
                    '; it is in debug info, which strip = "debuginfo" (or debug = false) in the Cargo profile removes'
                )
        found.append(Cause(kind, f"{_WHAT[kind]}: {quoted}{place}", fix))
    changed = diff.changed_sections
    resized = [s for s in changed if s.resized]
    if found and resized:
        names = ", ".join(s.describe() for s in resized[:6])
        found.append(
            Cause(
                "layout",
                f"sections changed size: {names}",
                "likely a consequence of the strings above (a longer string moves what follows); "
                "if it stays once they are fixed: " + _CODEGEN,
            )
        )
    elif not found and (changed or diff.strings_of("symbol")):
        found.append(_codegen(diff))
    elif not found and diff.elf and diff.build_ids is not None:
        found.append(
            Cause(
                "build id",
                f"only the GNU build id differs ({diff.build_ids[0]} vs {diff.build_ids[1]})",
                "the linker writes a random id (--build-id=uuid): link with -C link-arg=-Wl,--build-id=sha1",
            )
        )
    elif not found:
        first = f", the first at offset {diff.first_difference}" if diff.first_difference is not None else ""
        what = " of the ELF headers or padding outside sections" if diff.elf else ""
        sizes = f" (sizes {diff.size_a} and {diff.size_b})" if diff.size_a != diff.size_b else ""
        count = "1 byte{} differs" if diff.differing_bytes == 1 else f"{diff.differing_bytes} bytes{{}} differ"
        found.append(Cause("bytes", count.format(what) + first + sizes, _CODEGEN))
    return found


def _codegen(diff: BinaryDiff) -> Cause:
    """Code differs with no embedded text to explain it: the sections, and the symbols as evidence;
    symbols that differ only in their crate hash point at crate metadata."""
    evidence = "no embedded text differs"
    if diff.changed_sections:
        evidence += ", but sections do: " + ", ".join(s.describe() for s in diff.changed_sections[:6])
    symbols = diff.strings_of("symbol")
    rehashed = [s for s in symbols if s.a and s.b and _HASH.sub("", s.a) == _HASH.sub("", s.b)]
    emitted = [s for s in symbols if s not in rehashed]
    fix = _CODEGEN
    if emitted:
        evidence += "; functions in one build only: " + "; ".join(s.describe(60) for s in emitted[:3])
    if rehashed:
        evidence += "; crate hashes differ: " + rehashed[0].describe(60)
        fix += "; crate hashes come from -C metadata, which cargo derives from the package, its version and "
        fix += "source, the features, the profile and the rustc version: compare Cargo.lock and --features"
    return Cause("codegen", evidence, fix)


def _path_fix(shown: Sequence[StringDiff]) -> str:
    """The build-path fix with the folders to remap when a pair shows them (the differing paths with
    their common tail of components taken off)."""
    folders: list[str] = []
    for pair in shown:
        if pair.a is None or pair.b is None:
            continue
        start, end_a, end_b = differing_region(pair.a, pair.b)
        for text, end in ((pair.a, end_a), (pair.b, end_b)):
            for s, e, kind in spans(text):
                if kind == "build path" and s <= start and e >= end:
                    tail = text[end:e]
                    cut = tail.find("/")
                    folder = text[s : end + cut] if cut >= 0 else text[s:e]
                    if folder not in folders:
                        folders.append(folder)
    if not folders:
        return ""
    remaps = " ".join(f"--remap-path-prefix={folder}=/build" for folder in folders[:2])
    return _FIXES["build path"].replace("--remap-path-prefix=<that folder>=/build", remaps)


# ---- the message ---------------------------------------------------------------------------------


def explain(
    binary_diff: BinaryDiff | None,
    file_diff: FileDiff | None = None,
    labels: tuple[str, str] = ("a", "b"),
) -> str:
    """The message a check prints: what differs, the evidence, the likely cause and its fix.
    ``labels`` name the two builds (``"first build"``, ``"podman"``); ``a``/``b`` in the evidence
    are replaced by them."""
    lines: list[str] = []
    if binary_diff is not None:
        lines += _binary_lines(binary_diff, labels)
    if file_diff is not None:
        lines += describe_files(file_diff, labels)
    return "\n".join(lines)


def _binary_lines(diff: BinaryDiff, labels: tuple[str, str]) -> list[str]:
    left, right = labels
    if diff.identical:
        return [f"The binaries are identical ({diff.size_a} bytes)."]
    sizes = f"{diff.size_a} bytes" if diff.size_a == diff.size_b else f"{diff.size_a} vs {diff.size_b} bytes"
    lines = [
        f"The binaries differ ({left} vs {right}): {diff.differing_bytes} bytes differ ({sizes}).",
    ]
    if diff.sections:
        shown = ", ".join(name_sides(s.describe(), labels) for s in diff.sections[:8])
        more = f" and {len(diff.sections) - 8} more" if len(diff.sections) > 8 else ""
        lines.append(f"  sections that differ: {shown}{more}")
    elif not diff.elf:
        lines.append("  not both ELF files: compared byte by byte")
    if diff.build_ids is not None:
        lines.append(
            f"  GNU build id: {diff.build_ids[0]} vs {diff.build_ids[1]} "
            "(a hash of the other bytes: a consequence, not a cause)"
        )
    if diff.strings:
        total = sum(diff.string_totals.values())
        lines.append(f"  strings in one binary only ({total}):")
        lines += [f"    {s.kind}: {name_sides(s.describe(), labels)}" for s in diff.strings]
    for cause in causes(diff):
        lines.append(f"Likely cause ({cause.kind}): {name_sides(cause.evidence, labels)}")
        lines.append(f"  fix: {cause.fix}")
    return lines


def name_sides(text: str, labels: tuple[str, str]) -> str:
    """``text`` (evidence, a description) with the sides ``a`` and ``b`` called by ``labels``."""
    return text.replace("(only in a)", f"(only in {labels[0]})").replace("(only in b)", f"(only in {labels[1]})")
