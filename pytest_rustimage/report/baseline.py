"""The size baseline: committed image sizes, and the gate that compares a new size with them.

The file holds one entry per image, keyed ``CRATE/STRATEGY/ENGINE``: the image's total size, its
**own bytes** (the layers above the runtime base: the binary and whatever the Dockerfile adds; the
whole image on ``scratch``) and the base it stood on (name, image id, bytes). It is JSON with sorted
keys, two-space indents and a final newline, so that it diffs well and two updates of the same sizes
write the same bytes.

The gate applies to the own bytes: they may grow by the tolerance before the check fails, the larger
of a relative part (default 5%) and an absolute floor (default 512 KiB), since a pure percentage is
noise on small images. A change of base is shown apart (``base changed: X -> Y, +N MiB``) and gated,
with the same tolerance on the base's bytes, only under ``rust_image_gate_base = true``. Shrinking
never fails; it is reported. An image without an entry passes and says so. An entry of format 1 (a
size alone) is gated on the whole image, as it was, until the next update writes it in format 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.units import format_size

FORMAT = 2
DEFAULT_RELATIVE = 0.05
DEFAULT_ABSOLUTE = 512 * 1024
Status = Literal["new", "same", "grew", "shrank", "over"]


def key(crate: str, strategy: str, engine: str) -> str:
    """An image's entry in the baseline: ``CRATE/STRATEGY/ENGINE``."""
    return f"{crate}/{strategy}/{engine}"


def baseline_key(spec: ImageSpec) -> str:
    """The entry of the image ``spec`` describes."""
    crate = f"{spec.crate.name}:{spec.binary.name}" if spec.named_binary else spec.crate.name
    return key(crate, spec.strategy, spec.engine)


@dataclass(frozen=True)
class Tolerance:
    relative: float = DEFAULT_RELATIVE
    absolute: int = DEFAULT_ABSOLUTE

    def allowed(self, baseline: int) -> int:
        """Bytes an image of ``baseline`` bytes may grow before the gate fails."""
        return max(round(baseline * self.relative), self.absolute)


@dataclass(frozen=True)
class Entry:
    """One image in the baseline: its total size, own bytes and base (the last three None in format 1)."""

    size: int
    own: int | None = None
    base: str | None = None
    base_id: str | None = None
    base_size: int | None = None


def _change(now: int, before: int) -> str:
    change = now - before
    if change == 0:
        return "="
    sign = "+" if change > 0 else "-"
    percent = 100 * change / before if before else 0.0
    return f"{sign}{format_size(abs(change))} ({percent:+.1f}%)"


@dataclass(frozen=True)
class SizeVerdict:
    key: str
    size: int
    baseline: int | None
    allowed: int | None  # bytes the gated part (own bytes, or the whole image for a format-1 entry) may grow
    own: int | None = None
    baseline_own: int | None = None  # None: no entry, or a format-1 entry (gated on the whole image)
    base: str = ""
    base_id: str = ""
    base_size: int = 0
    baseline_base: str | None = None
    baseline_base_id: str | None = None
    baseline_base_size: int | None = None
    base_allowed: int | None = None  # set only under rust_image_gate_base
    base_known: bool = True  # False: the engine did not hold the base, so the own bytes were not measured

    def measured(self) -> Entry:
        """The entry the baseline records for this image under --rust-image-update-baseline."""
        return Entry(self.size, self.own, self.base or None, self.base_id, self.base_size)

    @property
    def gated(self) -> tuple[int, int] | None:
        """(now, before) of what the gate compares: the own bytes, or the whole image for a format-1 entry."""
        if self.baseline is None:
            return None
        if self.own is not None and self.baseline_own is not None:
            return self.own, self.baseline_own
        return self.size, self.baseline

    @property
    def change(self) -> int | None:
        """The change of what is gated (own bytes, as the summary shows it)."""
        gated = self.gated
        return None if gated is None else gated[0] - gated[1]

    @property
    def base_changed(self) -> bool:
        if not self.base_known:
            return False  # cannot be told; the message says why, and the whole image is gated
        return self.baseline_base is not None and (self.baseline_base, self.baseline_base_id) != (
            self.base,
            self.base_id,
        )

    @property
    def base_change(self) -> int:
        return self.base_size - (self.baseline_base_size or 0) if self.base_changed else 0

    @property
    def status(self) -> Status:
        change = self.change
        if change is None or self.allowed is None:
            return "new"
        if change > self.allowed or (self.base_allowed is not None and self.base_change > self.base_allowed):
            return "over"
        return "grew" if change > 0 else "shrank" if change < 0 else "same"

    @property
    def failed(self) -> bool:
        return self.status == "over"

    def change_text(self) -> str:
        """``+1.2 MiB (+4.1%)``, ``-20 B (-0.0%)``, ``=`` or ``new``: of the own bytes when known."""
        gated = self.gated
        return "new" if gated is None else _change(*gated)

    def base_text(self) -> str:
        """``base changed: X -> Y, +N MiB``, or "" when the base stayed."""
        if not self.base_changed:
            return ""
        sign = "+" if self.base_change >= 0 else "-"
        before = self.baseline_base or "?"
        same_name = before == self.base
        old = f"{before}@{(self.baseline_base_id or '')[7:19]}" if same_name else before
        new = f"{self.base}@{self.base_id[7:19]}" if same_name else self.base
        return f"base changed: {old} -> {new}, {sign}{format_size(abs(self.base_change))}"

    def message(self) -> str:
        if self.baseline is None:
            return (
                f"{self.key}: no baseline entry yet ({format_size(self.size)}); --rust-image-update-baseline records it"
            )
        now, before = self.gated or (self.size, self.baseline)
        whole = self.own is None or self.baseline_own is None or (self.base_size == 0 and not self.baseline_base_size)
        what = "" if whole else "own bytes (above the base) "
        text = (
            f"{self.key}: {what}{format_size(now)} ({now} bytes) against a baseline of "
            f"{format_size(before)} ({before} bytes): {self.change_text()}"
        )
        if not whole:
            text += f"; the whole image {format_size(self.size)}: {_change(self.size, self.baseline)}"
        if self.base_changed:
            text += f"; {self.base_text()}" + ("" if self.base_allowed is not None else " (not gated)")
        if not self.base_known:
            text += (
                f"; the base {self.base} is not in the engine, so its layers cannot be told from the project's: "
                "the whole image is gated"
            )
        if self.failed:
            assert self.allowed is not None
            over_base = self.base_allowed is not None and self.base_change > self.base_allowed
            limit = self.base_allowed if over_base else self.allowed
            assert limit is not None
            text += (
                f", more than the {format_size(limit)} allowed"
                + (" for a change of base (rust_image_gate_base)" if over_base else "")
                + ". Make the image smaller, or accept the new size with --rust-image-update-baseline and commit "
                "the baseline file."
            )
        return text


def entry_of(size: int, own: int | None, base: str, base_id: str) -> Entry:
    """What the baseline records of an image measured now (its size alone when the own bytes are unknown)."""
    return Entry(size, own, base, base_id, None if own is None else size - own)


def judge(
    image_key: str, measured: Entry, baseline: Mapping[str, Entry], tolerance: Tolerance, gate_base: bool = False
) -> SizeVerdict:
    """The verdict on an image ``measured`` now against its entry in ``baseline``."""
    before = baseline.get(image_key)
    gated_before = None if before is None else (before.own if before.own is not None else before.size)
    base_allowed = None
    if gate_base and before is not None and before.base_size is not None:
        base_allowed = tolerance.allowed(before.base_size)
    return SizeVerdict(
        image_key,
        measured.size,
        None if before is None else before.size,
        None if gated_before is None else tolerance.allowed(gated_before),
        own=measured.own,
        baseline_own=None if before is None else before.own,
        base=measured.base or "",
        base_id=measured.base_id or "",
        base_size=measured.base_size or 0,
        baseline_base=None if before is None else before.base,
        baseline_base_id=None if before is None else before.base_id,
        baseline_base_size=None if before is None else before.base_size,
        base_allowed=base_allowed,
        base_known=measured.own is not None,
    )


FILE_KEYS = ("format", "images")
ENTRY_KEYS = ("size", "own", "base")
BASE_KEYS = ("name", "id", "size")


def load(path: Path) -> dict[str, Entry]:
    """The sizes in a baseline file; an absent file is an empty baseline.

    Hand edits are checked: invalid JSON is refused with its line, a key the plugin does not know
    (in the file or in an entry) is refused by name, since writing the file back would drop it.
    """
    if not path.exists():
        return {}
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
            "fix the file by hand or delete it and record the sizes again with --rust-image-update-baseline"
        ) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable baseline file: {exc}") from exc
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict):
        raise ConfigError(f'{path}: a baseline file is {{"format": {FORMAT}, "images": {{...}}}}')
    _known(path, "the file", data, FILE_KEYS)
    written = data.get("format", FORMAT)
    if not isinstance(written, int) or isinstance(written, bool) or written > FORMAT:
        raise ConfigError(f"{path}: baseline format {written!r} is not one this plugin reads (it reads 1 to {FORMAT})")
    entries: dict[str, Entry] = {}
    for name, entry in images.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        if not _bytes(size):
            raise ConfigError(f"{path}: entry {name!r} has no size in bytes")
        _known(path, f"entry {name!r}", entry, ENTRY_KEYS)
        entries[str(name)] = _entry(path, str(name), entry)
    return entries


def _bytes(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(path: Path, name: str, entry: Mapping[str, Any]) -> Entry:
    """An entry of format 2 (size, own, base) or 1 (size alone; own and base stay None)."""
    if "own" not in entry and "base" not in entry:
        return Entry(int(entry["size"]))
    own, base = entry.get("own"), entry.get("base")
    if not _bytes(own) or not isinstance(base, dict):
        raise ConfigError(f'{path}: entry {name!r} needs both "own" (bytes) and "base" ({{"name", "id", "size"}})')
    _known(path, f"entry {name!r} base", base, BASE_KEYS)
    if not isinstance(base.get("name"), str) or not isinstance(base.get("id"), str) or not _bytes(base.get("size")):
        raise ConfigError(f'{path}: entry {name!r} base needs "name" and "id" (strings) and "size" (bytes)')
    return Entry(int(entry["size"]), int(str(own)), str(base["name"]), str(base["id"]), int(base["size"]))


def _known(path: Path, where: str, data: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise ConfigError(
            f"{path}: {where} has unknown key(s) {', '.join(map(repr, unknown))}; known keys: {', '.join(keys)} "
            "(the file is not rewritten while it holds keys the plugin would drop)"
        )


def _record(entry: Entry) -> dict[str, Any]:
    if entry.own is None:
        return {"size": entry.size}  # a format-1 entry this run did not measure stays as it was
    base = {"name": entry.base, "id": entry.base_id, "size": entry.base_size}
    return {"size": entry.size, "own": entry.own, "base": base}


def dump(entries: Mapping[str, Entry]) -> str:
    """The file's text: stable, sorted, diff-friendly."""
    images = {name: _record(entries[name]) for name in sorted(entries)}
    return json.dumps({"format": FORMAT, "images": images}, indent=2, sort_keys=True) + "\n"


def update(path: Path, measured: Mapping[str, Entry]) -> dict[str, Entry]:
    """Write ``measured`` over the entries already in ``path``; returns the whole new baseline.

    The file is never left holding less than it did: a file that cannot be read is not written
    (:func:`load` raises first), entries this run did not measure stay, and the new text replaces the
    old in one rename, so an interrupted write leaves the old file whole.
    """
    sizes = {**load(path), **measured}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(dump(sizes), encoding="utf-8")
    os.replace(temporary, path)
    return sizes
