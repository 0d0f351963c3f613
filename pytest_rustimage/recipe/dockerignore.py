"""What ``.dockerignore`` leaves out of a build context: its patterns, read the way the engines read them.

``*`` and ``?`` stay within a folder, ``**`` crosses folders, a pattern matches a path or any folder
above it, and the last pattern that matches decides (``!`` brings a path back). The plugin's own
contexts leave out more (:func:`is_excluded`): ``target/``, ``.git`` and ``.pytest_cache`` at the
top, for good, every ``.env*`` file or folder at any depth unless a ``!`` pattern spells out its
``.env`` name, and the files this session writes (its reports, CycloneDX folder, size baseline, JUnit
file: :func:`leave_out`), which are outputs of a run, never inputs of a build: a report written into the
crate's folder must not give the next run's image a new tag. An engine sending a folder applies the
patterns alone (:func:`engine_excluded`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

ALWAYS_EXCLUDED = ("target", ".git", ".pytest_cache")  # pytest rewrites its cache dir at every run
SECRET_PREFIX = ".env"  # .env, .env.local, .envrc ...: left out at any depth unless a `!` pattern names them


_OUTPUTS: list[Path] = []  # the session's own output files and folders, absolute (see leave_out)


def leave_out(paths: Sequence[Path]) -> None:
    """The files and folders this session writes (set once per session, replacing what was set)."""
    _OUTPUTS[:] = [Path(os.path.abspath(path)) for path in paths]


def outputs_below(root: Path) -> tuple[str, ...]:
    """The session's outputs inside ``root``, as patterns relative to it (anchored, so only those paths)."""
    top = Path(os.path.abspath(root))
    inside = [path for path in _OUTPUTS if path.is_relative_to(top) and path != top]
    return tuple(f"/{path.relative_to(top).as_posix()}" for path in inside)


def read_dockerignore(root: Path) -> tuple[str, ...]:
    path = root / ".dockerignore"
    if not path.is_file():
        return ()
    patterns = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return tuple(patterns)


def _normalise(pattern: str) -> str:
    return pattern.strip().removeprefix("./").strip("/")


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern as a regex: ``*`` and ``?`` stay within a folder, ``**`` crosses folders."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    # a pattern matches the path itself or any folder above it
    return re.compile("".join(out) + "(?:/.*)?")


def _matches(pattern: str, rel: str) -> bool:
    return _regex(_normalise(pattern)).fullmatch(rel) is not None


def is_secret(rel: str) -> bool:
    """Whether ``rel`` is, or lies in, a ``.env*`` file or folder."""
    return any(part.startswith(SECRET_PREFIX) for part in rel.split("/"))


def _names_secret(pattern: str) -> bool:
    """Whether a pattern spells out a ``.env`` name (not only matches one through a wildcard)."""
    return any(part.startswith(SECRET_PREFIX) for part in _normalise(pattern).split("/"))


def is_excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Whether ``rel`` (a posix path relative to the root) is left out, ``.dockerignore``-style."""
    top = rel.split("/", 1)[0]
    if top in ALWAYS_EXCLUDED:
        return True
    secret = is_secret(rel)
    excluded = secret
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        if _matches(body, rel) and not (negate and secret and not _names_secret(body)):
            excluded = not negate
    return excluded


def engine_excluded(rel: str, patterns: Sequence[str]) -> bool:
    """Docker's own rule: the last ``.dockerignore`` pattern that matches decides."""
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if _matches(pattern[1:] if negate else pattern, rel):
            excluded = not negate
    return excluded


def negated_below(rel_dir: str, patterns: Sequence[str]) -> bool:
    top = rel_dir.split("/", 1)[0]
    return top not in ALWAYS_EXCLUDED and any(
        p.startswith("!") and _normalise(p[1:]).startswith(rel_dir + "/") for p in patterns
    )
