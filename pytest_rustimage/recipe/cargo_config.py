"""The cargo config of a vendored ``dockerfile`` context: the crate's own config with crates.io replaced.

Pure: TOML in, TOML out. The crate's settings are kept (its comments are not: the text is written
anew by the small writer below, which covers what cargo configs hold).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from pytest_rustimage.errors import CrateError

VENDORED_SOURCE = "vendored-sources"
CONTEXT_VENDOR_DIR = "vendor"  # relative: cargo resolves it against the folder that holds .cargo/


def vendored_cargo_config(existing: str | None, *, where: str = ".cargo/config.toml") -> str:
    """The text of a cargo config: ``existing`` (a config's TOML, or None) with crates.io replaced by
    the vendored sources in ``vendor/`` and ``[net] offline = true``; every other setting kept.

    Refuses (:class:`CrateError`, naming ``where``) a config that already replaces crates.io, or
    defines ``vendored-sources``, differently: two replacements cannot both hold.
    """
    try:
        config: dict[str, Any] = tomllib.loads(existing) if existing else {}
    except tomllib.TOMLDecodeError as exc:
        raise CrateError(f"not valid TOML: {exc}", Path(where)) from exc
    source = _table(config, "source", where)
    crates_io = _table(source, "crates-io", where, "source.")
    wanted = {"directory": CONTEXT_VENDOR_DIR}
    replaced = crates_io.get("replace-with")
    if replaced is not None and replaced != VENDORED_SOURCE:
        raise CrateError(
            f"[source.crates-io] already replaces crates.io with {replaced!r}; rust_image_vendor = true "
            f'replaces it with the sources it vendors ("{VENDORED_SOURCE}", directory "{CONTEXT_VENDOR_DIR}"): '
            "remove that replacement from the config, or set rust_image_vendor = false",
            Path(where),
        )
    if VENDORED_SOURCE in source and source[VENDORED_SOURCE] != wanted:
        raise CrateError(
            f"[source.{VENDORED_SOURCE}] is already defined as {source[VENDORED_SOURCE]!r}; "
            f'rust_image_vendor = true needs it to be {{ directory = "{CONTEXT_VENDOR_DIR}" }}: remove it '
            "from the config, or set rust_image_vendor = false",
            Path(where),
        )
    crates_io["replace-with"] = VENDORED_SOURCE
    source[VENDORED_SOURCE] = wanted
    _table(config, "net", where)["offline"] = True
    header = "# written by pytest-rustimage (rust_image_vendor = true): build from vendored sources, offline\n"
    if existing:
        header += "# the crate's own settings are kept; its comments are not\n"
    return header + "\n" + dump_toml(config)


def _table(parent: dict[str, Any], key: str, where: str, prefix: str = "") -> dict[str, Any]:
    found = parent.setdefault(key, {})
    if not isinstance(found, dict):
        raise CrateError(f"{prefix}{key} must be a table, got {found!r}", Path(where))
    return found


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a TOML value: {value!r}")


def dump_toml(document: Mapping[str, Any]) -> str:
    """TOML text for a document as :mod:`tomllib` reads one (tables as ``[headers]``, arrays inline)."""
    lines: list[str] = []

    def table(path: tuple[str, ...], body: Mapping[str, Any]) -> None:
        plain = [(k, v) for k, v in body.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in body.items() if isinstance(v, dict)]
        if path and (plain or not tables):
            lines.append(("\n" if lines else "") + "[" + ".".join(_key(part) for part in path) + "]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain)
        for key, sub in tables:
            table((*path, key), sub)

    table((), document)
    return "\n".join(lines) + "\n"
