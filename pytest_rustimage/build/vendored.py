"""Vendored sources made once per set of manifests: ``cargo vendor`` kept in the user's cache folder.

Vendoring the same ``Cargo.lock`` twice gives the same files, so the result is kept under the digest
of what decides it (the lockfile, every ``Cargo.toml`` and cargo config of the workspace, and whether
the lockfile may be brought up to date) and copied into each context that needs it, instead of
running ``cargo vendor`` for every build and every cache probe. The lockfile as vendoring left it is
kept with it. One process vendors a digest at a time (a lock per digest); the others wait and copy.
Without a lockfile the first resolution is kept for those manifests: delete the cache folder's
``vendor/`` to resolve again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_rustimage.build.tree import files_of, sync
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.locks import cache_folder, exclusive, lock_folder, lock_path

FORMAT = 1
Vendor = Callable[..., str]  # pytest_rustimage.build.context.vendor's shape


def inputs_digest(app: Path, *, locked: bool) -> str:
    """The digest of what ``cargo vendor`` reads in the workspace at ``app``."""
    digest = hashlib.sha256(f"{FORMAT}\0{locked}\0".encode())
    for path in sorted(_inputs(app)):
        digest.update(os.fsencode(path.relative_to(app).as_posix()) + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _inputs(app: Path) -> Iterator[Path]:
    """The manifests, lockfile and cargo configs of the workspace: not those of the vendored sources or
    of ``target/`` (a kept context holds ``vendor/`` from its last build)."""
    for path in app.rglob("*"):
        if path.relative_to(app).parts[0] in ("vendor", "target"):
            continue
        name, parent = path.name, path.parent.name
        if path.is_file() and not path.is_symlink() and (
            name in ("Cargo.toml", "Cargo.lock") or (parent == ".cargo" and name in ("config", "config.toml"))
        ):
            yield path


def vendor_cached(app: Path, vendor_dir: Path, *, vendor: Vendor, locked: bool = False, what: str = "") -> bool:
    """Vendor the workspace at ``app`` into ``vendor_dir`` with ``vendor`` (``context.vendor``), or copy
    what an earlier call made for the same inputs; returns whether it was copied from the cache."""
    try:
        digest = inputs_digest(app, locked=locked)
        folder = cache_folder("vendor")
        lock = lock_path(lock_folder(), "cargo vendor", digest)
    except (RustImageError, OSError):  # no usable cache folder: vendor as if there were none
        vendor(app, vendor_dir, locked=locked, what=what)
        return False
    key = digest[:32]
    entry = folder / key
    with exclusive(lock, what=f"`cargo vendor` for {what or app}"):
        if (entry / "complete").is_file():
            _restore(entry, app, vendor_dir)
            return True
        work = folder / f"{key}.partial"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(mode=0o700)
        try:
            vendor(app, work / "vendor", locked=locked, what=what)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        if (app / "Cargo.lock").is_file():
            shutil.copy2(app / "Cargo.lock", work / "Cargo.lock")
        (work / "complete").write_text(key)
        shutil.rmtree(entry, ignore_errors=True)
        work.rename(entry)
        _restore(entry, app, vendor_dir)
        return False


def _restore(entry: Path, app: Path, vendor_dir: Path) -> None:
    sync(files_of(entry / "vendor"), vendor_dir)  # in place: a context kept between runs copies nothing
    if (entry / "Cargo.lock").is_file():
        shutil.copy2(entry / "Cargo.lock", app / "Cargo.lock")
