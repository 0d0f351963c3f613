"""Vendored mode: ``cargo vendor`` on the host (:func:`vendor`), for a build context
(:func:`vendor_context`), made once per set of manifests and kept in the user's cache folder.

Vendoring the same ``Cargo.lock`` twice gives the same files, so the result is kept under the digest
of what decides it (the lockfile, every ``Cargo.toml`` and cargo config of the workspace, and whether
the lockfile may be brought up to date) and copied into each context that needs it, instead of
running ``cargo vendor`` for every build and every cache probe. The lockfile as vendoring left it is
kept with it. One process vendors a digest at a time (a lock per digest); the others wait and copy.
Without a lockfile the first resolution is kept for those manifests: delete the cache folder's
``vendor/`` to resolve again.

A context kept between runs (:func:`pytest_rustimage.recipe.context.stable_folder`) gets the same
entry on every run: beside its ``vendor/`` it records which entry that folder was last made from
(``.vendor.entry``: the key and who the entry is, written only after a copy completed and removed
before one starts), and a context whose record names the entry is left as it is. A folder that
holds no sources yet (a fresh context, the cache probe's) gets hard links to the entry's files where
the file system allows: an entry never changes once complete, and nothing writes into a context's
files (see :func:`pytest_rustimage.recipe.tree.sync`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_rustimage.errors import BuildFailed, RustImageError
from pytest_rustimage.folders import cache_folder
from pytest_rustimage.locks import exclusive, lock_folder, lock_path
from pytest_rustimage.recipe.plan_view import plan_view
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.tree import files_of, sync

FORMAT = 1
RECORD_FORMAT = 1  # of the record beside a context's vendor/ (``.vendor.entry``)
Vendor = Callable[..., str]  # the shape of :func:`vendor`


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
        if (
            path.is_file()
            and not path.is_symlink()
            and (name in ("Cargo.toml", "Cargo.lock") or (parent == ".cargo" and name in ("config", "config.toml")))
        ):
            yield path


def vendor_cached(app: Path, vendor_dir: Path, *, vendor: Vendor, locked: bool = False, what: str = "") -> bool:
    """Vendor the workspace at ``app`` into ``vendor_dir`` with ``vendor`` (:func:`vendor`), or copy
    what an earlier call made for the same inputs; returns whether it was copied from the cache."""
    try:
        digest = inputs_digest(app, locked=locked)
        folder = cache_folder("vendor")
        lock = lock_path(lock_folder(), "cargo vendor", digest)
    except (RustImageError, OSError):  # no usable cache folder: vendor as if there were none
        _remove_record(_record_of(vendor_dir))  # vendor/ is no entry's copy any more
        # an earlier run's vendor/ may hold hard links into the cache: cargo must not write through them
        shutil.rmtree(vendor_dir, ignore_errors=True)
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
        (work / "complete").write_text(f"{key} {uuid.uuid4().hex}")  # this making of the entry, of all
        shutil.rmtree(entry, ignore_errors=True)
        work.rename(entry)
        _restore(entry, app, vendor_dir)
        return False


def _restore(entry: Path, app: Path, vendor_dir: Path) -> None:
    """Make ``vendor_dir`` hold the entry's sources (unless its record says it does) and give ``app``
    the entry's lockfile."""
    record = _record_of(vendor_dir)
    made_from = entry_identity(entry)
    fresh = not os.path.lexists(vendor_dir)
    if fresh or _read_record(record) != made_from or not vendor_dir.is_dir() or vendor_dir.is_symlink():
        _remove_record(record)  # an interrupted copy leaves none: the next one copies again
        sync(files_of(entry / "vendor"), vendor_dir, link=fresh)  # in place: what differs, only
        record.write_text(made_from)
    if (entry / "Cargo.lock").is_file():
        shutil.copy2(entry / "Cargo.lock", app / "Cargo.lock")


def _record_of(vendor_dir: Path) -> Path:
    """The record beside ``vendor_dir`` of the entry it was made from (beside it, as the time of its
    last update is: see :mod:`pytest_rustimage.recipe.tree`)."""
    return vendor_dir.with_name(f".{vendor_dir.name}.entry")


def entry_identity(entry: Path) -> str:
    """What names this making of a complete cache entry: its ``complete`` file's text (the key, and a
    token of its own since format 1 of the record) and that file's inode and time, so an entry deleted
    and made again under the same key (without a lockfile, maybe another resolution) is another."""
    complete = entry / "complete"
    info = complete.stat()
    return f"{RECORD_FORMAT}\n{complete.read_text().strip()}\n{info.st_ino} {info.st_mtime_ns}\n"


def _read_record(record: Path) -> str | None:
    """The record's text; None when there is none or it is no readable text file (never trusted)."""
    try:
        return record.read_text(encoding="utf-8") if record.is_file() and not record.is_symlink() else None
    except (OSError, UnicodeDecodeError):
        return None


def _remove_record(record: Path) -> None:
    if record.is_dir() and not record.is_symlink():
        shutil.rmtree(record)
    else:
        record.unlink(missing_ok=True)


def vendor(app: Path, vendor_dir: Path, *, locked: bool = False, what: str = "", timeout: float = 900) -> str:
    """Run ``cargo vendor`` on the host for the copy in ``app``; returns its output.

    ``locked`` (with a ``Cargo.lock`` in ``app``) runs it ``--locked``: a lockfile that does not match
    the manifests fails here with cargo's message rather than being rewritten in the copy. Without it
    cargo brings the copy's lockfile up to date, as a generated Dockerfile's build needs after an edit
    that adds a dependency. ``what`` names the crate in errors, whose log is cargo's own output.
    """
    who = f" for {what}" if what else ""
    if shutil.which("cargo") is None:
        raise BuildFailed(f"vendored mode needs cargo on the host to run `cargo vendor`{who}", "")
    flags = ["--locked"] if locked and (app / "Cargo.lock").is_file() else []
    try:
        done = subprocess.run(
            ["cargo", "vendor", *flags, "--manifest-path", str(app / "Cargo.toml"), str(vendor_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildFailed(f"`cargo vendor`{who} did not finish within {timeout:g}s", str(exc.stderr or "")) from exc
    if done.returncode != 0:
        message = _first_error(done.stderr)
        command = " ".join(["cargo vendor", *flags])
        raise BuildFailed(
            f"`{command}`{who} failed with exit code {done.returncode}" + (f": {message}" if message else ""),
            done.stderr,
        )
    vendor_dir.mkdir(exist_ok=True)  # a crate without dependencies gets an empty folder
    return done.stderr


def _first_error(stderr: str) -> str:
    """Cargo's first ``error:`` line, without the prefix, and the last of its ``Caused by:`` lines
    (the root cause; the whole output stays in the log)."""
    lines = stderr.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    if first is None:
        return ""
    message = lines[first].removeprefix("error:").strip()
    causes = [lines[i + 1].strip() for i in range(first, len(lines) - 1) if lines[i].strip() == "Caused by:"]
    return f"{message}: {causes[-1]}" if causes and causes[-1] else message


def vendor_context(spec: ImageSpec, context: Path) -> None:
    """Vendor the dependencies of a context :func:`prepare` made for ``spec`` (in vendored mode).

    The ``dockerfile`` strategy's context must be the crate's own: its ``Cargo.lock`` is vendored
    ``--locked``, never rewritten.
    """
    if not spec.vendor:
        return
    what = f"crate {spec.crate.name} ({spec.crate.manifest_path})"
    if spec.traits.generated:
        vendor_cached(context / "app", context / "vendor", vendor=vendor, what=what)
        plan_view(context / "app", context / "plan")  # vendoring may have brought app/Cargo.lock up to date
    else:
        vendor_cached(context, context / "vendor", vendor=vendor, locked=True, what=what)
