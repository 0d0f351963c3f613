"""Docker's store, as housekeeping uses it: every image, container and cache mount listed, removed
without force; images brought in from a root filesystem or an archive."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import docker.errors

from pytest_rustimage.engines.cache_mounts import buildkit_mount
from pytest_rustimage.engines.common import container_entry, image_entry, imported_image_id
from pytest_rustimage.engines.docker.connection import DockerConnection, api_call
from pytest_rustimage.engines.protocol import CacheMount, ContainerEntry, ImageEntry
from pytest_rustimage.errors import EngineError
from pytest_rustimage.names import normalise_id

DF_TIMEOUT = 900.0  # seconds the disk-usage listing may take


class DockerImageStore(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.ImageStoreApi` on Docker."""

    def list_images(self, label: str) -> list[ImageEntry]:
        return [
            image_entry(item, (t for t in item.get("RepoTags") or () if t != "<none>:<none>"))
            for item in self._images({"label": label})
        ]

    def image_layers(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for item in self._images():
            raw = self._inspect_listed(str(item["Id"]))
            if raw is not None:  # else removed meanwhile
                found[normalise_id(str(raw["Id"]))] = tuple((raw.get("RootFS") or {}).get("Layers") or ())
        return found

    @api_call("list images")
    def _images(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every image (intermediate ones too) as the API lists it, matching ``filters`` when given."""
        if filters is None:
            listed: list[dict[str, Any]] = self.client.api.images(all=True)
        else:
            listed = self.client.api.images(all=True, filters=dict(filters))
        return listed

    @api_call("inspect image {ref}")
    def _inspect_listed(self, ref: str) -> dict[str, Any] | None:
        """An image just listed, or None when it went meanwhile."""
        try:
            raw: dict[str, Any] = self.client.api.inspect_image(ref)
        except docker.errors.NotFound:
            return None
        return raw

    @api_call("read the history of {ref}")
    def history_sizes(self, ref: str) -> tuple[int, ...]:
        history = self.client.api.history(ref)
        return tuple(int(entry.get("Size") or 0) for entry in reversed(history))

    @api_call("remove unused image")
    def remove_unused_image(self, ref: str) -> None:
        try:
            self.client.api.remove_image(ref)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove {ref}: {exc.explanation or exc}") from exc

    @api_call("import rootfs")
    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        repository, _, version = tag.rpartition(":")
        self.client.api.import_image(src=str(tarball), repository=repository, tag=version, changes=list(changes))
        return imported_image_id(self.image_id(tag), tarball, tag)

    @api_call("load archive")
    def load_archive(self, path: Path) -> None:
        with open(path, "rb") as handle:
            for _ in self.client.images.load(handle):
                pass


class DockerContainerStore(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.ContainerStoreApi` on Docker."""

    @api_call("list containers")
    def list_containers(self, label: str) -> list[ContainerEntry]:
        items = self.client.api.containers(all=True, filters={"label": label})
        return [container_entry(item) for item in items]

    @api_call("remove stopped container")
    def remove_stopped_container(self, container: str) -> None:
        try:
            self.client.api.remove_container(container)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove container {container[:12]}: {exc.explanation or exc}") from exc


class DockerCacheMounts(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.CacheMountApi` on Docker: BuildKit's cache records."""

    @api_call("list the build cache")
    def cache_mounts(self) -> list[CacheMount]:
        found: list[CacheMount] = []
        # Docker 20.10 (API 1.41) cannot ask for the build cache alone: /system/df sizes every image,
        # container and volume too, which takes minutes on a busy daemon; so a long timeout of its own
        api = self.client.api
        usage = api._result(api._get(api._url("/system/df"), timeout=DF_TIMEOUT), True)
        for record in usage.get("BuildCache") or []:
            name = buildkit_mount(str(record.get("Description") or ""))
            if record.get("Type") == "exec.cachemount" and name is not None:
                found.append(CacheMount(name, int(record.get("Size") or 0), str(record["ID"])))
        return found

    @api_call("remove a build cache mount")
    def remove_cache_mount(self, mount: CacheMount) -> None:
        self.client.api.prune_builds(filters={"id": mount.ref})
