"""Where a key is written in a TOML file, so that error messages can name the line.

``tomllib`` gives values, not positions. A plain scan of the lines finds the
usual spellings: ``key = ...`` under a ``[table]`` or ``[[array]]`` header, and
dotted keys (``package.name = ...``). Inline tables are not followed (then no
line is given), and multi-line strings or arrays are read as if they were lines
of their own: good enough for pointing at a line in a message, nothing more.
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def _dotted(raw: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in raw.split("."))


def key_line(text: str, dotted: str, nth: int = 0) -> int | None:
    """The 1-based line where ``dotted`` (``package.name``, or a header such as ``bin``) is written the
    ``nth`` time (0: the first), or ``None`` when the scan does not find it."""
    table = ""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            found = table == dotted
        else:
            key = _KEY.match(line)
            found = key is not None and ".".join(p for p in (table, _dotted(key.group(1))) if p) == dotted
        if found:
            if seen == nth:
                return number
            seen += 1
    return None


def file_key_line(path: Path, dotted: str, nth: int = 0) -> int | None:
    """:func:`key_line` for a file; ``None`` when the file cannot be read as text."""
    try:
        return key_line(path.read_text(encoding="utf-8"), dotted, nth)
    except (OSError, UnicodeDecodeError):
        return None
