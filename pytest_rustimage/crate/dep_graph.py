"""What a binary was built from, as cargo says, and how it compares with the list the binary carries.

:func:`expected_packages` computes, from ``cargo metadata --format-version 1`` output, the package list
``cargo auditable`` would embed for one package's binary, following its rules (cargo-auditable 0.7.7,
``auditable_from_metadata.rs``, format 1):

* start at the package (kind runtime) and walk the resolve graph breadth-first; a dependency's kind is
  the strongest of its edge's kinds (normal = runtime > build > dev; an edge with no kinds is
  runtime), capped by its parent's kind, so whatever is reached only through build dependencies is
  ``build``; a proc-macro (a package whose one target is only ``proc-macro``) is capped at ``build``
  too; a package seen again with a stronger kind is walked again;
* packages reached only through dev-dependencies are left out, and so are dev edges;
* platform filtering is cargo's own: :func:`cargo_metadata` passes ``--filter-platform`` as
  cargo-auditable does, so the graph holds only the target's dependencies;
* the root itself is in the list, marked ``root``; packages are sorted by name and then package id.

:func:`compare` matches crates by (name, version). Sources are ignored: the binary records a coarse
word (``crates.io``, ``local``...) that cannot tell two registries apart anyway, and a vendored or
mirrored build of the same crate version is the same code. Order and indices are ignored (they
depend on package ids). Kinds are compared only when the binary's list is format 1 or later: format 0
records proc-macros as runtime. A list of format 8 (from cargo's unstable SBOM precursor) is more
exact than ``cargo metadata`` and may name fewer crates; those show as missing.

This module may not import :mod:`pytest_rustimage.inspect` (the layers): :func:`compare` reads the
binary's list through the :class:`Listing` protocol, which ``AuditData`` meets.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pytest_rustimage.errors import CrateError

DependencyKind = Literal["runtime", "build"]
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
_STRENGTH = {"dev": 0, "build": 1, "runtime": 2}


@dataclass(frozen=True)
class ExpectedPackage:
    """One package cargo-auditable would record; ``dependencies`` index :attr:`ExpectedGraph.packages`."""

    name: str
    version: str
    source: str
    kind: DependencyKind
    root: bool
    dependencies: tuple[int, ...]
    id: str


@dataclass(frozen=True)
class ExpectedGraph:
    """The list cargo-auditable would embed, in its order."""

    packages: tuple[ExpectedPackage, ...]

    @property
    def root_package(self) -> ExpectedPackage:
        """The package whose binary this is."""
        return next(p for p in self.packages if p.root)


class Listed(Protocol):
    """One package of a list, as :func:`compare` reads it."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def root(self) -> bool: ...


class Listing(Protocol):
    """A binary's list, as :func:`compare` reads it (``AuditData`` is one)."""

    @property
    def packages(self) -> Sequence[Listed]: ...
    @property
    def format(self) -> int: ...


@dataclass(frozen=True)
class KindMismatch:
    """A crate both lists name, recorded with another kind than cargo's graph gives it."""

    name: str
    version: str
    listed: str
    expected: str


@dataclass(frozen=True)
class SbomDiff:
    """How a binary's list differs from cargo's graph; crates are ``(name, version)`` pairs, sorted."""

    missing: tuple[tuple[str, str], ...]  # in cargo's graph, not in the binary's list
    unexpected: tuple[tuple[str, str], ...]  # in the binary's list, not in cargo's graph
    matched: int  # crates (not the root) in both
    kind_mismatches: tuple[KindMismatch, ...]
    kinds_compared: bool  # False for a list of format 0, whose kinds cannot be trusted
    listed_root: tuple[str, str] | None
    expected_root: tuple[str, str]

    @property
    def root_matches(self) -> bool:
        """Whether the binary names the expected package as its root."""
        return self.listed_root == self.expected_root

    @property
    def ok(self) -> bool:
        """Whether the lists agree: same root, same crates, same kinds where compared."""
        return self.root_matches and not (self.missing or self.unexpected or self.kind_mismatches)


def source_word(source: str | None) -> str:
    """The word cargo-auditable records for a ``cargo metadata`` source id (None for a path package)."""
    if source is None:
        return "local"
    if source == CRATES_IO:
        return "crates.io"
    return source.split("+", 1)[0]


def expected_packages(metadata: Mapping[str, Any], package: str | None = None) -> ExpectedGraph:
    """The list cargo-auditable would embed in a binary of ``package`` (a package name; None: the
    metadata's ``resolve.root``, the package of the folder cargo ran in), from ``cargo metadata
    --format-version 1`` output. :class:`CrateError` when the metadata has no resolve graph or no
    such package."""
    resolve = metadata.get("resolve")
    if not isinstance(resolve, Mapping):
        raise CrateError("cargo metadata has no resolve graph (was it run with --no-deps?)")
    packages: dict[str, Mapping[str, Any]] = {str(p["id"]): p for p in metadata.get("packages", ())}
    nodes: dict[str, Mapping[str, Any]] = {str(n["id"]): n for n in resolve.get("nodes", ())}
    root_id = _root_id(metadata, resolve, packages, package)
    strength = _walk(root_id, nodes, _proc_macros(packages.values()))
    kept = sorted((pid for pid, level in strength.items() if level > 0), key=lambda i: (packages[i]["name"], i))
    index = {pid: n for n, pid in enumerate(kept)}
    listed = []
    for pid in kept:
        meta = packages[pid]
        deps = sorted(index[str(d["pkg"])] for d in nodes[pid].get("deps", ()) if _edge_strength(d) > 0)
        kind: DependencyKind = "runtime" if strength[pid] == 2 else "build"
        listed.append(
            ExpectedPackage(
                name=str(meta["name"]),
                version=str(meta["version"]),
                source=source_word(meta.get("source")),
                kind=kind,
                root=pid == root_id,
                dependencies=tuple(deps),
                id=pid,
            )
        )
    return ExpectedGraph(tuple(listed))


def _root_id(
    metadata: Mapping[str, Any],
    resolve: Mapping[str, Any],
    packages: Mapping[str, Mapping[str, Any]],
    package: str | None,
) -> str:
    if package is None:
        root = resolve.get("root")
        if not root:
            raise CrateError("cargo metadata names no root package (a virtual workspace): name the package")
        return str(root)
    members = set(metadata.get("workspace_members", ()))
    found = [pid for pid, p in packages.items() if p["name"] == package and pid in members]
    if not found:
        names = sorted(str(packages[pid]["name"]) for pid in members if pid in packages)
        raise CrateError(f"no workspace member named {package!r} (members: {', '.join(names)})")
    return found[0]


def _proc_macros(packages: Any) -> set[str]:
    """Ids of the packages whose only target is only a proc-macro (cargo-auditable's test)."""
    return {
        str(p["id"])
        for p in packages
        if len(p.get("targets", ())) == 1 and list(p["targets"][0].get("kind", ())) == ["proc-macro"]
    }


def _edge_strength(dep: Mapping[str, Any]) -> int:
    """The strongest kind of a resolve edge: 2 runtime (``kind`` null), 1 build, 0 dev."""
    kinds = [info.get("kind") or "runtime" for info in dep.get("dep_kinds", ())]
    return max((_STRENGTH[k] for k in kinds), default=2)


def _walk(root_id: str, nodes: Mapping[str, Mapping[str, Any]], proc_macros: set[str]) -> dict[str, int]:
    """Each package reached from the root, with the strongest kind it is reached by."""
    strength = {root_id: 2}
    queue = [root_id]
    while queue:
        following: list[str] = []
        for parent in queue:
            for dep in nodes[parent].get("deps", ()):
                child = str(dep["pkg"])
                level = min(_edge_strength(dep), strength[parent])
                if child in proc_macros:
                    level = min(level, 1)
                if child not in strength or level > strength[child]:
                    strength[child] = level
                    following.append(child)
        queue = following
    return strength


def compare(audit: Listing, expected: ExpectedGraph) -> SbomDiff:
    """How the binary's list ``audit`` differs from ``expected`` (see the module's docstring)."""
    listed = {(p.name, p.version): p.kind for p in audit.packages if not p.root}
    wanted = {(p.name, p.version): p.kind for p in expected.packages if not p.root}
    both = sorted(listed.keys() & wanted.keys())
    kinds_compared = audit.format >= 1
    mismatches = tuple(
        KindMismatch(name, version, listed[name, version], wanted[name, version])
        for name, version in both
        if kinds_compared and listed[name, version] != wanted[name, version]
    )
    root = next(((p.name, p.version) for p in audit.packages if p.root), None)
    want = expected.root_package
    return SbomDiff(
        missing=tuple(sorted(wanted.keys() - listed.keys())),
        unexpected=tuple(sorted(listed.keys() - wanted.keys())),
        matched=len(both),
        kind_mismatches=mismatches,
        kinds_compared=kinds_compared,
        listed_root=root,
        expected_root=(want.name, want.version),
    )


def cargo_metadata(
    folder: Path,
    *,
    target: str,
    features: Sequence[str] = (),
    default_features: bool = True,
    online: bool = False,
    cargo: str = "cargo",
    timeout: float = 300.0,
) -> dict[str, Any]:
    """``cargo metadata --format-version 1 --filter-platform TARGET`` run in ``folder`` (the folder of
    the package whose binary is checked: cargo-auditable runs it there, and with resolver 2 the
    features resolved depend on it), with the binary's features.

    It runs ``--offline`` first, and ``--locked`` when a ``Cargo.lock`` governs the folder; when that
    fails and ``online`` is true, once more without ``--offline``. :class:`CrateError` with cargo's
    stderr when it fails.
    """
    args = [cargo, "metadata", "--format-version", "1", "--filter-platform", target]
    if not default_features:
        args.append("--no-default-features")
    if features:
        args += ["--features", ",".join(features)]
    if _lockfile(folder) is not None:
        args.append("--locked")
    attempts = [[*args, "--offline"], args] if online else [[*args, "--offline"]]
    errors: list[str] = []
    for command in attempts:
        try:
            done = subprocess.run(
                command, cwd=folder, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CrateError(f"`{' '.join(command)}` could not run: {exc}", folder) from exc
        if done.returncode == 0:
            return _json_object(done.stdout, folder)
        errors.append(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{done.stderr.strip()}")
    raise CrateError("\n".join(errors), folder)


def _lockfile(folder: Path) -> Path | None:
    """The ``Cargo.lock`` of ``folder``'s package or of the workspace above it, if any."""
    here = folder.resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Cargo.lock").is_file():
            return candidate / "Cargo.lock"
        if not (candidate / "Cargo.toml").is_file():
            return None
    return None


def _json_object(stdout: str, folder: Path) -> dict[str, Any]:
    line = next((text for text in stdout.splitlines() if text.startswith("{")), None)
    try:
        data = json.loads(line) if line is not None else None
    except json.JSONDecodeError as exc:
        raise CrateError(f"cargo metadata printed no valid JSON: {exc}", folder) from exc
    if not isinstance(data, dict):
        raise CrateError("cargo metadata printed no JSON object", folder)
    return data
