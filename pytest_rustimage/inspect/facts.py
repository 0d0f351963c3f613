"""Frozen facts about images and binaries, and pure parsers of engine output.

Nothing here talks to an engine: the engines hand raw ``inspect`` dicts and
image archives to these parsers, so the same definitions hold for every engine.

**Image size** is defined once, for every engine, as the uncompressed sum of
the image's layers, each layer's size being the bytes of content it holds
(see :mod:`pytest_rustimage.inspect.archive`). Compressed (registry) sizes, tar
headers, manifests and configs are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_rustimage.inspect.archive import ArchiveFacts
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.loader import Loading
from pytest_rustimage.inspect.runtimes import version_floor
from pytest_rustimage.names import normalise_id


@dataclass(frozen=True)
class Layer:
    """One layer of an image, with its content bytes and the instruction that made it."""

    size: int
    created_by: str
    diff_id: str = ""
    wasted: int = 0  # bytes later layers delete or overwrite


@dataclass(frozen=True)
class ImageConfig:
    """An image's runtime config, the same fields from Docker and Podman."""

    user: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: Mapping[str, str]
    workdir: str
    exposed_ports: tuple[str, ...]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ImageInfo:
    """An image as measured: id, tags, size (the one definition), its layers and config."""

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


class CannotLoad(tuple[str, ...]):
    """Why a binary would not load in its image: one sentence per problem. It is *false*, so
    ``assert image.binary().loads`` fails exactly when the binary would not load, and the assertion
    shows the problems."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CannotLoad({list(self)!r})"


@dataclass(frozen=True)
class BinaryFacts:
    """A binary read out of an image, with what its ELF headers say and, when it is dynamically
    linked, how the image's loader would resolve it (:mod:`pytest_rustimage.inspect.loader`)."""

    name: str
    path: str
    size: int
    sha256: str
    elf: ElfFacts
    loading: Loading | None = field(default=None, repr=False)  # None: static, nothing to resolve

    @property
    def loads(self) -> Literal[True] | CannotLoad:
        """``True`` when everything the loader needs is in the image (always for a static binary), else
        the problems as a false :class:`CannotLoad`: test it with ``assert binary.loads``."""
        if self.loading is None or self.loading.loads:
            return True
        return CannotLoad(problem.text() for problem in self.loading.problems)

    @property
    def floor(self) -> tuple[str, ...]:
        """Per family of symbol versions, the highest the binary needs, glibc's first: ``("GLIBC_2.34",
        "GCC_3.0")`` (:func:`pytest_rustimage.inspect.runtimes.version_floor`); empty for a static binary."""
        return version_floor([self.elf.version_needs])

    @property
    def resolved(self) -> Mapping[str, str]:
        """Each shared library loaded (the binary's needs and theirs) to the path where the image has it."""
        return {} if self.loading is None else self.loading.resolved

    @property
    def linkage(self) -> str:
        """``static``, ``static-pie`` or ``dynamic``, from the ELF headers."""
        return self.elf.linkage

    @property
    def is_static(self) -> bool:
        """Whether the binary loads no shared library and has no interpreter (``static`` or ``static-pie``)."""
        return self.elf.linkage in ("static", "static-pie")

    @property
    def interpreter(self) -> str | None:
        """The dynamic loader it names (``PT_INTERP``), or None."""
        return self.elf.interpreter

    @property
    def needed(self) -> tuple[str, ...]:
        """The shared libraries it needs (``DT_NEEDED``), in order."""
        return self.elf.needed

    @property
    def libc(self) -> str:
        """The C library it was linked with, as far as the bytes tell: ``glibc``, ``musl`` or ``unknown``."""
        return self.elf.libc

    @property
    def sections(self) -> Mapping[str, int]:
        """Its ELF sections by name, each with its bytes in the file (``.text``, ``.debug_info``, ...)."""
        return self.elf.sections

    @property
    def debug_size(self) -> int:
        """Bytes of debug info and symbols (all ``.debug_*`` sections, ``.symtab``, ``.strtab``): what strip saves."""
        return self.elf.debug_size

    @property
    def stripped(self) -> bool:
        """Whether it has no symbol table (``.symtab``)."""
        return self.elf.stripped


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
