"""The printable strings of two binaries that one has and the other lacks, paired and classified.

Strings are runs of at least :data:`MIN_STRING` printable ASCII characters, as ``strings`` finds
them. A string of one binary only is paired with the most similar one of the other where one looks
like it, and each is classified (:data:`StringKind`):

* ``symbol``: a name from a symbol table (``.strtab``, ``.dynstr``) or a mangled one (``_ZN...``,
  ``_R...``): functions emitted in one build only, or crate hashes (``17h<hex>E``) that differ, tell
  of different code generation or crate metadata, not of embedded text;
* ``toolchain``: a compiler's version or its commit in a path (``rustc version 1.95.0 (...)``,
  ``GCC: (Debian 12.2.0-14) 12.2.0``, ``/rustc/<commit>/library/...``); looked at before timestamps
  and paths, since a version string holds a date and a path that are not the build's;
* ``timestamp``: a date or a time (ISO 8601, C's ``__DATE__`` ``Dec  6 2026``, ``16:04:05``, RFC 2822,
  a 10-digit epoch number near ``now``);
* ``build path``: an absolute path (``/tmp/...``, ``/home/...``, ``/build/...``) or one containing a
  known build root the caller names;
* ``other``.

For a pair, what decides is the part that differs (a path that differs only in its date is a
timestamp). Rust packs its string constants without separators, so a run of printable bytes can take
in its neighbour: two strings that are the same text but for up to :data:`NEIGHBOUR` characters at
either end, classified ``other``, are that noise and are left out.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

StringKind = Literal["symbol", "toolchain", "timestamp", "build path", "other"]
KINDS: tuple[StringKind, ...] = ("symbol", "toolchain", "timestamp", "build path", "other")  # the order of priority

MIN_STRING = 6
NEIGHBOUR = 3  # characters a string may gain from its neighbour and still be the same text
PAIRED = 64  # one-sided strings per side that are tried for a pair (the pairing is quadratic)
EPOCH_WINDOW = 10 * 365 * 86400  # a 10-digit number this near ``now`` (seconds) reads as an epoch

_STRING = re.compile(rb"[\t\x20-\x7e]{%d,}" % MIN_STRING)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIMESTAMPS = (
    # ISO 8601: a date, with or without a time and zone
    re.compile(r"\d{4}-[01]\d-[0-3]\d(?:[T ][0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"),
    # C's __DATE__ ("Dec  6 2026"), with a weekday and a comma as RFC 2822 has it ("Sun, 6 Dec 2026")
    re.compile(rf"{_MONTH} [ 0-3]?\d \d{{4}}"),
    re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-3]?\d {_MONTH} \d{{4}}(?: [0-2]\d:[0-5]\d(?::[0-5]\d)?)?"),
    re.compile(r"(?<!\d)[0-2]\d:[0-5]\d:[0-5]\d(?!\d)"),  # C's __TIME__, and any clock time
)
_EPOCH = re.compile(r"(?<!\d)\d{10}(?!\d)")
_TOOLCHAIN = re.compile(r"rustc version \S+.*|GCC: \(.*|clang version \S+.*|LLVM version \S+|/rustc/[0-9a-f]{40}/")
_MANGLED = re.compile(r"_ZN[0-9A-Za-z_$.]+|_R[0-9A-Za-z_]+")
_SYMBOL_TABLES = (".strtab", ".dynstr")
_PATH = re.compile(r"(?<![\w.~-])/(?:[\w.+@~=-]+/)+[\w.+@~=-]*")

Span = tuple[int, int, StringKind]


@dataclass(frozen=True)
class StringDiff:
    """A string present in one binary and not the other (``a`` or ``b`` is ``None``), or two that look
    like each other's counterpart (both set); ``section``: where it is (``""`` when not ELF)."""

    kind: StringKind
    a: str | None
    b: str | None
    section: str = ""

    def describe(self, limit: int = 80) -> str:
        """Both sides quoted, shortened around the part that differs."""
        if self.a is not None and self.b is not None:
            start, end_a, end_b = differing_region(self.a, self.b)
            return f"{_quote(self.a, start, end_a, limit)} vs {_quote(self.b, start, end_b, limit)}"
        if self.a is not None:
            return f"{_quote(self.a, 0, 0, limit)} (only in a)"
        return f"{_quote(self.b or '', 0, 0, limit)} (only in b)"


def find_strings(sections: Mapping[str, tuple[bytes, bool]]) -> dict[str, str]:
    """Each printable string -> the section it is first found in, in file order; ``sections``: name ->
    (bytes, whether strings are read from it)."""
    found: dict[str, str] = {}
    for name, (data, readable) in sections.items():
        if readable:
            for match in _STRING.finditer(data):
                found.setdefault(match.group().decode("ascii"), name)
    return found


def _pair(
    only_a: Sequence[tuple[str, str]], only_b: Sequence[tuple[str, str]]
) -> list[tuple[str | None, str | None, str]]:
    """The one-sided strings, each paired with the most similar one of the other side when they are
    alike enough (the first :data:`PAIRED` of each side are tried), in the order of ``only_a``."""
    pairs: list[tuple[str | None, str | None, str]] = []
    free = dict(only_b[:PAIRED])
    for text, where in only_a:
        best, best_ratio = None, 0.6
        if len(pairs) < PAIRED:
            for other in free:
                matcher = difflib.SequenceMatcher(None, text[:200], other[:200], autojunk=False)
                if matcher.real_quick_ratio() > best_ratio and matcher.quick_ratio() > best_ratio:
                    ratio = matcher.ratio()
                    if ratio > best_ratio:
                        best, best_ratio = other, ratio
        if best is not None:
            del free[best]
        pairs.append((text, best, where))
    paired = {b for _, b, _ in pairs}
    pairs += [(None, text, where) for text, where in only_b if text not in paired]
    return pairs


def spans(text: str, roots: Sequence[str] = (), now: float | None = None) -> list[Span]:
    """Where in ``text`` a toolchain's mark, a timestamp or a build path is: (start, end, kind)."""
    clock = time.time() if now is None else now
    found: list[Span] = [(m.start(), m.end(), "toolchain") for m in _TOOLCHAIN.finditer(text)]
    for pattern in _TIMESTAMPS:
        found += [(m.start(), m.end(), "timestamp") for m in pattern.finditer(text)]
    found += [
        (m.start(), m.end(), "timestamp") for m in _EPOCH.finditer(text) if abs(int(m.group()) - clock) <= EPOCH_WINDOW
    ]
    found += [(m.start(), m.end(), "build path") for m in _PATH.finditer(text)]
    for root in roots:
        start = text.find(root)
        while start >= 0:
            found.append((start, start + len(root), "build path"))
            start = text.find(root, start + 1)
    return found


def classify(text: str, roots: Sequence[str] = (), now: float | None = None, section: str = "") -> StringKind:
    """The kind of a string found in one binary only (in ``section``, when known): ``symbol`` for a
    symbol table's or a mangled name, else the first of :data:`KINDS` it holds a mark of."""
    if section in _SYMBOL_TABLES or _MANGLED.fullmatch(text):
        return "symbol"
    kinds = {kind for _, _, kind in spans(text, roots, now)}
    return next((kind for kind in KINDS if kind in kinds), "other")


def _classify_pair(a: str | None, b: str | None, roots: Sequence[str], now: float, section: str = "") -> StringKind:
    """A pair's kind is that of the marks the differing part touches (on either side); a one-sided
    string's is :func:`classify`'s."""
    if a is None or b is None:
        return classify(a if a is not None else b or "", roots, now, section)
    if section in _SYMBOL_TABLES or (_MANGLED.fullmatch(a) and _MANGLED.fullmatch(b)):
        return "symbol"
    start, end_a, end_b = differing_region(a, b)
    touched = set()
    for text, end in ((a, end_a), (b, end_b)):
        low, high = (start, end) if end > start else (max(start - 1, 0), start + 1)
        touched |= {kind for s, e, kind in spans(text, roots, now) if s < high and e > low}
    return next((kind for kind in KINDS if kind in touched), "other")


def _neighbour_noise(pair: StringDiff) -> bool:
    """Whether a pair is one text with a neighbour's bytes taken in (see the module's docstring)."""
    if pair.kind != "other" or pair.a is None or pair.b is None:
        return False
    a, b = pair.a, pair.b
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    ends = (match.a, match.b, len(a) - match.a - match.size, len(b) - match.b - match.size)
    return match.size >= MIN_STRING and max(ends) <= NEIGHBOUR


def differing_region(a: str, b: str) -> tuple[int, int, int]:
    """The common prefix's length, and where the differing part ends in ``a`` and in ``b``."""
    start = len(_common_prefix(a, b))
    suffix = len(_common_prefix(a[start:][::-1], b[start:][::-1]))
    return start, len(a) - suffix, len(b) - suffix


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _quote(text: str, start: int, end: int, limit: int) -> str:
    """``text`` quoted; when longer than ``limit``, cut to a window around ``start:end`` with ``…``."""
    if len(text) <= limit:
        return repr(text)
    margin = max((limit - (end - start)) // 2, 8)
    low = max(0, min(start - margin, len(text) - limit))
    high = min(len(text), max(end + margin, low + limit))
    return repr(("…" if low else "") + text[low:high] + ("…" if high < len(text) else ""))


def string_diffs(
    strings_a: Mapping[str, str], strings_b: Mapping[str, str], roots: Sequence[str], now: float
) -> list[StringDiff]:
    """The strings (text -> section, from :func:`find_strings`) of one side only, paired and
    classified, neighbour noise left out, in the order of ``strings_a`` then ``strings_b``."""
    pairs = _pair(
        [(text, where) for text, where in strings_a.items() if text not in strings_b],
        [(text, where) for text, where in strings_b.items() if text not in strings_a],
    )
    found = [StringDiff(_classify_pair(x, y, roots, now, where), x, y, where) for x, y, where in pairs]
    return [s for s in found if not _neighbour_noise(s)]
