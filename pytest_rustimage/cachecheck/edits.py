"""The cache check's edit kinds: each a value made from the crate, applied to its own copy.

``source`` appends a comment to the checked binary's main source file (the probe's first edit);
``library`` appends one to a workspace library member the binary's package depends on; ``non-rust``
appends a line to the crate's README.md (when no Rust code reads it) or adds a new file at the crate's
root; ``version`` bumps the binary's package's version in Cargo.toml and in Cargo.lock as cargo would;
``member`` adds an empty library member to the workspace (and to Cargo.lock). :func:`make` gives a
:class:`KindEdit`: the :class:`~pytest_rustimage.cachecheck.edit.Edit`, or why the kind does not
apply to this crate, and for ``library`` the own packages allowed to compile again.

Each edit carries a fresh stamp (a comment, a version, a member's name) so that no earlier build has
seen its inputs; its key leaves the stamp out, so verdicts are stored per kind across runs. Text edits
of Cargo.toml and Cargo.lock are made line by line (no TOML writer), keeping the rest of each file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_rustimage.cachecheck.edit import Edit
from pytest_rustimage.crate import Binary, Crate, load_toml
from pytest_rustimage.errors import ConfigError

KINDS = ("source", "library", "non-rust", "version", "member")
DEFAULT_KINDS = ("source",)
GATED = frozenset({"source", "library", "non-rust", "version"})  # member is reported, never gated


@dataclass(frozen=True)
class KindEdit:
    """One kind's edit for a crate, or why it does not apply (``edit`` None, ``reason`` said)."""

    kind: str
    edit: Edit | None
    reason: str = ""  # why the kind does not apply
    allowed_own: frozenset[str] | None = None  # library: the library and its dependents (None: any)
    library: str = ""  # library: the edited member's package name

    @property
    def gated(self) -> bool:
        return self.kind in GATED


def parse_kinds(value: object, where: str) -> tuple[str, ...]:
    """Edit kinds from a comma-separated string or a list; unknown ones are a usage error naming the valid ones."""
    at = f"{where}: " if where else ""
    parts = [value] if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or not all(isinstance(p, str) for p in parts):
        raise ConfigError(f"{at}cache edits are a list of kinds, got {value!r}; choose from: {', '.join(KINDS)}")
    kinds = tuple(dict.fromkeys(k.strip() for p in parts for k in p.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ConfigError(f"{at}unknown cache edit kind {unknown[0]!r}; choose from: {', '.join(KINDS)}")
    if not kinds:
        raise ConfigError(f"{at}names no cache edit kind; choose from: {', '.join(KINDS)}")
    return kinds


def make(kind: str, crate: Crate, binary: Binary, stamp: str) -> KindEdit:
    """``kind``'s edit of ``crate`` (whose checked binary is ``binary``), with ``stamp`` making it new."""
    if kind == "source":
        return KindEdit(kind, _comment(_relative(crate, binary.src_path), stamp))
    if kind == "non-rust":
        return KindEdit(kind, non_rust_edit(crate.root, stamp))
    if kind == "version":
        try:
            return KindEdit(kind, version_edit(crate, binary.package, stamp))
        except ConfigError as exc:  # no version line to bump (cargo's default 0.0.0), or not MAJOR.MINOR.PATCH
            return KindEdit(kind, None, str(exc))
    workspace = _table(load_toml(crate.root / "Cargo.toml"), "workspace")
    if not workspace:
        return KindEdit(kind, None, "a single package, not a workspace: there is no member to edit")
    if kind == "member":
        return KindEdit(kind, member_edit(crate.root, workspace, stamp))
    if kind == "library":
        return library_edit(crate, binary, stamp)
    raise ConfigError(f"unknown cache edit kind {kind!r}; choose from: {', '.join(KINDS)}")


def _table(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    return dict(value) if isinstance(value, Mapping) else {}


def _relative(crate: Crate, path: Path) -> str:
    return path.resolve().relative_to(crate.root.resolve()).as_posix()


def _comment(relative: str, stamp: str) -> Edit:
    def append(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text() + f"\n// pytest-rustimage cache probe {stamp}\n")

    return Edit(relative, f"appended a comment to {relative}", append)


# library


def _path_deps(manifest: Path, crate: Crate) -> set[Path]:
    """The folders of the path dependencies (normal and build) of the package at ``manifest``."""
    doc = load_toml(manifest)
    shared = _table(_table(load_toml(crate.root / "Cargo.toml"), "workspace"), "dependencies")
    found: set[Path] = set()
    for table in ("dependencies", "build-dependencies"):
        for name, spec in _table(doc, table).items():
            if not isinstance(spec, Mapping):
                continue
            if isinstance(spec.get("path"), str):
                found.add((manifest.parent / spec["path"]).resolve())
            elif spec.get("workspace") is True:
                inherited = shared.get(str(spec.get("package", name)), shared.get(name))
                if isinstance(inherited, Mapping) and isinstance(inherited.get("path"), str):
                    found.add((crate.root / inherited["path"]).resolve())
    return found


def _lib_source(manifest: Path) -> Path | None:
    lib = _table(load_toml(manifest), "lib")
    source = manifest.parent / str(lib.get("path", "src/lib.rs"))
    return source if source.is_file() else None


def library_edit(crate: Crate, binary: Binary, stamp: str) -> KindEdit:
    """A comment in a library member the binary's package depends on; the members allowed to recompile."""
    by_folder = {p.manifest_path.parent.resolve(): p for p in crate.packages}
    deps = {
        p.name: {by_folder[d].name for d in _path_deps(p.manifest_path, crate) if d in by_folder}
        for p in by_folder.values()
    }
    own = next((p for p in crate.packages if p.name == binary.package), None)
    libraries = sorted(
        (by_folder[d] for d in _path_deps(own.manifest_path, crate) if d in by_folder) if own is not None else (),
        key=lambda p: p.name,
    )
    for library in libraries:
        source = _lib_source(library.manifest_path)
        if source is None:
            continue
        dependents = {library.name}
        while True:  # every member that depends on the library, directly or through another member
            more = {name for name, used in deps.items() if used & dependents} - dependents
            if not more:
                break
            dependents |= more
        edit = _comment(_relative(crate, source), stamp)
        key_edit = Edit(edit.path, f"appended a comment to {library.name}'s {edit.path}", edit.change)
        return KindEdit("library", key_edit, allowed_own=frozenset(dependents), library=library.name)
    return KindEdit("library", None, f"{binary.package} depends on no library member of the workspace")


# non-rust

_INCLUDES = re.compile(r"include_(?:str|bytes)!\s*\(\s*[^)]*README\.md")
_SKIPPED = {"target", "vendor", ".git"}


def _reads_readme(root: Path) -> bool:
    for path in root.rglob("*.rs"):
        if _SKIPPED & set(path.relative_to(root).parts):
            continue
        try:
            if _INCLUDES.search(path.read_text(errors="replace")):
                return True
        except OSError:
            continue
    return False


def non_rust_edit(root: Path, stamp: str) -> Edit:
    """A line appended to README.md at ``root`` when no Rust code there reads it, else a new file."""
    if (root / "README.md").is_file() and not _reads_readme(root):

        def append(copy: Path) -> None:
            path = copy / "README.md"
            path.write_text(path.read_text() + f"\n<!-- pytest-rustimage cache probe {stamp} -->\n")

        return Edit("README.md", "appended a line to README.md", append)
    name = "rust-image-probe.txt"

    def add(copy: Path) -> None:
        (copy / name).write_text(f"pytest-rustimage cache probe {stamp}\n")

    return Edit(name, f"added {name} at the crate's root", add)


# version

_VERSION_LINE = re.compile(r'^(\s*version\s*=\s*")([^"]+)(".*)$')
_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")


def _set_version(text: str, table: str, new: str) -> tuple[str, str]:
    """``text`` with the ``version = "..."`` line of ``[table]`` set to ``new``; and the old version."""
    lines = text.splitlines(keepends=True)
    current = ""
    for i, line in enumerate(lines):
        header = _HEADER.match(line)
        if header:
            current = header.group(1)
            continue
        match = _VERSION_LINE.match(line.rstrip("\n"))
        if current == table and match:
            lines[i] = f"{match.group(1)}{new}{match.group(3)}\n"
            return "".join(lines), match.group(2)
    raise ConfigError(f'no version = "..." line in [{table}]: the version edit cannot bump it')


def _bumped(version: str, stamp: str) -> str:
    """The version with its patch number raised by 1 + a number taken from the stamp (never seen before)."""
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        raise ConfigError(f"version {version!r} is not MAJOR.MINOR.PATCH: the version edit cannot bump it")
    major, minor, patch = (int(g) for g in match.groups())
    return f"{major}.{minor}.{patch + 1 + int(stamp, 16) % 1_000_000}"


def set_lock_versions(lock: str, versions: Mapping[str, str]) -> str:
    """``lock`` (Cargo.lock's text) with the local (no ``source``) ``[[package]]`` of each name set to its version."""
    blocks = re.split(r"(?m)^(?=\[\[package\]\]\s*$)", lock)
    out = []
    for block in blocks:
        name = re.search(r'(?m)^name = "([^"]+)"$', block)
        if block.startswith("[[package]]") and name and name.group(1) in versions and "\nsource = " not in block:
            block = re.sub(r'(?m)^version = "[^"]+"$', f'version = "{versions[name.group(1)]}"', block, count=1)
        out.append(block)
    return "".join(out)


def version_edit(crate: Crate, package: str, stamp: str) -> Edit:
    """The package's own version bumped (in ``[workspace.package]`` when it inherits it), Cargo.lock updated."""
    owner = next(p for p in crate.packages if p.name == package)
    relative = _relative(crate, owner.manifest_path)
    version = _table(load_toml(owner.manifest_path), "package").get("version")
    inherited = isinstance(version, Mapping)
    manifest = "Cargo.toml" if inherited else relative
    table = "workspace.package" if inherited else "package"
    new = _bumped(owner.version, stamp)
    _set_version((crate.root / manifest).read_text(), table, new)  # refused now, not in the copy, when it cannot
    names = [package]
    if inherited:  # every member that inherits the version changes with it
        names = [
            p.name
            for p in crate.packages
            if isinstance(_table(load_toml(p.manifest_path), "package").get("version"), Mapping)
        ]

    def bump(root: Path) -> None:
        path = root / manifest
        text, _ = _set_version(path.read_text(), table, new)
        path.write_text(text)
        lock = root / "Cargo.lock"
        if lock.is_file():
            lock.write_text(set_lock_versions(lock.read_text(), dict.fromkeys(names, new)))

    return Edit(manifest, f"bumped {package}'s version in {manifest} and Cargo.lock", bump)


# member


def _lock_with(lock: str, name: str, version: str) -> str:
    """``lock`` with a ``[[package]]`` for a new local package, where cargo sorts it (by name)."""
    entry = f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
    blocks = re.split(r"(?m)^(?=\[\[package\]\]\s*$)", lock)
    head, packages = blocks[0], blocks[1:]
    at = next(
        (i for i, b in enumerate(packages) if (m := re.search(r'(?m)^name = "([^"]+)"$', b)) and m.group(1) > name),
        len(packages),
    )
    if at == len(packages):
        last = packages[-1].rstrip("\n") + "\n\n" if packages else head.rstrip("\n") + "\n\n"
        if packages:
            packages[-1] = last
        else:
            head = last
        packages.append(entry)
    else:
        packages.insert(at, entry + "\n")
    return head + "".join(packages)


def member_edit(root: Path, workspace: Mapping[str, Any], stamp: str) -> Edit:
    """A new empty library member: under a glob member's folder when one covers it, else at the root and
    added to ``[workspace] members``; added to Cargo.lock as cargo would."""
    name = f"rust-image-probe-{stamp}"
    globs = [m for m in workspace.get("members", []) if isinstance(m, str) and m.endswith("/*") and "*" not in m[:-2]]
    folder = f"{globs[0][:-2]}/{name}" if globs else name

    def add(copy: Path) -> None:
        member = copy / folder
        (member / "src").mkdir(parents=True)
        (member / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n'
        )
        (member / "src" / "lib.rs").write_text("//! An empty member added by pytest-rustimage's cache probe.\n")
        if not globs:
            manifest = copy / "Cargo.toml"
            text, count = re.subn(r"(?m)^(\s*members\s*=\s*\[)", rf'\g<1>"{folder}", ', manifest.read_text(), count=1)
            if not count:
                text = re.sub(r"(?m)^\[workspace\]\s*$", f'[workspace]\nmembers = ["{folder}"]', text, count=1)
            manifest.write_text(text)
        lock = copy / "Cargo.lock"
        if lock.is_file():
            lock.write_text(_lock_with(lock.read_text(), name, "0.1.0"))

    return Edit(f"{folder}/Cargo.toml", "added an empty library member to the workspace", add)
