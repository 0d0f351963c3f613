"""Checking a Cargo manifest's shape: the keys the crate reader uses have the types Cargo requires.

TOML that parses can still say ``name = 5`` or ``members = "crates/*"``. Cargo
refuses such manifests; so does the plugin, before it uses the values, with a
message naming the key, the file and (when a plain scan finds it) the line,
instead of an internal error further on.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_rustimage.crate.locate import file_key_line
from pytest_rustimage.errors import CrateError

STRING = "a string"
FILE_PATH = "a path in a string"


def kind(value: object) -> str:
    """The TOML name of ``value``'s type."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "table"
    if isinstance(value, Sequence):
        return "array"
    if isinstance(value, datetime.date | datetime.time):
        return "date-time"
    return type(value).__name__


def shown(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wrong(manifest: Path, key: str, expected: str, value: object, *, nth: int = 0, line_key: str = "") -> CrateError:
    """``key`` holds ``value`` where ``expected`` belongs."""
    return CrateError(
        f"{key} must be {expected}, not {kind(value)} {shown(value)}; fix it in the manifest",
        manifest,
        file_key_line(manifest, line_key or key, nth),
    )


def _check_text(manifest: Path, key: str, value: object, expected: str, *, nth: int = 0, line_key: str = "") -> None:
    if not isinstance(value, str):
        raise wrong(manifest, key, expected, value, nth=nth, line_key=line_key)
    if not value.strip() or "\0" in value:
        what = "is empty" if not value.strip() else "contains a NUL character"
        raise CrateError(f"{key} {what}; write {expected}", manifest, file_key_line(manifest, line_key or key, nth))


def _check_path_list(manifest: Path, key: str, value: object) -> None:
    if not isinstance(value, list):
        raise wrong(manifest, key, 'an array of relative paths such as ["crates/*"]', value)
    for item in value:
        _check_text(manifest, f"an entry of {key}", item, FILE_PATH, line_key=key)


def _check_package(manifest: Path, package: object) -> None:
    if not isinstance(package, Mapping):
        raise wrong(manifest, "package", "a table ([package])", package)
    if "name" not in package:
        raise CrateError(
            '[package] has no name; add name = "..." under [package]', manifest, file_key_line(manifest, "package")
        )
    _check_text(manifest, "package.name", package["name"], 'a string such as "my-tool"')
    rules: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
        ("version", (str, Mapping), 'a string such as "0.1.0" (or version.workspace = true)'),
        ("edition", (str, Mapping), 'a string such as "2021" (or edition.workspace = true)'),
        ("default-run", str, "the name of a binary in a string"),
        ("autobins", bool, "true or false"),
    )
    for key, types, expected in rules:
        if key in package and not isinstance(package[key], types):
            raise wrong(manifest, f"package.{key}", expected, package[key])
    if "workspace" in package:
        _check_text(manifest, "package.workspace", package["workspace"], "the path of the workspace root in a string")


def _check_bins(manifest: Path, bins: object) -> None:
    if not isinstance(bins, list):
        raise wrong(manifest, "bin", "an array of tables ([[bin]] sections)", bins)
    for index, entry in enumerate(bins):
        where = f"[[bin]] number {index + 1}"
        if not isinstance(entry, Mapping):
            raise wrong(manifest, where, "a table", entry, nth=index, line_key="bin")
        if "name" not in entry:
            raise CrateError(
                f'{where} has no name; Cargo requires one: add name = "..." to it',
                manifest,
                file_key_line(manifest, "bin", index),
            )
        _check_text(manifest, f"{where}: name", entry["name"], 'a string such as "my-tool"', nth=index, line_key="bin")
        if "path" in entry:
            _check_text(manifest, f"{where}: path", entry["path"], FILE_PATH, nth=index, line_key="bin")


def _check_workspace(manifest: Path, workspace: object) -> None:
    if not isinstance(workspace, Mapping):
        raise wrong(manifest, "workspace", "a table ([workspace])", workspace)
    for key in ("members", "exclude"):
        if key in workspace:
            _check_path_list(manifest, f"workspace.{key}", workspace[key])


def check_shape(doc: Mapping[str, Any], manifest: Path) -> None:
    """Refuse (with :class:`CrateError`) a manifest whose keys the reader uses have the wrong type."""
    if "package" in doc:
        _check_package(manifest, doc["package"])
    if "bin" in doc:
        _check_bins(manifest, doc["bin"])
    if "workspace" in doc:
        _check_workspace(manifest, doc["workspace"])
