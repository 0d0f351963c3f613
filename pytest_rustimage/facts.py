"""Frozen facts about images, builds, runs and binaries, and pure parsers of engine output.

Nothing here talks to an engine: the engines hand raw ``inspect`` dicts and
image archives to these parsers, so the same definitions hold for every engine.

**Image size** is defined once, for every engine, as the uncompressed sum of
the image's layers, each layer's size being the bytes of content it holds
(see :mod:`pytest_rustimage.archive`). Compressed (registry) sizes, tar
headers, manifests and configs are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_rustimage.archive import ArchiveFacts
from pytest_rustimage.elf import ElfFacts


@dataclass(frozen=True)
class Layer:
    """One layer of an image, with its content bytes and the instruction that made it."""

    size: int
    created_by: str
    diff_id: str = ""
    wasted: int = 0  # bytes later layers delete or overwrite


@dataclass(frozen=True)
class ImageConfig:
    user: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: Mapping[str, str]
    workdir: str
    exposed_ports: tuple[str, ...]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ImageInfo:
    id: str
    tags: tuple[str, ...]
    size: int
    layer_count: int
    layers: tuple[Layer, ...]
    config: ImageConfig

    @property
    def wasted(self) -> int:
        """Bytes in the image that no container can see: deleted or overwritten by a later layer."""
        return sum(layer.wasted for layer in self.layers)


@dataclass(frozen=True)
class RunResult:
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
class BuildRecord:
    """How an image came to be: built now, or reused (see :data:`ORIGINS`)."""

    tag: str
    image_id: str
    engine: str
    strategy: str
    reused: bool
    duration: float
    log: str = field(repr=False)
    origin: str = "built"  # one of ORIGINS


# where an image came from: built by this process; or found made by another worker of the same run,
# by another run that was building it at the same time, or by an earlier run
ORIGINS = ("built", "this run", "concurrent run", "earlier run")


@dataclass(frozen=True)
class BinaryFacts:
    """A binary read out of an image, with what its ELF headers say."""

    name: str
    path: str
    size: int
    sha256: str
    elf: ElfFacts

    @property
    def linkage(self) -> str:
        return self.elf.linkage

    @property
    def is_static(self) -> bool:
        return self.elf.linkage in ("static", "static-pie")

    @property
    def interpreter(self) -> str | None:
        return self.elf.interpreter

    @property
    def needed(self) -> tuple[str, ...]:
        return self.elf.needed

    @property
    def libc(self) -> str:
        return self.elf.libc


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def image_config_from_inspect(inspect: Mapping[str, Any]) -> ImageConfig:
    """The runtime config from an image ``inspect`` dict (Docker and Podman alike)."""
    config: Mapping[str, Any] = inspect.get("Config") or {}
    env: dict[str, str] = {}
    for item in config.get("Env") or ():
        key, _, value = str(item).partition("=")
        env[key] = value
    return ImageConfig(
        user=str(config.get("User") or ""),
        entrypoint=_strings(config.get("Entrypoint")),
        cmd=_strings(config.get("Cmd")),
        env=env,
        workdir=str(config.get("WorkingDir") or "/"),  # engines write "" or "/" for the root
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
        labels=dict(config.get("Labels") or {}),
    )


def image_info(inspect: Mapping[str, Any], archive: ArchiveFacts) -> ImageInfo:
    """An :class:`ImageInfo` from a raw ``inspect`` dict and the image's measured archive."""
    layers = tuple(Layer(la.size, la.created_by, la.diff_id, la.wasted) for la in archive.layers)
    return ImageInfo(
        id=normalise_id(str(inspect["Id"])),
        tags=_strings(inspect.get("RepoTags")),
        size=sum(layer.size for layer in layers),
        layer_count=len(layers),
        layers=layers,
        config=image_config_from_inspect(inspect),
    )


def normalise_id(image_id: str) -> str:
    """Image ids as ``sha256:HEX`` whichever engine wrote them (Podman leaves the prefix out)."""
    return image_id if ":" in image_id else f"sha256:{image_id}"
