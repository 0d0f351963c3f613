"""The size baseline: committed image sizes, and the gate that compares a new size with them.

The file holds one size per image, keyed ``CRATE/STRATEGY/ENGINE``. It is
JSON with sorted keys, two-space indents and a final newline, so that it
diffs well and two updates of the same sizes write the same bytes.

An image may grow by the tolerance before it fails: the larger of a
relative part (default 5%) and an absolute floor (default 512 KiB), since a
pure percentage is noise on small images. Shrinking never fails; it is
reported. An image without an entry passes and says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pytest_rustimage.build.spec import ImageSpec
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.units import format_size

FORMAT = 1
DEFAULT_RELATIVE = 0.05
DEFAULT_ABSOLUTE = 512 * 1024
Status = Literal["new", "same", "grew", "shrank", "over"]


def key(crate: str, strategy: str, engine: str) -> str:
    """An image's entry in the baseline: ``CRATE/STRATEGY/ENGINE``."""
    return f"{crate}/{strategy}/{engine}"


def baseline_key(spec: ImageSpec) -> str:
    """The entry of the image ``spec`` describes."""
    return key(spec.crate.name, spec.strategy, spec.engine)


@dataclass(frozen=True)
class Tolerance:
    relative: float = DEFAULT_RELATIVE
    absolute: int = DEFAULT_ABSOLUTE

    def allowed(self, baseline: int) -> int:
        """Bytes an image of ``baseline`` bytes may grow before the gate fails."""
        return max(round(baseline * self.relative), self.absolute)


@dataclass(frozen=True)
class SizeVerdict:
    key: str
    size: int
    baseline: int | None
    allowed: int | None

    @property
    def change(self) -> int | None:
        return None if self.baseline is None else self.size - self.baseline

    @property
    def status(self) -> Status:
        if self.baseline is None or self.allowed is None:
            return "new"
        change = self.size - self.baseline
        if change > self.allowed:
            return "over"
        return "grew" if change > 0 else "shrank" if change < 0 else "same"

    @property
    def failed(self) -> bool:
        return self.status == "over"

    def change_text(self) -> str:
        """``+1.2 MiB (+4.1%)``, ``-20 B (-0.0%)``, ``=`` or ``new``."""
        if self.baseline is None or self.change is None:
            return "new"
        if self.change == 0:
            return "="
        sign = "+" if self.change > 0 else "-"
        percent = 100 * self.change / self.baseline if self.baseline else 0.0
        return f"{sign}{format_size(abs(self.change))} ({percent:+.1f}%)"

    def message(self) -> str:
        if self.baseline is None:
            return (
                f"{self.key}: no baseline entry yet ({format_size(self.size)}); --rust-image-update-baseline records it"
            )
        text = (
            f"{self.key}: {format_size(self.size)} ({self.size} bytes) against a baseline of "
            f"{format_size(self.baseline)} ({self.baseline} bytes): {self.change_text()}"
        )
        if self.failed:
            assert self.allowed is not None
            text += (
                f", more than the {format_size(self.allowed)} allowed. Make the image smaller, or accept the new "
                "size with --rust-image-update-baseline and commit the baseline file."
            )
        return text


def judge(image_key: str, size: int, baseline: Mapping[str, int], tolerance: Tolerance) -> SizeVerdict:
    before = baseline.get(image_key)
    return SizeVerdict(image_key, size, before, None if before is None else tolerance.allowed(before))


FILE_KEYS = ("format", "images")
ENTRY_KEYS = ("size",)


def load(path: Path) -> dict[str, int]:
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
    sizes: dict[str, int] = {}
    for name, entry in images.items():
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ConfigError(f"{path}: entry {name!r} has no size in bytes")
        _known(path, f"entry {name!r}", entry, ENTRY_KEYS)
        sizes[str(name)] = size
    return sizes


def _known(path: Path, where: str, data: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    unknown = sorted(str(k) for k in data if k not in keys)
    if unknown:
        raise ConfigError(
            f"{path}: {where} has unknown key(s) {', '.join(map(repr, unknown))}; known keys: {', '.join(keys)} "
            "(the file is not rewritten while it holds keys the plugin would drop)"
        )


def dump(sizes: Mapping[str, int]) -> str:
    """The file's text: stable, sorted, diff-friendly."""
    images = {name: {"size": sizes[name]} for name in sorted(sizes)}
    return json.dumps({"format": FORMAT, "images": images}, indent=2, sort_keys=True) + "\n"


def update(path: Path, measured: Mapping[str, int]) -> dict[str, int]:
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
