"""One build per image at a time, across xdist workers and concurrent runs on this machine.

A build holds an exclusive ``flock`` on a file named after the engine and the
image tag. Every process that would build the same image (an xdist worker of
the same run, or another run on the same crate) waits for it, then finds the
tag made and reuses it. The files live in one per-user folder of the system
temp dir rather than in a run's own temp folder: concurrent runs must share
them too. The kernel drops a lock when its holder dies, so an interrupted or
killed run never leaves a stale lock behind. The folder is checked as the cache folder is
(:func:`pytest_rustimage.folders.private_folder`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.folders import FolderError, private_folder, write_private

POLL = 0.5  # seconds between attempts while another process builds
NOTICE = 30.0  # seconds between "still waiting" lines


class LockTimeout(RustImageError):
    """Another process held the build lock for longer than this one may wait."""


class LockFolderError(FolderError):
    """A lock file in the lock folder cannot be opened."""


def lock_folder() -> Path:
    """The folder that every run of this user shares for build locks (``RUST_IMAGE_LOCK_DIR`` overrides).

    Made private to the user (mode 0700); refused when someone else owns it, since whoever can write
    there can hold this user's builds or plant links."""
    folder = os.environ.get("RUST_IMAGE_LOCK_DIR") or os.path.join(
        tempfile.gettempdir(), f"pytest-rustimage-locks-{os.getuid()}"
    )
    return private_folder(Path(folder), "build lock folder", "RUST_IMAGE_LOCK_DIR")


def lock_path(folder: Path, endpoint: str, tag: str) -> Path:
    """The lock file of one image tag on one engine endpoint."""
    name = hashlib.sha256(f"{endpoint}\0{tag}".encode()).hexdigest()[:32]
    return folder / f"{name}.lock"


@contextlib.contextmanager
def exclusive(
    path: Path,
    *,
    what: str,
    timeout: float | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> Iterator[bool]:
    """Hold ``path`` locked for the block; yields whether another process held it first (we waited)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise LockFolderError(f"cannot open the build lock {path}: {exc}") from exc
    try:
        waited = False
        started = last_notice = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            now = time.monotonic()
            if not waited:
                say(f"rust-image: another process is building {what}; waiting for it (lock {path})")
                waited = True
            elif now - last_notice >= NOTICE:
                say(f"rust-image: still waiting for {what} after {now - started:.0f}s")
                last_notice = now
            if timeout is not None and now - started > timeout:
                raise LockTimeout(
                    f"another process has been building {what} for over {timeout:g}s and still holds "
                    f"the lock {path}; a lock is only held by a live process: stop it if it hung"
                )
            time.sleep(POLL)
        yield waited
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextlib.contextmanager
def held_if_free(path: Path) -> Iterator[bool]:
    """Hold ``path`` locked for the block if no other process holds it; yields whether it is held."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise LockFolderError(f"cannot open the lock {path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            held = False
        yield held
    finally:
        os.close(fd)


def last_run(lock: Path) -> str | None:
    """The id of the run that last built the image behind ``lock``."""
    try:
        return lock.with_suffix(".run").read_text().strip() or None
    except OSError:
        return None


def record_run(lock: Path, run_id: str) -> None:
    """Note that run ``run_id`` built the image behind ``lock`` (written while holding it)."""
    write_private(lock.with_suffix(".run"), run_id)
    lock.with_suffix(".failed").unlink(missing_ok=True)


def record_failure(lock: Path, run_id: str, reason: str, log: str) -> None:
    """Note that run ``run_id`` tried to build the image behind ``lock`` and failed, so that the other
    workers of that run report the failure instead of building again (written while holding it)."""
    write_private(lock.with_suffix(".failed"), json.dumps({"run": run_id, "reason": reason, "log": log}))


def failure_of(lock: Path, run_id: str) -> tuple[str, str] | None:
    """(reason, log) of a failed build of the image behind ``lock`` in run ``run_id``, if there was one."""
    try:
        noted = json.loads(lock.with_suffix(".failed").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(noted, dict) or noted.get("run") != run_id:
        return None
    return str(noted.get("reason", "")), str(noted.get("log", ""))
