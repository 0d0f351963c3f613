"""One build per image at a time, across xdist workers and concurrent runs on this machine.

A build holds an exclusive ``flock`` on a file named after the engine and the
image tag. Every process that would build the same image (an xdist worker of
the same run, or another run on the same crate) waits for it, then finds the
tag made and reuses it. The files live in one per-user folder of the system
temp dir rather than in a run's own temp folder: concurrent runs must share
them too. The kernel drops a lock when its holder dies, so an interrupted or
killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_rustimage.errors import RustImageError

POLL = 0.5  # seconds between attempts while another process builds
NOTICE = 30.0  # seconds between "still waiting" lines


class LockTimeout(RustImageError):
    """Another process held the build lock for longer than this one may wait."""


def lock_folder() -> Path:
    """The folder that every run of this user shares for build locks (``RUST_IMAGE_LOCK_DIR`` overrides)."""
    folder = os.environ.get("RUST_IMAGE_LOCK_DIR") or os.path.join(
        tempfile.gettempdir(), f"pytest-rustimage-locks-{os.getuid()}"
    )
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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


def last_run(lock: Path) -> str | None:
    """The id of the run that last built the image behind ``lock`` (read while holding it)."""
    try:
        return lock.with_suffix(".run").read_text().strip() or None
    except OSError:
        return None


def record_run(lock: Path, run_id: str) -> None:
    """Note that run ``run_id`` built the image behind ``lock`` (written while holding it)."""
    lock.with_suffix(".run").write_text(run_id)
