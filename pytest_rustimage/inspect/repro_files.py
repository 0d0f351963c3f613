"""Two images' file listings compared, leaving out what engines stamp on their own.

The caller fills a :class:`FileEntry` per path of each image (the merged tree a container sees): its
kind, size, mode, link target and a content digest. :class:`~pytest_rustimage.inspect.imagefs.ImageFs`
keeps neither modes nor the bytes of most files, so its listing (:func:`entries_from_fs`) has no mode
and a digest only for the files it kept; a field that one side does not know (``None``) is not
compared, and files of one size whose contents were not compared are named in
:attr:`FileDiff.unchecked`, never counted as the same.

Not compared, because an engine writes them whatever the Dockerfile says:

* modification times: a :class:`FileEntry` has none. Every ``RUN`` and ``COPY`` stamps the time of
  the build unless ``SOURCE_DATE_EPOCH``/``--timestamp`` rewrites it, and the two engines do that
  differently;
* :data:`ENGINE_FILES`: files an engine mounts into each ``RUN`` container and may leave in the layer
  (see there), and a folder present on one side only that holds nothing but such files (``/etc`` or
  ``/run`` made just to hold them).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pytest_rustimage.inspect.imagefs import ImageFs, Kind

# Both engines bind-mount the container's own /etc/hostname, /etc/hosts and /etc/resolv.conf into
# every RUN step; when the base image has none, they create an empty file as the mount point and that
# file can be committed with the layer (its content and time are the build host's, never the
# Dockerfile's). Docker creates /.dockerenv in each container it runs, Podman and Buildah create
# /run/.containerenv: markers of "running in a container", not part of what was built. Buildah also
# mounts the host's default mounts (mounts.conf, e.g. RHEL subscription secrets) at /run/secrets,
# whose mount point can stay behind as an empty folder.
ENGINE_FILES = frozenset(
    {
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/.dockerenv",
        "/run/.containerenv",
        "/run/secrets",
    }
)
SHOWN = 10  # paths shown per list in the message


@dataclass(frozen=True)
class FileEntry:
    """One path of an image as compared: ``path`` absolute; ``kind`` file, link, dir or other;
    ``size`` in bytes (a link's: its target's length); ``mode`` the permission bits (``0o755``) or
    ``None`` when unknown; ``link`` a symbolic link's target as stored; ``digest`` of a file's bytes
    (any one algorithm for both sides, e.g. ``sha256:<hex>``) or ``None`` when not read."""

    path: str
    kind: Kind
    size: int = 0
    mode: int | None = None
    link: str = ""
    digest: str | None = None


@dataclass(frozen=True)
class FileChange:
    """A path in both images whose entries differ in ``fields`` (kind, size, mode, link, digest)."""

    path: str
    fields: tuple[str, ...]
    a: FileEntry
    b: FileEntry

    def describe(self) -> str:
        """``/usr/local/bin/hello: size 10 vs 12, content (digest) differs``."""
        parts = []
        for name in self.fields:
            left, right = getattr(self.a, name), getattr(self.b, name)
            if name == "digest":
                parts.append(f"content differs ({_short(left)} vs {_short(right)})")
            elif name == "mode":
                parts.append(f"mode {left:o} vs {right:o}")
            else:
                parts.append(f"{name} {left!r} vs {right!r}" if name == "link" else f"{name} {left} vs {right}")
        return f"{self.path}: " + ", ".join(parts)


@dataclass(frozen=True)
class FileDiff:
    """Two listings compared: paths in one only, changed paths, paths left out as engines' own
    (:data:`ENGINE_FILES`), and files of one size in both whose contents were not compared."""

    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    changed: tuple[FileChange, ...]
    ignored: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()

    @property
    def identical(self) -> bool:
        """No difference found (see :attr:`unchecked` for what could not be compared)."""
        return not (self.only_a or self.only_b or self.changed)


def compare_files(a: Iterable[FileEntry], b: Iterable[FileEntry]) -> FileDiff:
    """Compare two images' listings (see the module's docstring for what is left out)."""
    left, right = _by_path(a), _by_path(b)
    ignored = {p for p in (*left, *right) if p in ENGINE_FILES}
    for side, other in ((left, right), (right, left)):
        ignored |= {p for p, e in side.items() if p not in other and e.kind == "dir" and _holds_only(side, p, ignored)}
    only_a = tuple(sorted(p for p in left if p not in right and p not in ignored))
    only_b = tuple(sorted(p for p in right if p not in left and p not in ignored))
    changed: list[FileChange] = []
    unchecked: list[str] = []
    for path in sorted(set(left) & set(right) - ignored):
        x, y = left[path], right[path]
        fields = [name for name in ("kind", "size", "link") if getattr(x, name) != getattr(y, name)]
        fields += [name for name in ("mode", "digest") if None not in (getattr(x, name), getattr(y, name))]
        fields = [name for name in fields if getattr(x, name) != getattr(y, name)]
        if fields:
            changed.append(FileChange(path, tuple(fields), x, y))
        elif x.kind == "file" and None in (x.digest, y.digest):
            unchecked.append(path)
    return FileDiff(only_a, only_b, tuple(changed), tuple(sorted(ignored)), tuple(unchecked))


def _by_path(entries: Iterable[FileEntry]) -> dict[str, FileEntry]:
    return {_absolute(e.path): e for e in entries}


def _absolute(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path.strip("/") else "/"


def _holds_only(side: Mapping[str, FileEntry], folder: str, ignored: set[str]) -> bool:
    """Whether every path under ``folder`` is ignored (and there is at least one)."""
    below = [p for p in side if p.startswith(folder.rstrip("/") + "/")]
    return bool(below) and all(p in ignored or (side[p].kind == "dir" and _holds_only(side, p, ignored)) for p in below)


def _short(digest: str | None) -> str:
    return (digest or "none").split(":")[-1][:12]


def entries_from_fs(fs: ImageFs) -> list[FileEntry]:
    """The listing of an :class:`ImageFs`: kind, size and link of every path; a ``sha256:`` digest of
    the files whose bytes it kept (its ``keep`` decides which), none for the rest; no modes."""
    entries = []
    for path in fs.paths():
        node = fs.node(path)
        if node is None:
            continue
        digest = "sha256:" + hashlib.sha256(node.data).hexdigest() if node.data is not None else None
        entries.append(FileEntry(path, node.kind, node.size, None, node.target, digest))
    return entries


def describe_files(diff: FileDiff, labels: tuple[str, str] = ("a", "b")) -> list[str]:
    """The lines that tell ``diff``: paths in one image only, changed paths (at most :data:`SHOWN` of
    each), and what was not compared."""
    if diff.identical:
        lines = ["The images' files are the same" + (" (mtimes and engine files aside)." if diff.ignored else ".")]
    else:
        lines = ["The images' files differ:"]
        for label, paths in ((labels[0], diff.only_a), (labels[1], diff.only_b)):
            if paths:
                more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
                lines.append(f"  only in {label} ({len(paths)}): {', '.join(paths[:SHOWN])}{more}")
        if diff.changed:
            lines.append(f"  changed ({len(diff.changed)}):")
            lines += [f"    {change.describe()}" for change in diff.changed[:SHOWN]]
            if len(diff.changed) > SHOWN:
                lines.append(f"    and {len(diff.changed) - SHOWN} more")
    if diff.unchecked:
        more = " ..." if len(diff.unchecked) > 3 else ""
        names = ", ".join(diff.unchecked[:3])
        count = "1 file" if len(diff.unchecked) == 1 else f"{len(diff.unchecked)} files"
        lines.append(f"  {count} of equal size had no digest to compare: {names}{more}")
    return lines
