"""The glibc floor of a binary and whether it would load on another runtime base: pure parts.

**The floor** (:func:`version_floor`): per family of symbol versions (``GLIBC``, ``GCC``,
``OPENSSL``, ...), the highest version the binary needs (``.gnu.version_r``), glibc's first. It is
the oldest a runtime's libraries may be; ``GLIBC_PRIVATE`` and other names without a number are left
out (no runtime is older or newer for them).

**A runtime's index** (:func:`index_of`, :class:`IndexedFs`): what the loader
(:mod:`pytest_rustimage.inspect.loader`) reads of an image, kept small enough to store as JSON and
read back in milliseconds: every path of the merged tree with its kind (links with their targets),
the bytes of the loader's configuration under ``/etc``, and, in place of each shared library's bytes,
its ELF facts (sections left out) or why it is no ELF file. :class:`IndexedFs` is an
:class:`~pytest_rustimage.inspect.imagefs.ImageFs` over it, so the loader resolves against an index
exactly as against the image.

**A verdict** (:func:`verdict`): a :class:`RuntimeVerdict` per runtime, with a short reason for the
summary (``GLIBC_2.34 > 2.31``) and the full problems for a failure.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pytest_rustimage.errors import NotAnElfError
from pytest_rustimage.inspect.elf import ElfFacts, inspect_elf
from pytest_rustimage.inspect.imagefs import FsProblem, ImageFs, Node
from pytest_rustimage.inspect.loader import Loading, default_folders, family, glibc_version

INDEX_FORMAT = 1
GLIBC = "GLIBC"
_RELEASE = re.compile(rb"GNU C Library[^\n\x00]*?release version (\d+\.\d+)")


def version_floor(needs: Iterable[Mapping[str, Iterable[str]]]) -> tuple[str, ...]:
    """Per family, the highest numbered version any of ``needs`` (library -> versions, as
    :attr:`ElfFacts.version_needs`) asks for: ``("GLIBC_2.34", "GCC_3.0")``, glibc's first, then by name."""
    highest: dict[str, tuple[tuple[int, ...], str]] = {}
    for need in needs:
        for versions in need.values():
            for name in versions:
                number = glibc_version(name)
                if number is None:
                    continue
                kin = family(name)
                if kin not in highest or number > highest[kin][0]:
                    highest[kin] = (number, name)
    order = sorted(highest, key=lambda kin: (kin != GLIBC, kin))
    return tuple(highest[kin][1] for kin in order)


def number_of(version: str) -> str:
    """``GLIBC_2.31`` -> ``2.31``."""
    number = glibc_version(version)
    return ".".join(map(str, number)) if number else version


# the index of a runtime image


def _elf_data(facts: ElfFacts) -> dict[str, Any]:
    data = dataclasses.asdict(facts)
    data.pop("sections")
    return data


def _elf_from(data: Mapping[str, Any]) -> ElfFacts:
    def tuples(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(tuples(v) for v in value)
        if isinstance(value, dict):
            return {k: tuples(v) for k, v in value.items()}
        return value

    return ElfFacts(**{k: tuples(v) for k, v in data.items()})


def index_of(fs: ImageFs) -> dict[str, Any]:
    """What the loader reads of ``fs``, as JSON's types (see the module's text)."""
    paths: dict[str, Any] = {}
    releases: dict[str, str] = {}  # the libc files' glibc release
    for path in fs.paths():
        node = fs.node(path)
        if node is None:
            continue
        if node.kind == "link":
            paths[path] = ["link", node.target]
        elif node.kind != "file" or node.data is None:
            paths[path] = [node.kind]
        elif path.startswith("/etc/"):
            paths[path] = ["text", node.data.decode("latin-1")]
        else:
            release = glibc_release(node.data) if path.rsplit("/", 1)[-1].startswith("libc") else None
            if release:
                releases[path] = release
            try:
                paths[path] = ["elf", _elf_data(inspect_elf(node.data, name=path))]
            except NotAnElfError as exc:
                paths[path] = ["bad", str(exc)]
            except Exception as exc:  # a damaged file pyelftools trips over: what the loader would say
                paths[path] = ["bad", f"{path} cannot be read as an ELF file: {type(exc).__name__}: {exc}"]
    return {"paths": paths, "unreadable": dict(fs.unreadable), "releases": releases}


class IndexedFs(ImageFs):
    """An image's files from its index: the loader's configuration with its bytes, shared libraries
    as their ELF facts (:meth:`elf`); ``ValueError`` for data that is not an index."""

    def __init__(self, index: Mapping[str, Any]) -> None:
        nodes: dict[str, Node] = {}
        self._elves: dict[str, ElfFacts | str | Mapping[str, Any]] = {}  # JSON's facts read when first asked
        self.releases: dict[str, str] = dict(index["releases"])  # a libc's path -> its glibc release
        for path, entry in dict(index["paths"]).items():
            kind = entry[0]
            if kind == "link":
                nodes[path] = Node("link", target=str(entry[1]))
            elif kind == "text":
                nodes[path] = Node("file", data=str(entry[1]).encode("latin-1"))
            elif kind in ("elf", "bad"):
                nodes[path] = Node("file")
                self._elves[path] = dict(entry[1]) if kind == "elf" else str(entry[1])
            elif kind in ("file", "dir", "other"):
                nodes[path] = Node(kind)
            else:
                raise ValueError(f"not a runtime index: {path} is a {kind!r}")
        super().__init__({path.lstrip("/"): node for path, node in nodes.items()}, dict(index["unreadable"]))

    def elf(self, path: str) -> ElfFacts:
        real = self.resolve(path)
        found = self._elves.get(real)
        if found is None:  # a file kept as text (under /etc), or none: read as the image would be
            return super().elf(path)
        if isinstance(found, str):  # said of the real path; the loader names the path it asked for
            raise NotAnElfError(path + found.removeprefix(real) if found.startswith(real) else found)
        if not isinstance(found, ElfFacts):
            found = self._elves[real] = _elf_from(found)
        return found


def glibc_release(data: bytes) -> str | None:
    """The release a ``libc.so.6`` says it is (``2.31``, from "... release version 2.31"), or None."""
    found = _RELEASE.search(data)
    return found.group(1).decode() if found else None


def _release(fs: ImageFs, path: str) -> str | None:
    if isinstance(fs, IndexedFs):
        return fs.releases.get(fs.resolve(path))
    return glibc_release(fs.read(path))


def runtime_glibc(fs: ImageFs, machine: str) -> str | None:
    """The glibc version of a runtime (``2.31``): the release its ``libc.so.6`` (in the loader's default
    folders for ``machine``) says it is, else the highest ``GLIBC_`` version it defines (2.31 defines
    none newer than ``GLIBC_2.30``); None when it has no glibc."""
    for folder in default_folders(machine):
        try:
            facts = fs.elf(f"{folder}/libc.so.6")
            release = _release(fs, f"{folder}/libc.so.6")
        except (FsProblem, NotAnElfError):
            continue
        if release:
            return release
        defined = [v for v in facts.version_defs if family(v) == GLIBC and glibc_version(v)]
        if defined:
            return number_of(max(defined, key=lambda v: glibc_version(v) or ()))
    return None


# verdicts


@dataclass(frozen=True)
class RuntimeVerdict:
    """Whether the binary would load on one runtime: ``loads`` True, False, or None (cannot tell: the
    runtime is not in the engine, or a layer of it could not be read). ``reason``: short, for the
    summary (``GLIBC_2.34 > 2.31``); ``problems``: the loader's sentences; ``glibc``: the runtime's."""

    name: str
    ref: str
    loads: bool | None
    reason: str = ""
    problems: tuple[str, ...] = ()
    glibc: str | None = None

    def cell(self) -> str:
        """``bullseye-slim no (GLIBC_2.34 > 2.31)``, as the summary shows it."""
        word = {True: "yes", False: "no", None: "cannot tell"}[self.loads]
        return f"{self.name} {word}" + (f" ({self.reason})" if self.reason else "")

    def sentence(self) -> str:
        """The verdict in full: the runtime, its glibc, the short reason and the loader's problems."""
        where = self.name if self.ref == self.name else f"{self.name} ({self.ref})"
        has = f" has glibc {self.glibc}" if self.glibc else ""
        word = "cannot tell" if self.loads is None else "loads" if self.loads else "would not load"
        head = f"{where}{has}: {word}" + (f": {self.reason}" if self.reason else "")
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


def _short(loading: Loading, glibc: str | None) -> str:
    reasons: list[str] = []
    glibc_first = sorted(
        loading.problems, key=lambda p: not (p.versions_needed and family(p.versions_needed[0]) == GLIBC)
    )
    for problem in glibc_first:
        if problem.kind == "version":
            newest = max(problem.versions_needed, key=lambda v: glibc_version(v) or ())
            has = glibc if family(newest) == GLIBC and glibc else None
            if has is None:
                provided = [v for v in problem.versions_provided if family(v) == family(newest) and glibc_version(v)]
                has = number_of(max(provided, key=lambda v: glibc_version(v) or ())) if provided else "none"
            reasons.append(f"{newest} > {has}")
        elif problem.kind == "missing":
            reasons.append(f"{problem.library} missing")
        elif problem.kind == "layer":
            reasons.append(f"a layer could not be read: {problem.detail}")
        else:
            reasons.append(f"{problem.library} cannot load")
    return ", ".join(dict.fromkeys(reasons))


def verdict(name: str, ref: str, loading: Loading, glibc: str | None) -> RuntimeVerdict:
    """The verdict on one runtime from how the loader would load the binary there."""
    texts = tuple(problem.text() for problem in loading.problems)
    loads = None if loading.cannot_tell else loading.loads
    return RuntimeVerdict(name, ref, loads, _short(loading, glibc), texts, glibc)


def absent(name: str, refs: Iterable[str], engine: str, make: str) -> RuntimeVerdict:
    """The verdict on a runtime the engine holds under none of ``refs``: cannot tell, and how to get it."""
    refs = tuple(refs)
    held = f"neither {' nor '.join(refs)} is" if len(refs) > 1 else f"{refs[0]} is not"
    return RuntimeVerdict(name, refs[0], None, f"not in {engine}", (f"{held} in {engine}; get it with {make}",))


def to_data(found: RuntimeVerdict) -> dict[str, Any]:
    return {**dataclasses.asdict(found), "problems": list(found.problems)}


def from_data(data: Mapping[str, Any]) -> RuntimeVerdict:
    return RuntimeVerdict(**{**data, "problems": tuple(data["problems"])})
