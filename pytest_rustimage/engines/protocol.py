"""The two interfaces every container engine meets, and the data they take and give.

:class:`Engine` is what a test session uses: build images, look into them, run them as commands and
services. :class:`EngineStore` is what housekeeping (``python -m pytest_rustimage prune`` and
``bases``) uses: list what the engine holds, remove it without force, bring images in. Each is made
of one small protocol per resource (builds, images, containers; stored images, stored containers,
cache mounts) and the :class:`Connection` both share; :class:`EngineAndStore` is both, as the real
engines are. Engines differ in how they build (BuildKit, the legacy builder, buildah) and where they
listen; the plugin only ever talks to these protocols. Capabilities are properties an engine answers
about itself, never guessed from a binary's name. What the engines share in their code is in
:mod:`pytest_rustimage.engines.common`, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

LineSink = Callable[[str], None]  # takes each line of a build's log as it comes


@dataclass(frozen=True)
class BuildRequest:
    """One image to build: where, from what, as what, and how long it may take."""

    context: Path
    dockerfile: Path
    tag: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    timeout: float | None = None
    no_cache: bool = False
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # id -> value, never a build arg


@dataclass(frozen=True)
class RunResult:
    """A container run to completion: what it ran, its exit code and its output apart."""

    command: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float

    def describe(self) -> str:
        """The whole result as a person reads it in a failure."""
        return (
            f"command: {' '.join(self.command)}\nexit code: {self.exit_code}\n"
            f"--- stdout ---\n{self.stdout.rstrip()}\n--- stderr ---\n{self.stderr.rstrip()}"
        )


@dataclass(frozen=True)
class BuildOutput:
    """A finished build: the image's id, the whole log, and how long it took."""

    image_id: str
    log: str
    duration: float


@dataclass(frozen=True)
class ImageEntry:
    """One image as the engine lists it (housekeeping)."""

    id: str
    tags: tuple[str, ...]  # as the engine spells them (Podman: ``localhost/...``); empty when untagged
    created: float  # seconds since the epoch
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerEntry:
    """One container as the engine lists it (housekeeping)."""

    id: str
    image_id: str
    created: float  # seconds since the epoch
    state: str  # the engine's word: created, running, exited, ...
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CacheMount:
    """One of the plugin's build cache mounts (``RUN --mount=type=cache``) as the builder keeps it."""

    name: str  # the mount's id when the builder shows it, else what it says of the mount
    size: int  # bytes
    ref: str  # what removes it: BuildKit's cache record id, or buildah's cache folder


# --- what both sides share --------------------------------------------------------------------------


class Connection(Protocol):
    """What both sides share: which engine, where, whether it answers, and letting go of it."""

    @property
    def name(self) -> str:
        """Short name used in item ids: ``docker`` or ``podman``."""
        ...

    @property
    def endpoint(self) -> str:
        """Where the engine is reached (a socket URL), for messages."""
        ...

    def ping(self) -> None:
        """Raise :class:`EngineUnavailable` unless the engine answers."""
        ...

    def close(self) -> None:
        """Let go of the engine (its connection, if it keeps one); the object may connect again later."""
        ...


# --- the build and run side: what a session uses ----------------------------------------------------


class BuildApi(Protocol):
    """Building images, and what the builder can do."""

    @property
    def builder(self) -> str:
        """Which builder builds images: ``buildkit``, ``legacy`` or ``buildah``."""
        ...

    def cache_mounts_missing(self) -> str | None:
        """Why this engine's builder cannot use locked cache mounts (``RUN --mount=type=cache``); None when it can."""
        ...

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        """Build an image; raise :class:`BuildFailed` with the log when it fails."""
        ...

    def remove_build_leftovers(self, labels: Mapping[str, str]) -> int:
        """Remove untagged images that builds with these labels left behind; returns how many."""
        ...


class ImageApi(Protocol):
    """Looking into one image, and removing it."""

    def image_id(self, ref: str) -> str | None:
        """The id of an image, or None when the engine does not have it."""
        ...

    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        """The engine's own ``image inspect`` dict (cheap: no layer is read)."""
        ...

    def open_archive(self, ref: str) -> AbstractContextManager[IO[bytes]]:
        """The image as a ``docker-archive`` tar stream, read once, to measure it."""
        ...

    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        """The bytes of one file inside an image (follows symlinks)."""
        ...

    def remove_image(self, ref: str) -> None:
        """Remove an image (by force: also while it is in use); no error when it is gone already."""
        ...


class ContainerApi(Protocol):
    """Containers run to completion, and services: started, reached, read and removed."""

    @property
    def service_host(self) -> str:
        """The address published ports are reached at from here (the engine's host)."""
        ...

    def api_endpoint(self) -> str:
        """A Docker-API URL at which other tools (testcontainers, docker-py) reach this engine; Podman
        starts an API service for it, stopped by :meth:`close`."""
        ...

    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> RunResult:
        """Run a container to completion and remove it, also on timeout."""
        ...

    def start(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None,
        env: Mapping[str, str] | None,
        labels: Mapping[str, str],
        ports: Sequence[int],
    ) -> str:
        """Start a long-running container with ``ports`` (tcp) published; returns its id."""
        ...

    def published(self, container: str, port: int) -> int:
        """The host port that ``port`` of ``container`` is published on."""
        ...

    def logs(self, container: str) -> str:
        """Everything a container wrote so far, stdout and stderr together."""
        ...

    def state(self, container: str) -> tuple[bool, int | None]:
        """(running, exit code once it has exited)."""
        ...

    def remove_container(self, container: str) -> None:
        """Stop and remove a container; no error when it is gone already."""
        ...

    def remove_containers(self, labels: Mapping[str, str]) -> int:
        """Remove every container carrying all these labels; returns how many."""
        ...


@runtime_checkable
class Engine(Connection, BuildApi, ImageApi, ContainerApi, Protocol):
    """A container engine as a test session uses it: build images, look into them, run them."""


# --- the store side: what housekeeping uses (``prune``, ``bases``) ----------------------------------


class ImageStoreApi(Protocol):
    """Every image the engine holds: listed, measured, removed without force, and images brought in."""

    def list_images(self, label: str) -> list[ImageEntry]:
        """Every image carrying the label key ``label`` (any value), untagged and intermediate ones too."""
        ...

    def image_layers(self) -> Mapping[str, tuple[str, ...]]:
        """Every image the engine holds (by id) and the diff ids of its layers, bottom first."""
        ...

    def history_sizes(self, ref: str) -> tuple[int, ...]:
        """The byte size of each history entry of an image, oldest first (0 for an empty layer)."""
        ...

    def remove_unused_image(self, ref: str) -> None:
        """Remove a tag (or an untagged image by id) without force: the image goes when no tag is left.
        No error when it is gone already; :class:`EngineError` when the engine refuses (in use)."""
        ...

    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        """Make an image from a root filesystem tarball; returns its id."""
        ...

    def load_archive(self, path: Path) -> None:
        """Load images from a ``docker-archive`` file (as ``docker load``)."""
        ...


class ContainerStoreApi(Protocol):
    """Every container the engine holds: listed, and removed when stopped."""

    def list_containers(self, label: str) -> list[ContainerEntry]:
        """Every container, running or not, carrying the label key ``label``."""
        ...

    def remove_stopped_container(self, container: str) -> None:
        """Remove a container that is not running, without force; no error when it is gone already."""
        ...


class CacheMountApi(Protocol):
    """The builder's cache mounts of the plugin's builds."""

    def cache_mounts(self) -> list[CacheMount]:
        """The build cache mounts of the plugin's own builds (never other builds' cache)."""
        ...

    def remove_cache_mount(self, mount: CacheMount) -> None:
        """Remove one of :meth:`cache_mounts`; no error when it is gone already."""
        ...


@runtime_checkable
class EngineStore(Connection, ImageStoreApi, ContainerStoreApi, CacheMountApi, Protocol):
    """A container engine as housekeeping uses it: what it holds, listed and removed."""


@runtime_checkable
class EngineAndStore(Engine, EngineStore, Protocol):
    """Both sides, as the engines are: what makes and copies the base images needs both (it looks
    images up and exports them as a session does, and brings them into an engine as only a store does)."""
