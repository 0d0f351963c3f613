"""Podman's store, as housekeeping uses it: every image, container and cache mount listed, removed
without force; images brought in from a root filesystem or an archive."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_rustimage.engines.cache_mounts import buildah_cache_folders, buildah_mounts
from pytest_rustimage.engines.common import container_entry, image_entry, imported_image_id
from pytest_rustimage.engines.podman.connection import PodmanConnection, gone
from pytest_rustimage.engines.podman.runtime import explain
from pytest_rustimage.engines.protocol import CacheMount, ContainerEntry, ImageEntry
from pytest_rustimage.errors import EngineError
from pytest_rustimage.names import normalise_id


class PodmanListing(PodmanConnection):
    """Listings that a cleanup elsewhere cannot break, for the store's images and containers."""

    def _listing(self, *args: str) -> str:
        """A listing's output. Podman fails a listing when an image or container it is looking at
        goes meanwhile (``image not known``), which another session's cleanup can cause: ask again."""
        for _ in range(4):
            done = self._run(*args, check=False)
            if done.returncode == 0:
                return done.stdout
            if not gone(done.stderr):
                break
        raise EngineError(f"`podman {' '.join(args[:2])}` failed: {explain(done.stderr)}")


class PodmanImageStore(PodmanListing):
    """:class:`~pytest_rustimage.engines.protocol.ImageStoreApi` on Podman."""

    def list_images(self, label: str) -> list[ImageEntry]:
        items: list[dict[str, Any]] = json.loads(
            self._listing("images", "-a", "--format", "json", "--filter", f"label={label}") or "[]"
        )
        return [image_entry(item, dict.fromkeys(item.get("Names") or ())) for item in items]

    def image_layers(self) -> dict[str, tuple[str, ...]]:
        ids = list(dict.fromkeys(self._listing("images", "-a", "-q", "--no-trunc").split()))
        found: dict[str, tuple[str, ...]] = {}
        template = "{{.Id}} {{range .RootFS.Layers}}{{.}} {{end}}"
        for start in range(0, len(ids), 100):
            batch = ids[start : start + 100]
            done = self._run("image", "inspect", "--format", template, *batch, check=False)
            if done.returncode != 0:  # one of them went meanwhile: ask one by one
                done = subprocess.CompletedProcess(done.args, 0, "", "")
                for one in batch:
                    single = self._run("image", "inspect", "--format", template, one, check=False)
                    if single.returncode == 0:
                        done.stdout += single.stdout
            for line in done.stdout.splitlines():
                words = line.split()
                if words:
                    found[normalise_id(words[0])] = tuple(words[1:])
        return found

    def history_sizes(self, ref: str) -> tuple[int, ...]:
        history: list[dict[str, Any]] = json.loads(self._run("history", "--format", "json", ref).stdout or "[]")
        return tuple(int(entry.get("size") or 0) for entry in reversed(history))

    def remove_unused_image(self, ref: str) -> None:
        with self._storage_turn(f"before removing {ref}"):
            done = self._run("rmi", ref, check=False, timeout=300)
        if done.returncode != 0 and not gone(done.stderr):
            raise EngineError(f"podman refused to remove {ref}: {explain(done.stderr)}")

    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        self._run(*args, str(tarball), tag, timeout=900)
        return imported_image_id(self.image_id(tag), tarball, tag)

    def load_archive(self, path: Path) -> None:
        self._run("load", "-i", str(path), timeout=900)


class PodmanContainerStore(PodmanListing):
    """:class:`~pytest_rustimage.engines.protocol.ContainerStoreApi` on Podman."""

    def list_containers(self, label: str) -> list[ContainerEntry]:
        items: list[dict[str, Any]] = json.loads(
            self._listing("ps", "-a", "--format", "json", "--filter", f"label={label}") or "[]"
        )
        return [container_entry(item) for item in items]

    def remove_stopped_container(self, container: str) -> None:
        done = self._run("rm", container, check=False)
        if done.returncode != 0 and not gone(done.stderr):
            raise EngineError(f"podman refused to remove container {container[:12]}: {explain(done.stderr)}")


class PodmanCacheMounts(PodmanConnection):
    """:class:`~pytest_rustimage.engines.protocol.CacheMountApi` on Podman: buildah's cache folders."""

    def cache_mounts(self) -> list[CacheMount]:
        if self._url or self._connection:  # a remote engine's folders are not ours to see
            return []
        return buildah_mounts(buildah_cache_folders())

    def remove_cache_mount(self, mount: CacheMount) -> None:
        shutil.rmtree(mount.ref, ignore_errors=True)
