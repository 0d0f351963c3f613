"""Docker: the docker SDK for inspect, run and export; the CLI for builds.

docker-py only drives the legacy builder, so builds go through a ``docker`` CLI that can do BuildKit:
one with the buildx plugin (``docker buildx build --load``), or a client older than 23.0 that still
honours ``DOCKER_BUILDKIT=1``. Which CLI can do what is probed by running it, never guessed from its
path (``cli``). With no BuildKit-capable CLI, the legacy builder is used and the engine says so in
``builder``. Every SDK call's errors become the plugin's through one decorator, ``api_call``.

:class:`DockerEngine` is one mixin per resource, as docker-py's client is, each in its own module on
the one ``connection`` (the SDK client, the CLI, errors, ``image_id``): for a session, ``builds``,
``images`` and ``containers``; for housekeeping, ``store`` (stored images, stored containers, BuildKit's
cache mounts).
"""

from __future__ import annotations

from pytest_rustimage.engines.docker.builds import DockerBuilds
from pytest_rustimage.engines.docker.containers import DockerContainers
from pytest_rustimage.engines.docker.images import DockerImages
from pytest_rustimage.engines.docker.store import DockerCacheMounts, DockerContainerStore, DockerImageStore


class DockerEngine(
    DockerBuilds, DockerImages, DockerContainers, DockerImageStore, DockerContainerStore, DockerCacheMounts
):
    """Docker through its API socket (``DOCKER_HOST`` or the default socket): an
    :class:`~pytest_rustimage.engines.protocol.Engine` and an
    :class:`~pytest_rustimage.engines.protocol.EngineStore`."""


__all__ = ["DockerEngine"]
