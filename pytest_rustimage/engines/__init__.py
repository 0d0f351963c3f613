"""Container engines behind two interfaces, and the selector.

``protocol`` holds the interfaces and the data they take and give: :class:`Engine`, what a session
uses (builds, images, containers), and :class:`EngineStore`, what housekeeping uses (every stored
image, container and cache mount, listed and removed; images brought in), each one small protocol per
resource on a shared ``Connection``; :class:`EngineAndStore` is both. ``docker/`` and ``podman/``
implement both sides, one mixin per resource in a module of its name (``builds``, ``images``,
``containers``, ``store``) on the engine's ``connection``; ``docker/cli`` is which ``docker`` CLI
builds, ``podman/runtime`` crun's known failures and a stopped build's RUN steps, ``podman/service``
the API service other tools reach Podman through. ``common`` is what Docker and Podman share (build
flags and outcomes, reading a file out of an image's tar, listings as entries, where service ports
are published), ``cache_mounts`` which builders have locked cache mounts and which are the plugin's,
``process`` a command streamed and stopped at a deadline; :func:`make_engine` is here. They may
import only the foundation modules (``errors``, ``names``, ``locks``, ``units``) and each other;
nothing that builds, inspects or reports.
"""

from __future__ import annotations

from pytest_rustimage.engines.protocol import Engine, EngineAndStore, EngineStore
from pytest_rustimage.errors import ConfigError

ENGINE_NAMES = ("docker", "podman")
ALL = "all"


def make_engine(name: str) -> EngineAndStore:
    """A new engine object by name (no connection is made yet): both an :class:`Engine` and an
    :class:`EngineStore`."""
    if name == "docker":
        from pytest_rustimage.engines.docker import DockerEngine

        return DockerEngine()
    if name == "podman":
        from pytest_rustimage.engines.podman import PodmanEngine

        return PodmanEngine()
    raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


__all__ = ["ALL", "ENGINE_NAMES", "Engine", "EngineAndStore", "EngineStore", "make_engine"]
