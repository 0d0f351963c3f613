"""The builders' cache mounts (``RUN --mount=type=cache``): which builders have them, which are the plugin's.

BuildKit keeps a cache mount as a build-cache record of type ``exec.cachemount``, described as
``cached mount PATH from exec COMMAND`` (newer ones add ``with id "ID"``). The plugin's own are
those whose id has the plugin's prefix, or, where the id is not shown, those made by the generated
Dockerfiles' cargo steps (the command starts with the step marker): the ``target/`` mount's id is in
its command (``RUST_IMAGE_MOUNT=ID``) and the registry mount is known by its path.
buildah keeps one folder per id under ``$TMPDIR`` (default ``/var/tmp``): ``buildah-cache`` for
root, ``buildah-cache-<uid>`` otherwise; the plugin's folders are those named with its prefix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pytest_rustimage.engines.protocol import CacheMount
from pytest_rustimage.names import CACHE_MOUNT_PREFIX, CARGO_REGISTRY_DIR, MOUNT_MARK, REGISTRY_CACHE_MOUNT, STEP_MARK

BUILDAH_LOCKED_MOUNTS = (1, 25)  # buildah 1.25 added ``sharing=locked`` to its persistent cache mounts
_WITH_ID = re.compile(r'with id "(?:[^"]*/)?([^"/]+)"')
_MOUNTED_AT = re.compile(r"^cached mount (\S+) from exec")
_MOUNT_VAR = re.compile(rf"{MOUNT_MARK}([\w.-]+)")


def buildkit_mount(description: str) -> str | None:
    """The name of a BuildKit ``exec.cachemount`` record when it is one of the plugin's, else None."""
    named = _WITH_ID.search(description)
    if named:
        return named.group(1) if named.group(1).startswith(CACHE_MOUNT_PREFIX) else None
    if f"/bin/sh -c {STEP_MARK}" not in description:
        return None
    place = _MOUNTED_AT.match(description)
    if place and place.group(1) == CARGO_REGISTRY_DIR:
        return REGISTRY_CACHE_MOUNT
    named = _MOUNT_VAR.search(description)
    if place and place.group(1) == "/app/target" and named:
        return named.group(1)
    return f"{place.group(1) if place else 'a folder'} of a plugin build step"


def buildah_version(text: str) -> tuple[int, ...] | None:
    """``1.28.2`` as (1, 28, 2); None when it cannot be read."""
    found = re.match(r"^\s*v?(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def buildah_lacks_mounts(version: str) -> str | None:
    """Why buildah ``version`` cannot run the ``incremental`` strategy's steps; None when it can."""
    parsed = buildah_version(version)
    if parsed is not None and parsed >= BUILDAH_LOCKED_MOUNTS:
        return None
    shown = version.strip() or "of unknown version"
    return (
        f"buildah {shown} (Podman's builder) has no locked cache mounts (`RUN --mount=type=cache,sharing=locked`, "
        "buildah 1.25 and later): upgrade Podman, or use the Docker engine with BuildKit"
    )


def buildah_cache_folders(uid: int | None = None, tmpdir: str | None = None) -> list[Path]:
    """Where buildah keeps cache mounts for this user (both spellings; the ones that exist)."""
    uid = os.getuid() if uid is None else uid
    base = Path(tmpdir or os.environ.get("TMPDIR") or "/var/tmp")
    names = ["buildah-cache", f"buildah-cache-{uid}"] if uid == 0 else [f"buildah-cache-{uid}"]
    return [base / name for name in names if (base / name).is_dir()]


def _bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def buildah_mounts(folders: list[Path]) -> list[CacheMount]:
    """The plugin's cache mount folders in ``folders``."""
    found: list[CacheMount] = []
    for folder in folders:
        for child in sorted(folder.iterdir()):
            if child.is_dir() and not child.is_symlink() and child.name.startswith(CACHE_MOUNT_PREFIX):
                found.append(CacheMount(child.name, _bytes(child), str(child)))
    return found
