"""The user's own folders that outlive a run, and writing files in them.

What the plugin measures or makes once per machine (cache verdicts, vendored sources, build contexts,
facts about layers) lives in the cache folder (:func:`cache_folder`); the build locks live in a
folder of the temp dir (:func:`pytest_rustimage.locks.lock_folder`). Each is made private to the user
and checked (:func:`private_folder`): whoever could write there could hold this user's builds, plant
links or forge what the plugin reads back. Files there are written with :func:`write_private`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from pathlib import Path

from pytest_rustimage.errors import RustImageError


class FolderError(RustImageError):
    """A private folder (locks, cache) cannot be made or is not safe to use, or a file in it cannot be written."""


def cache_folder(part: str) -> Path:
    """A folder of the user's cache that outlives runs, for what is measured or made once per machine
    (cache verdicts): ``$RUST_IMAGE_CACHE_DIR/PART``, else ``$XDG_CACHE_HOME/pytest-rustimage/PART``
    (``~/.cache/...``). Private to the user, as the lock folder."""
    root = os.environ.get("RUST_IMAGE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pytest-rustimage"
    )
    private_folder(Path(root), "cache folder", "RUST_IMAGE_CACHE_DIR")
    return private_folder(Path(root) / part, "cache folder", "RUST_IMAGE_CACHE_DIR")


def private_folder(path: Path, what: str, variable: str) -> Path:
    """``path``, made if missing (mode 0700); refused unless it is a folder of this user's that only
    this user can write to (``what`` names it, ``variable`` is the setting that moves it)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise FolderError(f"cannot make the {what} {path}: {exc}; set {variable}") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise FolderError(
            f"the {what} {path} is not a folder of yours that only you can write to; remove it, "
            f"or set {variable} to one"
        )
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (mode 0600, never through a link), whole or not at all: it is written
    to a file of its own beside it, then renamed over it, so a reader (another process) sees the old
    text or the new, never a part."""
    part = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(part, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise FolderError(f"cannot write {path}: {exc}") from exc
