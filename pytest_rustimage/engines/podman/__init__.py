"""Podman, driven through its CLI.

Why the CLI and not podman-py over an API socket (the decision is also in docs/engines.md): the CLI
is what Podman users have, rootful or rootless, with no service to start, keep alive and stop; it
honours ``CONTAINERS_CONF``, ``CONTAINER_HOST`` and named connections by itself; and ``podman build``
is buildah, which the API's build endpoint only wraps. Every call is a short subprocess with a
timeout, and its stderr becomes the error message.

:class:`PodmanEngine` is one mixin per resource, as docker-py's client is, each in its own module on
the one ``connection`` (how ``podman`` is run, its errors, the storage turn, ``image_id``): for a
session, ``builds``, ``images`` and ``containers``; for housekeeping, ``store`` (stored images, stored
containers, buildah's cache mounts). ``runtime`` knows crun's failures, buildah's storage race and a
stopped build's RUN steps; ``service`` is the API service other tools reach Podman through.
"""

from __future__ import annotations

from pytest_rustimage.engines.podman.builds import PodmanBuilds
from pytest_rustimage.engines.podman.containers import PodmanContainers
from pytest_rustimage.engines.podman.images import PodmanImages
from pytest_rustimage.engines.podman.store import PodmanCacheMounts, PodmanContainerStore, PodmanImageStore


class PodmanEngine(
    PodmanBuilds, PodmanImages, PodmanContainers, PodmanImageStore, PodmanContainerStore, PodmanCacheMounts
):
    """Podman through ``podman`` (local, or remote through ``CONTAINER_HOST`` or a connection): an
    :class:`~pytest_rustimage.engines.protocol.Engine` and an
    :class:`~pytest_rustimage.engines.protocol.EngineStore`."""


__all__ = ["PodmanEngine"]
