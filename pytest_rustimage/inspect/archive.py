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
    wasted: int = 0  # bytes of this layer that later layers delete or overwrite


@dataclass
class LayerContent:
    """What one layer tar holds: content bytes by path, and what it deletes from the layers below."""

    files: dict[str, int]
    whiteouts: set[str]  # paths deleted (".wh.NAME")
    opaque: set[str]  # folders whose lower contents are hidden (".wh..wh..opq")

    @property
    def size(self) -> int:
        return sum(self.files.values())


@dataclass(frozen=True)
class ArchiveFacts:
    layers: tuple[ArchiveLayer, ...]
    config: Mapping[str, Any]

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)


def read_layer(layer: IO[bytes]) -> LayerContent:
    """One layer tar: regular files' sizes and symlinks' target lengths by path, and its whiteouts."""
    content = LayerContent({}, set(), set())
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            path = member.name.removeprefix("./").rstrip("/")
            folder, _, name = path.rpartition("/")
            if name == ".wh..wh..opq":
                content.opaque.add(folder)
            elif name.startswith(".wh."):
                content.whiteouts.add(f"{folder}/{name[4:]}" if folder else name[4:])
            elif member.isreg():
                content.files[path] = member.size
            elif member.issym():
                content.files[path] = len(member.linkname)
    return content


def content_size(layer: IO[bytes]) -> int:
    """Bytes of content in one layer tar: regular files' sizes plus symlink target lengths."""
    return read_layer(layer).size


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def wasted(layers: Sequence[LayerContent]) -> list[int]:
    """Per layer, the bytes it adds that a later layer deletes, hides or overwrites (as dive counts them)."""
    result = []
    for index, layer in enumerate(layers):
        later = layers[index + 1 :]
        total = 0
        for path, size in layer.files.items():
            above = _ancestors(path)
            if any(
                path in upper.files
                or path in upper.whiteouts
                or any(a in upper.whiteouts or a in upper.opaque for a in above)
                or "" in upper.opaque
                for upper in later
            ):
                total += size
        result.append(total)
    return result


def _is_tar(data: bytes) -> bool:
    return len(data) >= 512 and data[257:262] == b"ustar"


def read_archive(stream: IO[bytes]) -> ArchiveFacts:
    """Measure every layer of the single image in a ``docker-archive`` stream."""
    contents: dict[str, LayerContent] = {}
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
                    contents[name] = read_layer(io.BytesIO(data))
                else:
                    small[name] = data
            else:
                contents[name] = read_layer(handle)
    return _assemble(contents, small)


def _assemble(contents: Mapping[str, LayerContent], small: Mapping[str, bytes]) -> ArchiveFacts:
    try:
        manifest: Sequence[Mapping[str, Any]] = json.loads(small["manifest.json"])
        entry = manifest[0]
        config: Mapping[str, Any] = json.loads(small[str(entry["Config"]).removeprefix("./")])
        layer_names = [str(name).removeprefix("./") for name in entry["Layers"]]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"not an image archive with one image: {exc}") from exc
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids", []))
    ordered = [contents.get(name, LayerContent({}, set(), set())) for name in layer_names]
    layers = []
    for index, (content, waste) in enumerate(zip(ordered, wasted(ordered), strict=True)):
        created_by = str(history[index].get("created_by", "")) if len(history) == len(layer_names) else ""
        diff_id = diff_ids[index] if index < len(diff_ids) else ""
        layers.append(ArchiveLayer(diff_id, content.size, created_by.strip(), waste))
    return ArchiveFacts(layers=tuple(layers), config=config)
