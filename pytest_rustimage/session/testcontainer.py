"""The testcontainers ``DockerContainer`` of an image, which knows where its engine publishes ports.

testcontainers finds a container's address by guessing: inside a container (``/.dockerenv``) with a
local socket it takes Docker-in-Docker and asks the engine for the container's gateway, which
Podman's Docker API does not list (``KeyError: 'HostConfig'``). The plugin need not guess: the engine
it talks to says where published ports are reached (:attr:`Engine.service_host`, the same address
:meth:`RustImage.serve` uses). So the container's own client (each ``DockerContainer`` makes one, for
that container alone) answers testcontainers' two questions, the connection mode (the engine's host,
mapped ports) and the host, from the engine. testcontainers' global settings
(``testcontainers_config``, ``TESTCONTAINERS_CONNECTION_MODE``) and its classes stay as they are,
so the user's other containers are found as testcontainers decides.

This module imports testcontainers, an optional extra: import it only when a container is asked for.
"""

from __future__ import annotations

from typing import cast

from testcontainers.core.config import ConnectionMode
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient


class EngineClient(DockerClient):
    """testcontainers' client of one container, answering from the plugin's engine."""

    engine_host: str  # where the engine publishes ports, as seen from here

    def get_connection_mode(self) -> ConnectionMode:
        return ConnectionMode.docker_host  # the engine's host and the mapped ports

    def host(self) -> str:
        return self.engine_host


def engine_container(image_id: str, *, api: str, host: str) -> DockerContainer:
    """A ``DockerContainer`` of ``image_id`` talking to the engine at ``api`` (a Docker-API URL), whose
    ports are reached at ``host``."""
    container = DockerContainer(image_id, docker_client_kw={"environment": {"DOCKER_HOST": api}})
    client = container.get_docker_client()
    # this container's own client, made just above (not shared): it becomes an EngineClient, without a
    # second connection to the engine
    client.__class__ = EngineClient
    cast(EngineClient, client).engine_host = host
    return container
