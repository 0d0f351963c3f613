"""The one small interface every container engine meets.

Engines differ in how they build (BuildKit, the legacy builder, buildah) and
where they listen; the plugin only ever talks to this protocol. Capabilities
are properties an engine answers about itself, never guessed from a binary's
name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from pytest_rustimage.facts import ImageInfo, RunResult

LineSink = Callable[[str], None]

PLUGIN_LABEL = "io.github.pytest-rustimage"
SESSION_LABEL = f"{PLUGIN_LABEL}.session"
INPUTS_LABEL = f"{PLUGIN_LABEL}.inputs"


@dataclass(frozen=True)
class BuildRequest:
    context: Path
    dockerfile: Path
    tag: str
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    timeout: float | None = None


@dataclass(frozen=True)
class BuildOutput:
    image_id: str
    log: str
    duration: float


@runtime_checkable
class Engine(Protocol):
    """A container engine as the plugin uses it."""

    @property
    def name(self) -> str:
        """Short name used in item ids: ``docker`` or ``podman``."""
        ...

    @property
    def endpoint(self) -> str:
        """Where the engine is reached (a socket URL), for messages."""
        ...

    @property
    def builder(self) -> str:
        """Which builder builds images: ``buildkit``, ``legacy`` or ``buildah``."""
        ...

    def ping(self) -> None:
        """Raise :class:`EngineUnavailable` unless the engine answers."""
        ...

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        """Build an image; raise :class:`BuildFailed` with the log when it fails."""
        ...

    def image_id(self, ref: str) -> str | None:
        """The id of an image, or None when the engine does not have it."""
        ...

    def inspect(self, ref: str) -> ImageInfo: ...

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

    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        """The bytes of one file inside an image (follows symlinks)."""
        ...

    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        """Make an image from a root filesystem tarball; returns its id."""
        ...

    def remove_image(self, ref: str) -> None: ...

    def close(self) -> None: ...
