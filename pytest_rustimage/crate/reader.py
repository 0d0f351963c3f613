"""Reading a crate: its manifest, workspace, binaries and ``rust-image`` metadata.

The pure reader follows Cargo's rules for target auto-discovery
(``src/main.rs``, ``src/bin/*.rs``, ``src/bin/*/main.rs``, ``[[bin]]``,
``autobins``). Where ``cargo`` is on PATH, ``cargo metadata --no-deps``
is asked as well and its list of binaries wins, since it is Cargo's own.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_rustimage.crate.locate import file_key_line
from pytest_rustimage.crate.shape import check_shape, kind
from pytest_rustimage.errors import CrateError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

METADATA_KEY = "rust-image"


@dataclass(frozen=True)
class Binary:
    name: str
    package: str
    src_path: Path


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    manifest_path: Path
    default_run: str | None
    binaries: tuple[Binary, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Crate:
    """What the user pointed at, read once.

    ``root`` is the folder a build needs (the workspace root, so that path
    dependencies and the lockfile come along); ``packages`` are the packages
    the user meant: the one package, or every member of a virtual workspace.
    """

    manifest_path: Path
    root: Path
    name: str
    packages: tuple[Package, ...]
    metadata: Mapping[str, Any]
    has_lockfile: bool

    @property
    def binaries(self) -> tuple[Binary, ...]:
        return tuple(b for p in self.packages for b in p.binaries)

    def select_binary(self, wanted: str | None) -> Binary:
        """The binary to check: ``wanted``, else ``default-run``, else the only one."""
        binaries = self.binaries
        if not binaries:
            raise CrateError(
                "no binary target (no src/main.rs, src/bin/ or [[bin]]); nothing to put in an image. "
                "Point at a crate with a binary, or add one",
                self.manifest_path,
            )
        choices = ", ".join(f"{b.name} (package {b.package})" for b in binaries)
        if wanted is not None:
            for binary in binaries:
                if binary.name == wanted:
                    return binary
            raise CrateError(f"no binary named {wanted!r}; the binaries are: {choices}", self.manifest_path)
        if len(binaries) == 1:
            return binaries[0]
        defaults = {p.default_run for p in self.packages if p.default_run}
        if len(defaults) == 1:
            return self.select_binary(defaults.pop())
        raise CrateError(
            f'several binaries and none chosen: {choices}. Choose one with `bin = "NAME"` under '
            f"[package.metadata.{METADATA_KEY}] (or [workspace.metadata.{METADATA_KEY}]), "
            'the marker\'s bin=, or --rust-image-bin; or check every one with `bin = "*"` '
            '(--rust-image-bin=\'*\') or a list, `bin = ["a", "b"]`',
            self.manifest_path,
        )


_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def load_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CrateError(f"cannot read: {exc.strerror or exc}", path) from exc
    except UnicodeDecodeError as exc:
        raise CrateError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8", path) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise CrateError(f"malformed TOML: {_TOML_LINE.sub('', str(exc)).strip()}", path, line) from exc
    except ValueError as exc:  # an integer too long to convert (sys.get_int_max_str_digits)
        raise CrateError(f"malformed TOML: {exc}", path) from exc
    except RecursionError as exc:
        raise CrateError("malformed TOML: arrays or tables nested too deeply to read", path) from exc


def find_manifest(path: Path) -> Path:
    """The ``Cargo.toml`` for a folder or a manifest path."""
    if not path.exists() and not path.is_symlink():
        raise CrateError("no such file or folder", path)
    manifest = path / "Cargo.toml" if path.is_dir() and path.name != "Cargo.toml" else path
    if manifest.name != "Cargo.toml" or not (manifest.exists() or manifest.is_symlink()):
        raise CrateError("no Cargo.toml here; point at a crate folder or its Cargo.toml", path)
    if manifest.is_symlink() and not manifest.exists():
        raise CrateError(
            f"a symbolic link to {os.readlink(manifest)}, which does not exist; fix or remove the link", manifest
        )
    if not manifest.is_file():
        raise CrateError("not a regular file (a folder or a special file); Cargo.toml must be a file", manifest)
    return manifest.resolve()


def unusable_manifest(folder: Path) -> CrateError | None:
    """The first ``Cargo.toml`` under ``folder`` that is there but not a file (a folder, a dangling link).

    pytest collects files only, so such a manifest would otherwise be passed over in silence.
    """
    for here, dirs, files in os.walk(folder):
        if "Cargo.toml" in dirs or "Cargo.toml" in files:
            candidate = Path(here) / "Cargo.toml"
            if not candidate.is_file():
                try:
                    find_manifest(candidate)
                except CrateError as exc:
                    return exc
        dirs[:] = [d for d in dirs if d not in ("target", ".git", "Cargo.toml")]
    return None


def _table(doc: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = doc
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return dict(node) if isinstance(node, Mapping) else {}


def load_manifest(path: Path) -> dict[str, Any]:
    """A manifest read and checked: the keys the reader uses have the types Cargo requires."""
    doc = load_toml(path)
    check_shape(doc, path)
    return doc


def _members(root: Path, workspace: Mapping[str, Any]) -> list[Path]:
    """The member folders (with a Cargo.toml) of a workspace whose shape :func:`check_shape` accepted."""
    excluded = {(root / e).resolve() for e in workspace.get("exclude", [])}
    found: list[Path] = []
    for pattern in workspace.get("members", []):
        for match in sorted(glob.glob(str(root / pattern))):  # an absolute pattern stays absolute
            folder = Path(match).resolve()
            if folder not in excluded and (folder / "Cargo.toml").is_file() and folder not in found:
                found.append(folder)
    return found


def _workspace_root(manifest: Path, doc: Mapping[str, Any]) -> Path:
    if "workspace" in doc:
        return manifest.parent
    explicit = _table(doc, "package").get("workspace")
    if isinstance(explicit, str):
        return (manifest.parent / explicit).resolve()
    for folder in manifest.parent.parents:
        candidate = folder / "Cargo.toml"
        if candidate.is_file():
            try:
                parent_doc = load_manifest(candidate)
            except CrateError:
                continue  # not a workspace this package can belong to
            workspace = _table(parent_doc, "workspace")
            if workspace and manifest.parent in _members(folder, workspace):
                return folder
    return manifest.parent


def is_workspace_member(manifest: Path) -> bool:
    """Whether ``manifest`` is a package inside a workspace rooted above it."""
    try:
        doc = load_manifest(manifest)
    except CrateError:
        return False
    return _workspace_root(manifest.resolve(), doc) != manifest.resolve().parent


def _auto_binaries(package_dir: Path, package_name: str, doc: Mapping[str, Any]) -> tuple[Binary, ...]:
    explicit = list(doc.get("bin", []))  # check_shape: tables, each with a name
    binaries: list[Binary] = []
    for entry in explicit:
        name = str(entry["name"])
        if "path" in entry:
            src = package_dir / str(entry["path"])
        elif name == package_name and (package_dir / "src/main.rs").is_file():
            src = package_dir / "src/main.rs"
        elif (package_dir / "src/bin" / name / "main.rs").is_file():
            src = package_dir / "src/bin" / name / "main.rs"
        else:
            src = package_dir / "src/bin" / f"{name}.rs"
        binaries.append(Binary(name, package_name, src))
    package = _table(doc, "package")
    # edition 2015 turns discovery off once any [[bin]] is written out
    autobins_default = not (explicit and str(package.get("edition", "2015")) == "2015")
    if package.get("autobins", autobins_default) is not False:
        taken = {b.name for b in binaries}
        taken_paths = {b.src_path.resolve() for b in binaries}
        candidates: list[tuple[str, Path]] = []
        if (package_dir / "src/main.rs").is_file():
            candidates.append((package_name, package_dir / "src/main.rs"))
        bin_dir = package_dir / "src/bin"
        if bin_dir.is_dir():
            for item in sorted(bin_dir.iterdir()):
                if item.suffix == ".rs" and item.is_file():
                    candidates.append((item.stem, item))
                elif (item / "main.rs").is_file():
                    candidates.append((item.name, item / "main.rs"))
        for name, src in candidates:
            if name not in taken and src.resolve() not in taken_paths:
                binaries.append(Binary(name, package_name, src))
    return tuple(binaries)


def _read_package(manifest: Path, workspace_doc: Mapping[str, Any] | None) -> Package:
    doc = load_manifest(manifest)
    if "package" not in doc:
        raise CrateError("a workspace member without [package]; add one, or drop it from workspace.members", manifest)
    package = _table(doc, "package")
    name = str(package["name"])  # check_shape: a non-empty string
    version = package.get("version", "0.0.0")
    if isinstance(version, Mapping) and workspace_doc is not None:  # version.workspace = true
        version = _table(workspace_doc, "workspace", "package").get("version", "0.0.0")
    default_run = package.get("default-run")
    return Package(
        name=name,
        version=str(version),
        manifest_path=manifest,
        default_run=str(default_run) if default_run else None,
        binaries=_auto_binaries(manifest.parent, name, doc),
        metadata=_metadata(doc, "package", manifest),
    )


def _metadata(doc: Mapping[str, Any], table: str, manifest: Path) -> dict[str, Any]:
    """The ``rust-image`` table under ``[TABLE.metadata]``; anything but a table is refused."""
    value = _table(doc, table, "metadata").get(METADATA_KEY, {})
    if not isinstance(value, Mapping):
        key = f"{table}.metadata.{METADATA_KEY}"
        raise CrateError(
            f"{key} must be a table ([{key}]), not {kind(value)} {value!r}", manifest, file_key_line(manifest, key)
        )
    return dict(value)


def read_crate(path: Path, *, use_cargo: bool = True) -> Crate:
    """Read the crate at ``path`` (a folder or a ``Cargo.toml``)."""
    manifest = find_manifest(path)
    doc = load_manifest(manifest)
    if "package" not in doc and "workspace" not in doc:
        raise CrateError("neither [package] nor [workspace]: not a Cargo manifest", manifest)
    root = _workspace_root(manifest, doc)
    root_manifest = root / "Cargo.toml"
    root_doc = doc if root_manifest == manifest else load_manifest(root_manifest)
    workspace_meta = _metadata(root_doc, "workspace", root_manifest)
    packages: tuple[Package, ...]
    if "package" in doc:
        packages = (_read_package(manifest, root_doc),)
        name = packages[0].name
    else:
        members = _members(root, _table(doc, "workspace"))
        if not members:
            raise CrateError(
                "this workspace has no members: no folder with a Cargo.toml matches workspace.members", manifest
            )
        packages = tuple(_read_package(m / "Cargo.toml", root_doc) for m in members)
        name = root.name
    if use_cargo and shutil.which("cargo"):
        packages = _with_cargo_binaries(manifest, packages)
    metadata = dict(workspace_meta)
    for package in packages if "package" in doc else ():
        metadata.update(package.metadata)
    return Crate(
        manifest_path=manifest,
        root=root,
        name=name,
        packages=packages,
        metadata=metadata,
        has_lockfile=(root / "Cargo.lock").is_file(),
    )


def _with_cargo_binaries(manifest: Path, packages: tuple[Package, ...]) -> tuple[Package, ...]:
    """Replace each package's binaries with what ``cargo metadata`` says, when it answers."""
    try:
        done = subprocess.run(
            ["cargo", "metadata", "--no-deps", "--offline", "--format-version", "1", "--manifest-path", str(manifest)],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return packages
    if done.returncode != 0:
        # cargo could not answer (no toolchain for this folder, say): the pure reader's answer
        # stands, and a manifest cargo itself rejects fails the build with cargo's own words
        return packages
    data: dict[str, Any] = json.loads(done.stdout)
    by_manifest = {Path(p["manifest_path"]).resolve(): p for p in data.get("packages", [])}
    result = []
    for package in packages:
        raw = by_manifest.get(package.manifest_path)
        if raw is None:
            result.append(package)
            continue
        binaries = tuple(
            Binary(str(t["name"]), package.name, Path(t["src_path"]))
            for t in raw.get("targets", [])
            if "bin" in t.get("kind", [])
        )
        result.append(
            Package(
                package.name,
                str(raw.get("version", package.version)),
                package.manifest_path,
                raw.get("default_run") or package.default_run,
                binaries,
                package.metadata,
            )
        )
    return tuple(result)
