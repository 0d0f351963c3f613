"""Container engines behind one interface, and the selector."""

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
