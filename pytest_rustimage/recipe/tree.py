"""Making a folder hold exactly a given set of files, copying only what differs.

Build contexts are kept in stable folders and updated in place, so BuildKit, which remembers what it
received from a folder, sends only what changed, and nothing is copied twice. A file is the same when
its size, modification time (copies keep it) and mode are; a link when its target is. As git does
with its index, a file modified around or after the previous update is copied whatever its time
says: an edit in the same clock tick as that update would otherwise look unchanged. When that
update was is kept beside the folder (``.NAME.synced``).

A file is never written in place: what differs is removed first and made anew. So a folder may hold
hard links to files that must not change (``link``: the vendored sources kept in the cache), and no
update writes through them.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

RACY_MARGIN = 2.0  # seconds: file systems whose times are coarse (2 s on FAT) still count


def files_of(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file and link under ``root`` (links not followed), as (relative path, path)."""
    for folder, dirs, names in os.walk(root):
        base = Path(folder)
        for name in names + [d for d in dirs if (base / d).is_symlink()]:
            path = base / name
            yield path.relative_to(root).as_posix(), path


def sync(
    entries: Iterable[tuple[str, Path]],
    dest: Path,
    *,
    keep: Collection[str] = (),
    on_error: Callable[[str, OSError], Exception] | None = None,
    link: bool = False,
) -> int:
    """Make ``dest`` hold exactly ``entries`` (relative path, source) and the top-level names in
    ``keep``; returns how many files it copied. ``on_error`` turns a failed copy into the error to raise.
    ``link``: a file is a hard link to its source where the file system allows (else a copy), for
    sources that never change: nothing may write into them, as nothing here writes into a file."""
    stamp = dest.parent / f".{dest.name}.synced"
    started = time.time()
    try:
        racy = stamp.stat().st_mtime - RACY_MARGIN  # files changed since then may look the same
    except OSError:
        racy = None
    dest.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    copied = 0
    linking = [link]  # until the first link that fails (another file system): copies after it
    made: set[str] = {"."}  # folders this sync has made sure of
    real: set[str] = {"."}  # folders of dest seen to be no link (what is below one may be anywhere)
    for rel, source in entries:
        wanted.add(rel)
        target = dest / rel
        try:
            fresh = racy is None or source.is_symlink() or source.lstat().st_mtime < racy
            if not under_link(dest, target, real) and _same(source, target) and fresh:
                continue
            # the folders first: a link where one must be is replaced, so nothing is removed through it
            _make_parents(dest, target, made)
            _remove(target)
            if source.is_symlink():
                target.symlink_to(os.readlink(source))
            elif not (linking[0] and _linked(source, target, linking)):
                shutil.copy2(source, target)
            copied += 1
        except OSError as exc:
            if on_error is None:
                raise
            raise on_error(rel, exc) from exc
    _prune(dest, wanted, set(keep))
    stamp.touch()
    os.utime(stamp, (started, started))
    return copied


def _linked(source: Path, target: Path, linking: list[bool]) -> bool:
    """Whether ``target`` was made a hard link to ``source``; a failure turns linking off for the sync."""
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        linking[0] = False
        return False
    return True


def _make_parents(dest: Path, target: Path, made: set[str]) -> None:
    """The folders above ``target``, replacing a file or link that stands where one must be; those in
    ``made`` (relative to ``dest``) are folders already, and the others are added to it."""
    for parent in reversed(target.relative_to(dest).parents):
        if (rel := parent.as_posix()) in made:
            continue
        folder = dest / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        folder.mkdir(exist_ok=True)
        made.add(rel)


def _same(source: Path, target: Path) -> bool:
    try:
        there = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    here = source.lstat()
    if stat.S_ISLNK(here.st_mode) or stat.S_ISLNK(there.st_mode):
        return stat.S_ISLNK(here.st_mode) and stat.S_ISLNK(there.st_mode) and os.readlink(source) == os.readlink(target)
    return (
        stat.S_ISREG(there.st_mode)
        and here.st_size == there.st_size
        and here.st_mtime_ns == there.st_mtime_ns
        and stat.S_IMODE(here.st_mode) == stat.S_IMODE(there.st_mode)
    )


def _remove(target: Path) -> None:
    if not os.path.lexists(target.parent):
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def _prune(dest: Path, wanted: set[str], keep: set[str]) -> None:
    """Remove what ``dest`` holds beyond ``wanted`` (and its folders), leaving the names in ``keep``."""
    folders = {rel.rsplit("/", 1)[0] for rel in wanted if "/" in rel}
    folders |= {"/".join(f.split("/")[:i]) for f in set(folders) for i in range(1, f.count("/") + 1)}
    for folder, dirs, names in os.walk(dest, topdown=True):
        base = Path(folder)
        for name in list(dirs) + names:
            path = base / name
            rel = path.relative_to(dest).as_posix()
            if rel.split("/")[0] in keep:
                if name in dirs and base == dest:
                    dirs.remove(name)
                continue
            if rel in wanted or (name in dirs and rel in folders and not path.is_symlink()):
                continue
            if name in dirs:
                dirs.remove(name)
            _remove(path)


def prune_beyond(dest: Path, wanted: set[str]) -> None:
    """Remove what ``dest`` holds beyond the relative paths in ``wanted`` (and their folders)."""
    _prune(dest, wanted, set())


def make_room(dest: Path, target: Path) -> None:
    """Clear the way for a new entry at ``target`` under ``dest``: its folders made (a file or link where
    one must be is replaced, never above ``dest``), then what stands at ``target`` removed."""
    _make_parents(dest, target, set())
    _remove(target)


def under_link(dest: Path, target: Path, real: set[str]) -> bool:
    """Whether a folder between ``dest`` and ``target`` is a symbolic link (an earlier copy's: the
    source's folder was a link then), so that ``target``'s path leads out of ``dest``; ``real`` holds
    the folders (relative to ``dest``) already seen to be none, and gets those seen now."""
    for parent in reversed(target.relative_to(dest).parents):
        rel = parent.as_posix()
        if rel in real:
            continue
        if (dest / parent).is_symlink():
            return True
        real.add(rel)
    return False
