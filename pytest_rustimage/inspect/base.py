"""Which of an image's layers are its runtime base's, and so how many bytes the project owns.

An image's **own bytes** are the bytes of its layers above the runtime base: the binary and whatever
the Dockerfile adds. The base's layers are the image's first layers whose diff ids are the base
image's own (``RootFS.Layers`` of its ``inspect``), in order: the longest common prefix. An image on
``scratch`` has no base layer, so its own bytes are the whole image. A base the engine does not hold
(removed since the build, or never listed: BuildKit keeps the bases it pulls to itself) cannot be told
apart from the project's layers: its facts say so (``known`` false), and the own bytes are then not
measured rather than taken to be the whole image, which would read as growth. Pure: the engine reads
happen in :mod:`pytest_rustimage.session.image`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_rustimage.inspect.facts import Layer

SCRATCH = "scratch"


@dataclass(frozen=True)
class BaseFacts:
    """The runtime base an image stands on: its name, image id, layer count and bytes in this image."""

    name: str
    id: str  # "" for scratch, or when the engine does not hold the base
    layers: int
    size: int
    known: bool = True  # False: the engine does not hold the base (or its name cannot be told): no own bytes


def unknown(name: str) -> BaseFacts:
    """The facts of a base whose layers cannot be told in the image (see the module's docstring)."""
    return BaseFacts(name, "", 0, 0, known=False)


def base_diff_ids(inspect: Mapping[str, Any]) -> tuple[str, ...]:
    """The diff ids of an image's layers from its ``inspect`` dict (Docker and Podman alike)."""
    rootfs: Mapping[str, Any] = inspect.get("RootFS") or {}
    return tuple(str(d) for d in rootfs.get("Layers") or ())


def base_layer_count(layers: Sequence[Layer], diff_ids: Sequence[str]) -> int:
    """How many of ``layers`` (bottom first) are the base's: the longest common prefix of diff ids."""
    count = 0
    for layer, base in zip(layers, diff_ids, strict=False):
        if not layer.diff_id or _bare(layer.diff_id) != _bare(base):
            break
        count += 1
    return count


def split(name: str, image_id: str, layers: Sequence[Layer], diff_ids: Sequence[str]) -> BaseFacts:
    """The base part of an image whose layers are ``layers``, on the base ``name`` with ``diff_ids``."""
    count = 0 if name == SCRATCH else base_layer_count(layers, diff_ids)
    return BaseFacts(name, image_id, count, sum(layer.size for layer in layers[:count]))


def _bare(diff_id: str) -> str:
    return diff_id.split(":", 1)[-1]
