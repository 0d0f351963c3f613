"""Container engines behind one interface, and the selector.

``protocol`` (the :class:`Engine` interface and the data it takes and gives), ``common`` (what
Docker and Podman share: build flags and outcomes, reading a file out of an image's tar, listings as
entries, where service ports are published), ``docker`` with ``docker_cli`` (which ``docker`` CLI
builds), ``podman`` with ``podman_runtime`` (crun's known failures, a stopped build's RUN steps),
``process`` (a command streamed and stopped at a deadline), and :func:`make_engine`. They may import
only the foundation modules (``errors``, ``names``, ``locks``, ``units``) and each other; nothing
that builds, inspects or reports.
"""

from __future__ import annotations

from pytest_rustimage.engines.protocol import Engine
from pytest_rustimage.errors import ConfigError

ENGINE_NAMES = ("docker", "podman")
ALL = "all"


def make_engine(name: str) -> Engine:
    """A new engine object by name (no connection is made yet)."""
    if name == "docker":
        from pytest_rustimage.engines.docker import DockerEngine

        return DockerEngine()
    if name == "podman":
        from pytest_rustimage.engines.podman import PodmanEngine

        return PodmanEngine()
    raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


__all__ = ["ALL", "ENGINE_NAMES", "Engine", "make_engine"]
