"""Vendored mode: ``cargo vendor`` on the host (:func:`vendor`), for a build context
(:func:`vendor_context`), made once per set of manifests and kept in the user's cache folder.

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
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from pytest_rustimage.errors import BuildFailed, RustImageError
from pytest_rustimage.folders import cache_folder
from pytest_rustimage.locks import exclusive, lock_folder, lock_path
from pytest_rustimage.recipe.plan_view import plan_view
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.tree import files_of, sync

FORMAT = 1
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
