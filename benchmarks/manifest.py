"""The texts the benchmark writes into its copies of the crate: the renamed ``Cargo.toml`` and
``Cargo.lock``, the image metadata the ``runs`` check reads, the source-only edit, and the ``pytest.ini``
beside the plugin's copy (pure: texts only)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

EDIT_MARK = "// pytest-rustimage benchmark: a source-only edit"


def ini_text(builder: str, runtime: str) -> str:
    """The ``pytest.ini`` beside the plugin's copy of the crate."""
    return f"[pytest]\nrust_image_builder = {builder}\nrust_image_runtime = {runtime}\nrust_image_vendor = true\n"


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    return json.dumps(value, ensure_ascii=False)


def _sections(text: str) -> list[tuple[str, int, int]]:
    """(header, start, end) of each table: header is the line's text, start/end character offsets of the
    table's body (after the header line, up to the next header)."""
    headers = [(m.group(1).strip(), m.start(), m.end()) for m in re.finditer(r"(?m)^[ \t]*(\[[^\n]*\])[ \t]*$", text)]
    out = []
    for i, (header, _start, end) in enumerate(headers):
        body_end = headers[i + 1][1] if i + 1 < len(headers) else len(text)
        out.append((header, end, body_end))
    return out


def _table_name(header: str) -> str:
    return re.sub(r"\s+", "", header.split("#", 1)[0])


def rename_manifest(text: str, old: str, new: str, binary: str, binary_path: str, lib: bool) -> str:
    """The manifest of a package renamed ``old`` -> ``new`` whose binary and library keep their names.

    A binary named after the package (``src/main.rs``) gets an explicit ``[[bin]]``; a library not named
    in ``[lib]`` gets its name there, so ``use old::...`` still builds.
    """
    sections = _sections(text)
    package = next((s for s in sections if _table_name(s[0]) == "[package]"), None)
    if package is None:
        raise ValueError("no [package] table: only single packages can be benchmarked")
    _, start, end = package
    body, count = re.subn(
        rf'(?m)^(\s*name\s*=\s*)"{re.escape(old)}"', lambda m: m.group(1) + toml_string(new), text[start:end], count=1
    )
    if count != 1:
        raise ValueError(f'no name = "{old}" in [package]')
    text = text[:start] + body + text[end:]
    sections = _sections(text)
    tail: list[str] = []
    bins = [text[s:e] for h, s, e in sections if _table_name(h) == "[[bin]]"]
    named = re.compile(rf'(?m)^\s*name\s*=\s*"{re.escape(binary)}"')
    if binary == old and not any(named.search(b) for b in bins):
        tail += ["", "[[bin]]", f"name = {toml_string(binary)}", f"path = {toml_string(binary_path)}"]
    if lib:
        lib_name = old.replace("-", "_")
        lib_table = next((s for s in sections if _table_name(s[0]) == "[lib]"), None)
        if lib_table is None:
            tail += ["", "[lib]", f"name = {toml_string(lib_name)}"]
        elif not re.search(r"(?m)^\s*name\s*=", text[lib_table[1] : lib_table[2]]):
            text = text[: lib_table[1]] + f"\nname = {toml_string(lib_name)}" + text[lib_table[1] :]
    if tail:
        text = text.rstrip("\n") + "\n" + "\n".join(tail) + "\n"
    return text


def rename_lock(text: str, old: str, new: str, version: str) -> str:
    """``Cargo.lock`` with the root package ``old`` (the entry without a ``source``) renamed ``new``."""
    pattern = re.compile(
        rf'(\[\[package\]\]\nname = )"{re.escape(old)}"(\nversion = "{re.escape(version)}"\n)(?!source = )'
    )
    renamed, count = pattern.subn(lambda m: m.group(1) + toml_string(new) + m.group(2), text, count=1)
    if count != 1:
        raise ValueError(f"Cargo.lock has no entry for the package {old} {version}")
    return renamed


def set_image_metadata(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """The manifest with these keys set in ``[package.metadata.rust-image]`` (the table made if missing,
    other keys kept; keys written on one line each)."""

    def line(key: str, value: str | Sequence[str]) -> str:
        if isinstance(value, str):
            return f"{key} = {toml_string(value)}"
        return f"{key} = [{', '.join(toml_string(v) for v in value)}]"

    new_lines = [line(k, v) for k, v in values.items()]
    table = next(
        (
            s
            for s in _sections(text)
            if _table_name(s[0]) in ("[package.metadata.rust-image]", '[package.metadata."rust-image"]')
        ),
        None,
    )
    if table is None:
        return text.rstrip("\n") + "\n\n[package.metadata.rust-image]\n" + "\n".join(new_lines) + "\n"
    _, start, end = table
    keys = "|".join(re.escape(k) for k in values)
    kept = [ln for ln in text[start:end].split("\n") if not re.match(rf'^\s*"?({keys})"?\s*=', ln)]
    body = "\n" + "\n".join(new_lines) + "\n".join(kept)
    if not body.endswith("\n"):
        body += "\n"
    return text[:start] + body + text[end:]


def edit_text(nonce: str) -> str:
    """What the source-only edit appends to the binary's main source file (a comment, unique per copy so
    no cache has seen the edited file)."""
    return f"\n{EDIT_MARK} {nonce}\n"
