"""Measuring an image from its archive (``docker save`` / ``podman save`` output), the same way on every engine.

Engines report sizes differently: Docker's ``Size`` counts the content of
the files in each layer; Podman counts each layer's tar stream (headers and
padding included) plus the manifest and config, in 1000-based units in its
tables. So the plugin measures images itself, from the archive both engines
write in the same format (``docker-archive``): a layer's size is the sum of
the sizes of the regular files it holds plus the lengths of its symlinks'
targets. That is exactly the number Docker reports, so Docker users see the
size they know, and Podman gets the same definition.

The archive is read as a stream, once, without being stored.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

SMALL = 1 << 20  # members below this are read into memory (configs, manifests, tiny layers)


@dataclass(frozen=True)
class ArchiveLayer:
    diff_id: str
    size: int
    created_by: str


@dataclass(frozen=True)
class ArchiveFacts:
    layers: tuple[ArchiveLayer, ...]
    config: Mapping[str, Any]

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


def content_size(layer: IO[bytes]) -> int:
    """Bytes of content in one layer tar: regular files' sizes plus symlink target lengths."""
    total = 0
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            if member.isreg():
                total += member.size
            elif member.issym():
                total += len(member.linkname)
    return total


def _is_tar(data: bytes) -> bool:
    return len(data) >= 512 and data[257:262] == b"ustar"


def read_archive(stream: IO[bytes]) -> ArchiveFacts:
    """Measure every layer of the single image in a ``docker-archive`` stream."""
    sizes: dict[str, int] = {}
    small: dict[str, bytes] = {}
    with tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            if not member.isreg():
                continue
            handle = outer.extractfile(member)
            if handle is None:
                continue
            name = member.name.removeprefix("./")
            if member.size < SMALL:
                data = handle.read()
                if _is_tar(data):
                    sizes[name] = content_size(io.BytesIO(data))
                else:
                    small[name] = data
            else:
                sizes[name] = content_size(handle)
    return _assemble(sizes, small)


def _assemble(sizes: Mapping[str, int], small: Mapping[str, bytes]) -> ArchiveFacts:
    try:
        manifest: Sequence[Mapping[str, Any]] = json.loads(small["manifest.json"])
        entry = manifest[0]
        config: Mapping[str, Any] = json.loads(small[str(entry["Config"]).removeprefix("./")])
        layer_names = [str(name).removeprefix("./") for name in entry["Layers"]]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"not an image archive with one image: {exc}") from exc
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids", []))
    layers = []
    for index, name in enumerate(layer_names):
        created_by = str(history[index].get("created_by", "")) if len(history) == len(layer_names) else ""
        diff_id = diff_ids[index] if index < len(diff_ids) else ""
        layers.append(ArchiveLayer(diff_id=diff_id, size=sizes.get(name, 0), created_by=created_by.strip()))
    return ArchiveFacts(layers=tuple(layers), config=config)
