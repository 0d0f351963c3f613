"""Would a dynamically linked binary load in its image? Resolved from the image's files, as ld.so would.

The two most common ways a Rust image breaks at start are a shared library the runtime lacks and a
glibc older than the builder's (``version 'GLIBC_2.34' not found``). Both can be told without running
anything, from the image's merged files (:mod:`pytest_rustimage.inspect.imagefs`). That also works
for ``scratch``, distroless, other architectures, and a server that needs a config file to start.

The search is glibc's (``elf/dl-load.c``), in its order, for each ``DT_NEEDED`` name:

1. unless the object has a ``DT_RUNPATH``: the ``DT_RPATH`` of the object, then of the object that
   loaded it, and so on up the loading chain to the executable (then the executable's, if the chain
   did not pass it), each with its own ``$ORIGIN``. An object that has a ``DT_RUNPATH`` has no
   ``DT_RPATH`` at all for ld.so (``get-dynamic-info.h``), in the chain too; a ``DT_RUNPATH`` higher
   up the chain does not stop it, only the requesting object's own does;
2. ``LD_LIBRARY_PATH`` (from the image's environment; ``$ORIGIN`` there is the executable's folder);
3. the object's own ``DT_RUNPATH`` (not inherited by the libraries it loads);
4. the folders in ``/etc/ld.so.conf`` and what it includes (what ``ldconfig`` puts in
   ``ld.so.cache``, which is not read itself: see docs/linkage.md);
5. the default folders of the architecture.

``$ORIGIN`` is the folder a library was found in (the path the loader opened, not the link's
target; for the executable, its real folder, as ``/proc/self/exe`` gives it). ``$LIB`` and
``$PLATFORM`` are Debian's values for the machine. A candidate of another ELF class or machine is
passed over, as ld.so does. A name with a ``/`` is a path. Each name is loaded
once, so cycles end. Then every symbol version an object needs of a library (``.gnu.version_r``)
must be among the versions that library defines (``.gnu.version_d``). A library that defines no
versions at all only earns a warning from ld.so, and none here.

Unusual files (a dangling link, a loop, a truncated or non-ELF file) are problems with their path,
never exceptions. A layer of the image that could not be read (zstd without a decoder, damaged) makes
the verdict "cannot tell", a problem too: never a pass, nor a "missing" that the layer might refute.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pytest_rustimage.errors import NotAnElfError
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.imagefs import FsProblem, ImageFs

_TRIPLETS = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}
_MAX_INCLUDES = 64  # ld.so.conf files read at most (include loops end)

ProblemKind = Literal["interpreter", "missing", "version", "unreadable", "layer"]


@dataclass(frozen=True)
class LoadProblem:
    """One reason the binary would not load."""

    kind: ProblemKind
    library: str  # the needed name, the interpreter's path, or ("layer") the layer's name in the archive
    needed_by: str  # the path of the object that needs it ("layer": the binary's)
    looked_in: tuple[str, ...] = ()  # folders searched, in order ("missing")
    versions_needed: tuple[str, ...] = ()  # ("version") the ones the library lacks
    versions_provided: tuple[str, ...] = ()
    found_at: str = ""
    detail: str = ""  # what is wrong with a file ("interpreter", "unreadable"), or skipped candidates

    def text(self) -> str:
        """The problem in one sentence."""
        if self.kind == "layer":
            return (
                f"cannot tell whether {self.needed_by} loads: the image's layer {self.library} "
                f"could not be read ({self.detail})"
            )
        if self.kind == "interpreter":
            return f"the interpreter {self.library} (of {self.needed_by}) cannot load: {self.detail}"
        if self.kind == "unreadable":
            return f"{self.library} (needed by {self.needed_by}) cannot load: {self.detail}"
        if self.kind == "version":
            return (
                f"{self.found_at} lacks {', '.join(self.versions_needed)} needed by {self.needed_by}; "
                f"it provides {provided_text(self.versions_provided, self.versions_needed)}"
            )
        skipped = f" ({self.detail})" if self.detail else ""
        return (
            f"{self.library} (needed by {self.needed_by}) is not in the image; "
            f"looked in {', '.join(self.looked_in) or 'no folder'}{skipped}"
        )


@dataclass(frozen=True)
class Loading:
    """What resolving a binary found: its interpreter, every library loaded, and the problems."""

    interpreter: str | None  # the interpreter's path, links followed
    resolved: Mapping[str, str]  # needed name -> the path where it was found (recursively)
    problems: tuple[LoadProblem, ...] = ()

    @property
    def loads(self) -> bool:
        return not self.problems

    @property
    def cannot_tell(self) -> bool:
        """Whether there is no verdict: a layer of the image could not be read (``loads`` is False then)."""
        return any(problem.kind == "layer" for problem in self.problems)


def glibc_version(name: str) -> tuple[int, ...] | None:
    """``GLIBC_2.34`` -> (2, 34); any ``FAMILY_N.N`` name likewise; None for ``GLIBC_PRIVATE``."""
    match = re.fullmatch(r"[A-Za-z_]+?_?(\d+(?:\.\d+)*)", name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def family(name: str) -> str:
    """``GLIBC_2.34`` -> ``GLIBC``: the family of a symbol version."""
    return re.sub(r"_?\d+(?:\.\d+)*$", "", name)


def provided_text(provided: Sequence[str], needed: Sequence[str] = ()) -> str:
    """What a library provides, short: per family of the needed versions, the newest and a count."""
    if not provided:
        return "no versions"
    families = {family(name) for name in needed} or {family(name) for name in provided}
    parts = []
    for kin in sorted(families):
        versions = sorted(
            (v for v in provided if family(v) == kin and glibc_version(v) is not None),
            key=lambda v: glibc_version(v) or (),
        )
        if versions:
            parts.append(f"up to {versions[-1]} ({len(versions)} {kin} versions)")
        else:
            parts.append(f"no {kin} version")
    return "; ".join(parts)


def default_folders(machine: str) -> tuple[str, ...]:
    """The loader's built-in folders on Debian for ``machine``."""
    triplet = _TRIPLETS.get(machine)
    multiarch = (f"/lib/{triplet}", f"/usr/lib/{triplet}") if triplet else ()
    wide = ("/lib64", "/usr/lib64") if machine in ("x86_64", "aarch64") else ()
    return (*multiarch, *wide, "/lib", "/usr/lib")


def conf_folders(fs: ImageFs, conf: str = "/etc/ld.so.conf") -> tuple[str, ...]:
    """The folders ``ld.so.conf`` lists, with its ``include`` globs (relative to ``/etc``) followed."""
    folders: list[str] = []
    seen: set[str] = set()
    pending = [conf]
    while pending and len(seen) < _MAX_INCLUDES:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            text = fs.read(path).decode("utf-8", "replace")
        except FsProblem:
            continue  # a missing or unreadable configuration file: ldconfig passes over it too
        included: list[str] = []
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include") and line[7:8].isspace():
                for pattern in line[8:].split():
                    full = pattern if pattern.startswith("/") else posixpath.join(posixpath.dirname(path), pattern)
                    included += fs.glob(full)
            elif line.startswith("/"):
                folders += [part for part in re.split(r"[\s:,=]+", line) if part.startswith("/")]
        pending = included + pending
    return tuple(dict.fromkeys(folders))


def _expand(entry: str, origin: str, machine: str) -> str:
    triplet = _TRIPLETS.get(machine)
    lib = f"lib/{triplet}" if triplet else "lib"
    for name, value in (("ORIGIN", origin), ("LIB", lib), ("PLATFORM", machine)):
        entry = entry.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return posixpath.normpath(entry) if entry.startswith("/") else entry


@dataclass(frozen=True)
class _Object:
    path: str  # where it was found (what $ORIGIN is taken from)
    elf: ElfFacts
    loader: _Object | None = field(default=None, compare=False, repr=False)  # ld.so's l_loader: who loaded it first

    @property
    def rpath(self) -> tuple[str, ...]:
        """The ``DT_RPATH`` ld.so uses: none when the object also has a ``DT_RUNPATH``."""
        return () if self.elf.runpath else self.elf.rpath

    def chain(self) -> Iterator[_Object]:
        """This object, the object that loaded it, and so on up to the executable."""
        obj: _Object | None = self
        while obj is not None:
            yield obj
            obj = obj.loader


class _Resolver:
    def __init__(self, fs: ImageFs, binary_path: str, binary: ElfFacts, env: Mapping[str, str]) -> None:
        self.fs = fs
        with contextlib.suppress(FsProblem):  # the executable's $ORIGIN is its real folder (/proc/self/exe)
            binary_path = fs.resolve(binary_path)
        self.binary = _Object(binary_path, binary)
        self.machine = binary.machine
        self.env_path = tuple(p for p in env.get("LD_LIBRARY_PATH", "").replace(";", ":").split(":") if p)
        self.conf = conf_folders(fs)
        self.defaults = default_folders(binary.machine)
        self.loaded: dict[str, _Object] = {}  # needed name (and sonames) -> object
        self.resolved: dict[str, str] = {}
        self.problems: list[LoadProblem] = []

    def folders(self, obj: _Object) -> list[str]:
        """Where ld.so looks for a name ``obj`` needs, in order (``_dl_map_object`` in ``elf/dl-load.c``)."""
        found: list[str] = []
        if not obj.elf.runpath:  # the requesting object's own DT_RUNPATH turns every DT_RPATH off
            chain = list(obj.chain())
            if all(c is not self.binary for c in chain):  # the executable's RPATH, when the chain did not pass it
                chain.append(self.binary)
            for carrier in chain:  # each RPATH's $ORIGIN is the folder of the object that carries it
                found += [_expand(e, posixpath.dirname(carrier.path), self.machine) for e in carrier.rpath]
        main = posixpath.dirname(self.binary.path)
        found += [_expand(e, main, self.machine) for e in self.env_path]
        found += [_expand(e, posixpath.dirname(obj.path), self.machine) for e in obj.elf.runpath]
        found += [*self.conf, *self.defaults]
        return list(dict.fromkeys(f for f in found if f.startswith("/")))

    def open(self, path: str) -> ElfFacts | str:
        """The ELF facts of the file at ``path``, or what is wrong with it."""
        try:
            return self.fs.elf(path)
        except (FsProblem, NotAnElfError) as exc:
            return str(exc)
        except Exception as exc:  # a damaged file pyelftools trips over in its own way: still only "cannot load"
            return f"{path} cannot be read as an ELF file: {type(exc).__name__}: {exc}"

    def fits(self, elf: ElfFacts) -> bool:
        return elf.machine == self.machine and elf.elf_class == self.binary.elf.elf_class

    def find(self, name: str, needer: _Object) -> _Object | None:
        if "/" in name:
            opened = self.open(name)
            if isinstance(opened, str):
                self.problems.append(LoadProblem("unreadable", name, needer.path, detail=opened))
                return None
            return _Object(name, opened, needer)
        looked = tuple(self.folders(needer))
        passed: list[str] = []  # candidates ld.so would pass over: dangling links, loops, other machines
        for folder in looked:
            candidate = posixpath.join(folder, name)
            try:
                self.fs.resolve(candidate)
            except FsProblem as exc:
                if exc.reason != "missing":
                    passed.append(str(exc))
                continue
            opened = self.open(candidate)
            if isinstance(opened, str):  # ld.so stops at a file it cannot read as ELF
                self.problems.append(
                    LoadProblem("unreadable", name, needer.path, looked, found_at=candidate, detail=opened)
                )
                return None
            if not self.fits(opened):
                passed.append(f"{candidate} is for {opened.machine} {opened.elf_class}-bit, passed over")
                continue
            return _Object(candidate, opened, needer)
        self.problems.append(LoadProblem("missing", name, needer.path, looked, detail="; ".join(passed)))
        return None

    def run(self) -> Loading:
        interpreter = self.binary.elf.interpreter
        real_interpreter: str | None = None
        if interpreter:
            opened = self.open(interpreter)
            if isinstance(opened, str):
                self.problems.append(LoadProblem("interpreter", interpreter, self.binary.path, detail=opened))
            else:
                real_interpreter = self.fs.resolve(interpreter)
                loaded = _Object(interpreter, opened)
                for alias in (interpreter, interpreter.rsplit("/", 1)[-1], opened.soname or ""):
                    if alias:
                        self.loaded[alias] = loaded
        queue: list[_Object] = [self.binary]
        done: set[str] = set()
        while queue:
            obj = queue.pop(0)
            if obj.path in done:
                continue
            done.add(obj.path)
            for name in obj.elf.needed:
                if name in self.loaded:
                    self.resolved.setdefault(name, self.loaded[name].path)
                    continue
                found = self.find(name, obj)
                if found is None:
                    continue
                self.loaded[name] = found
                if found.elf.soname:
                    self.loaded.setdefault(found.elf.soname, found)
                self.resolved[name] = found.path
                queue.append(found)
        self.check_versions(done)
        return Loading(real_interpreter, dict(self.resolved), tuple(self.problems))

    def check_versions(self, paths: Iterable[str]) -> None:
        objects = {o.path: o for o in [self.binary, *self.loaded.values()]}
        for path in paths:
            obj = objects.get(path)
            if obj is None:
                continue
            for library, versions in obj.elf.version_needs.items():
                provider = self.loaded.get(library)
                if provider is None or not provider.elf.version_defs:
                    continue  # not found (told already), or it defines no versions (ld.so only warns)
                lacking = tuple(v for v in versions if v not in provider.elf.version_defs)
                if lacking:
                    ordered = tuple(sorted(lacking, key=lambda v: (family(v), glibc_version(v) or ())))
                    self.problems.append(
                        LoadProblem(
                            "version",
                            library,
                            obj.path,
                            versions_needed=ordered,
                            versions_provided=provider.elf.version_defs,
                            found_at=provider.path,
                        )
                    )


def resolve_loading(
    fs: ImageFs, binary_path: str, binary: ElfFacts, *, env: Mapping[str, str] | None = None
) -> Loading:
    """How the loader would load ``binary`` (found at ``binary_path`` in the image ``fs``).

    When a layer of the image could not be read (``fs.unreadable``), there is no verdict: any library
    may be in that layer, or deleted by it. The problems are then that layer's ("cannot tell"), which
    fail like any other, and nothing is resolved."""
    if binary.interpreter is None and not binary.needed:
        return Loading(None, {})
    if fs.unreadable:
        layers = (LoadProblem("layer", name, binary_path, detail=why) for name, why in fs.unreadable.items())
        return Loading(None, {}, tuple(layers))
    return _Resolver(fs, binary_path, binary, env or {}).run()


def parse_dpkg_search(output: str) -> dict[str, str]:
    """``dpkg -S`` output -> file name to package (architecture qualifier dropped; the first of several)."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith(("diversion by", "dpkg-query:", "dpkg:")) or ": " not in line:
            continue
        packages, _, path = line.partition(": ")
        package = packages.split(",")[0].strip().split(":")[0]
        name = path.strip().rsplit("/", 1)[-1]
        if package and name:
            found.setdefault(name, package)
    return found


def fixes_for(
    problems: Sequence[LoadProblem], *, packages: Mapping[str, str] | None = None, runtime: str = ""
) -> list[str]:
    """What to do about ``problems``: a package to install per missing library (when ``packages`` knows
    it), and the two ways out of a too-old glibc."""
    packages = packages or {}
    fixes: list[str] = []
    stage = f"the runtime stage ({runtime})" if runtime else "the runtime stage"
    for problem in problems:
        if problem.kind != "missing":
            continue
        name = problem.library.rsplit("/", 1)[-1]
        package = packages.get(name)
        fix = (
            f"install {package} in {stage}: the builder's {name} comes from it"
            if package
            else f"add {name} to the runtime image, or link it statically"
        )
        fixes.append(fix)
    if any(p.kind == "version" and family(p.versions_needed[0]) == "GLIBC" for p in problems if p.versions_needed):
        fixes.append(
            "the builder's glibc is newer than the runtime's: build on the same Debian release as the runtime "
            "(e.g. rust:1-bookworm with debian:bookworm-slim), or use the static strategy"
        )
    elif any(p.kind == "version" for p in problems):
        fixes.append("the runtime's libraries are older than the builder's: build on the same release as the runtime")
    return list(dict.fromkeys(fixes))
