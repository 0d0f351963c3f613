"""Sizes and tolerances: parsing what people write (budgets, percentages) and printing sizes for people.

Decimal units (kB, MB, GB) are powers of 1000, binary units (KiB, MiB, GiB)
powers of 1024. A bare number, or one with ``B``, is bytes. Ambiguous
suffixes such as ``M`` or ``k`` are refused rather than guessed.
"""

from __future__ import annotations

import math
import re

from pytest_rustimage.errors import ConfigError

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(value: object, *, what: str = "size") -> int:
    """Bytes in ``value``: an int (bytes) or a string like ``"25MiB"`` or ``"1.5 MB"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected a size such as '25MiB', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{what}: a size cannot be negative ({value})")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{what}: expected a size such as '25MiB' or a number of bytes, got {value!r}")
    match = _SIZE.match(value)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit and unit not in _UNITS):
        units = ", ".join(["B", "kB", "MB", "GB", "KiB", "MiB", "GiB"])
        raise ConfigError(f"{what}: cannot read {value!r} as a size; write a number with one of {units}")
    size = float(match.group(1)) * _UNITS[unit or "b"]
    if not math.isfinite(size):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ConfigError(f"{what}: {shown!r} is too large to be a size; write a number of bytes that fits")
    return round(size)


def format_size(n: int) -> str:
    """A short human form in binary units, e.g. ``1.2 MiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        limit = 1024 if unit == "B" else 1023.95  # what would print as 1024.0 moves up a unit
        if abs(size) < limit:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def parse_tolerance(value: str | float, *, what: str = "tolerance") -> float:
    """``"1%"``, ``"0.01"`` or ``0.01``: a relative size tolerance."""
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ConfigError(f"{what}: cannot read {value!r}; write e.g. '1%' or 0.01") from None
    if not 0 <= number < 1:
        raise ConfigError(f"{what}: {value!r} is not between 0% and 100%")
    return number
