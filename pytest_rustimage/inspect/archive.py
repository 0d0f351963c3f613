"""Measuring an image from its archive (``docker save`` / ``podman save`` output), the same way on every engine.

Engines report sizes differently: Docker's ``Size`` counts the content of
the files in each layer; Podman counts each layer's tar stream (headers and
padding included) plus the manifest and config, in 1000-based units in its
tables. So the plugin measures images itself, from the archive both engines
write in the same format (``docker-archive``): a layer's size is the sum of
the sizes of the regular files it holds plus the lengths of its symlinks'
targets. That is exactly the number Docker reports, so Docker users see the
size they know, and Podman gets the same definition.

A layer may be a plain, gzip or zstd tar (told by its first bytes,
:func:`pytest_rustimage.inspect.layer_stream.open_layer`): its size is that of its uncompressed
content all the same. The archive is read as a stream, once, without being
stored.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from pytest_rustimage.inspect.layer_stream import LAYER_ERRORS, NOT_A_LAYER, LayerUnreadable, layer_format, open_layer

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


def deletion(path: str) -> tuple[str, str] | None:
    """What a layer member at ``path`` deletes, by the OCI whiteout rules: ``("opaque", folder)`` for
    ``FOLDER/.wh..wh..opq``, ``("whiteout", path)`` for ``.wh.NAME``; None for any other member."""
    folder, _, name = path.rpartition("/")
    if name == ".wh..wh..opq":
        return ("opaque", folder)
    if name.startswith(".wh."):
        return ("whiteout", f"{folder}/{name[4:]}" if folder else name[4:])
    return None


def read_layer(layer: IO[bytes]) -> LayerContent:
    """One layer tar: regular files' sizes and symlinks' target lengths by path, and its whiteouts."""
    content = LayerContent({}, set(), set())
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            count_member(content, member)
    return content


def count_member(content: LayerContent, member: tarfile.TarInfo) -> None:
    """Add one member of a layer tar to ``content``: a regular file's size, a symlink's target length,
    a whiteout or opaque marker (hard links, folders and devices add nothing)."""
    path = member.name.removeprefix("./").rstrip("/")
    deleted = deletion(path)
    if deleted is not None:
        (content.opaque if deleted[0] == "opaque" else content.whiteouts).add(deleted[1])
    elif member.isreg():
        content.files[path] = member.size
    elif member.issym():
        content.files[path] = len(member.linkname)


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


LayerReader = Callable[[str, IO[bytes]], LayerContent]  # (layer member's name, its tar stream) -> content


@dataclass(frozen=True)
class ArchiveIndex:
    """Where an archive's layers are: the manifest's layer members bottom first, the members Docker wrote
    as links to an earlier one's tar (name -> the member it repeats), and why members could not be read."""

    order: list[str]
    aliases: Mapping[str, str]
    failed: Mapping[str, str]


class StaleGuess(ValueError):
    """A layer skipped as known turned out, by the archive's manifest, to be another one: read it again
    without known layers."""


DIGEST_TAR = re.compile(r"^(?:blobs/sha256/)?([0-9a-f]{64})(?:\.tar)?$")  # Podman's NAME.tar, OCI blobs


def read_archive(
    stream: IO[bytes],
    known: Callable[[str], LayerContent | None] = lambda diff_id: None,
    learned: dict[str, LayerContent] | None = None,
) -> ArchiveFacts:
    """Measure every layer of the single image in a ``docker-archive`` stream.

    ``known(diff_id)`` may give a layer's content measured before (a layer is named by its diff id,
    the digest of its tar, so the same id is the same content): its tar is then passed over without
    being read. Which member holds which diff id is told by the member's name where the engine names
    layers by digest (Podman, OCI layouts); Docker 20.10 names them by v1 ids in no useful order, so
    there a layer's place comes from its ``json`` (read just before it): no parent makes it the first
    layer, the image's config makes it the last, a parent of known place the next one; any other is
    read. Places are checked against the manifest at the end (:class:`StaleGuess` when one was
    wrong). Every layer read here is put in ``learned`` by its diff id, as the manifest tells it.

    A layer is a plain, gzip or zstd tar, told by its first bytes (:func:`.layer_stream.open_layer`), and measured by
    its uncompressed content. A layer of the manifest that cannot be read (zstd without a decoder,
    damaged, absent) is never counted as empty: :class:`LayerUnreadable` names it and says why.
    """
    return read_archive_indexed(stream, known, learned)[0]


def _read_layer_alone(name: str, layer: IO[bytes]) -> LayerContent:
    return read_layer(layer)


def read_archive_indexed(
    stream: IO[bytes],
    known: Callable[[str], LayerContent | None] = lambda diff_id: None,
    learned: dict[str, LayerContent] | None = None,
    reader: LayerReader = _read_layer_alone,
) -> tuple[ArchiveFacts, ArchiveIndex]:
    """:func:`read_archive`, each layer member read by ``reader(member name, its tar stream)`` (so a
    caller may gather more from the same pass, :func:`pytest_rustimage.inspect.onepass.read_archive_and_fs`),
    and where the layers are: the manifest's order, Docker's aliases, why members could not be read."""
    read = _Members(known, reader)
    with tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            read.take(outer, member)
    facts = _assemble(read.contents, read.small, read.aliases, read.failed)
    order = _layer_names(read.small)
    for name, diff_id in read.guessed.items():
        actual = facts.layers[order.index(name)].diff_id if name in order else ""
        if actual != diff_id:
            raise StaleGuess(f"layer {name} is {actual or 'unknown'}, not {diff_id}")
    if learned is not None:
        for name, layer in zip(order, facts.layers, strict=False):
            if name in read.contents and name not in read.skipped and layer.diff_id:
                learned[layer.diff_id] = read.contents[name]
    return facts, ArchiveIndex(order, read.aliases, read.failed)


class _Members:
    """What :func:`read_archive` gathers from the archive's members, one member at a time."""

    def __init__(self, known: Callable[[str], LayerContent | None], reader: LayerReader) -> None:
        self.known = known
        self.reader = reader
        self.contents: dict[str, LayerContent] = {}
        self.small: dict[str, bytes] = {}
        self.guessed: dict[str, str] = {}  # member name -> the diff id it was taken for
        self.skipped: set[str] = set()  # members passed over as known
        self.places = _Places()
        self.failed: dict[str, str] = {}  # member -> why it could not be read (told if the manifest lists it)
        self.aliases: dict[str, str] = {}  # Docker writes a layer that repeats an earlier one as a link to its tar

    def take(self, outer: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Note, pass over or read one member: a layer, a small file (config, manifest, json) or a link."""
        name = member.name.removeprefix("./")
        if member.issym() and name.endswith("layer.tar"):
            self.aliases[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
        if not member.isreg():
            return
        diff_id = _diff_id_of(name, self.places)
        cached = self.known(diff_id) if diff_id else None
        if cached is not None:
            self.guessed[name] = diff_id
            self.contents[name] = cached  # its bytes are passed over, not read
            self.skipped.add(name)
            return
        handle = outer.extractfile(member)
        if handle is None:
            return
        data = handle.read() if member.size < SMALL else None
        head = data[:512] if data is not None else handle.read(512)
        if layer_format(head) is not None:
            try:
                rest = io.BytesIO(data[512:]) if data is not None else handle
                self.contents[name] = _read_layer_member(head, rest, lambda layer: self.reader(name, layer))
            except LayerUnreadable as exc:
                self.failed[name] = str(exc)
            except LAYER_ERRORS as exc:
                self.failed[name] = f"it is damaged: {type(exc).__name__}: {exc}"
        elif data is not None:
            self.small[name] = data
            self.places.diff_ids = self.places.diff_ids or _config_diff_ids(name, data)
            self.places.note(name, data)


def _read_layer_member(head: bytes, rest: IO[bytes], reader: Callable[[IO[bytes]], LayerContent]) -> LayerContent:
    """A layer member's content, decompressed as its first bytes say; its stream is then read to the
    end, so that a compressed layer's checksum is checked and damage past the tar's end is not missed."""
    layer = open_layer(head, rest)
    if layer is None:
        raise LayerUnreadable(NOT_A_LAYER)
    content = reader(layer)
    while layer.read(1 << 16):
        pass
    return content


class _Places:
    """Docker 20.10's layer members by their v1 id: where each stands among the config's diff ids."""

    def __init__(self) -> None:
        self.diff_ids: list[str] = []
        self.parent: dict[str, str] = {}  # v1 id -> its parent's v1 id ("" for the first layer)
        self.last: set[str] = set()  # the v1 id whose json carries the image's config

    def note(self, name: str, data: bytes) -> None:
        """A ``V1ID/json`` member: its parent, and whether it is the image's own (last) layer."""
        folder, _, leaf = name.partition("/")
        if leaf != "json":
            return
        try:
            v1 = json.loads(data)
        except ValueError:
            return
        if isinstance(v1, dict):
            self.parent[folder] = str(v1.get("parent") or "")
            if "config" in v1:
                self.last.add(folder)

    def index(self, v1_id: str, depth: int = 0) -> int | None:
        if v1_id in self.last:
            return len(self.diff_ids) - 1
        if v1_id not in self.parent or depth > len(self.diff_ids):
            return None
        parent = self.parent[v1_id]
        if not parent:
            return 0
        above = self.index(parent, depth + 1)
        return None if above is None else above + 1


def _diff_id_of(name: str, places: _Places) -> str:
    """The diff id a member holds: from its name, or (Docker) from its place, when it is known."""
    match = DIGEST_TAR.match(name)
    if match:
        return f"sha256:{match.group(1)}"
    folder, _, leaf = name.partition("/")
    if leaf == "layer.tar" and places.diff_ids:
        index = places.index(folder)
        if index is not None and 0 <= index < len(places.diff_ids):
            return places.diff_ids[index]
    return ""


def _config_diff_ids(name: str, data: bytes) -> list[str]:
    """The layers' diff ids, from an image config (a ``HEX.json`` member), else none."""
    if not name.endswith(".json") or "/" in name or name == "manifest.json":
        return []
    try:
        config = json.loads(data)
        return [str(d) for d in (config.get("rootfs") or {}).get("diff_ids", [])]
    except (ValueError, AttributeError):
        return []


def _layer_names(small: Mapping[str, bytes]) -> list[str]:
    try:
        return [str(n).removeprefix("./") for n in json.loads(small["manifest.json"])[0]["Layers"]]
    except (KeyError, IndexError, ValueError, TypeError):
        return []


def layer_to_data(content: LayerContent) -> dict[str, Any]:
    """A layer's content as JSON-able data (kept between runs by diff id)."""
    return {"files": content.files, "whiteouts": sorted(content.whiteouts), "opaque": sorted(content.opaque)}


def layer_from_data(data: Mapping[str, Any]) -> LayerContent:
    """A layer's content from :func:`layer_to_data`'s output; ``ValueError`` when it is not one."""
    try:
        files = {str(k): int(v) for k, v in dict(data["files"]).items()}
        return LayerContent(files, {str(w) for w in data["whiteouts"]}, {str(o) for o in data["opaque"]})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a stored layer: {exc}") from exc


def _assemble(
    contents: Mapping[str, LayerContent],
    small: Mapping[str, bytes],
    aliases: Mapping[str, str],
    failed: Mapping[str, str],
) -> ArchiveFacts:
    try:
        manifest: Sequence[Mapping[str, Any]] = json.loads(small["manifest.json"])
        entry = manifest[0]
        config: Mapping[str, Any] = json.loads(small[str(entry["Config"]).removeprefix("./")])
        layer_names = [str(name).removeprefix("./") for name in entry["Layers"]]
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"not an image archive with one image: {exc}") from exc
    members = [aliases.get(name, name) for name in layer_names]
    unread = [
        f"layer {name} cannot be read: {failed.get(member, NOT_A_LAYER)}"
        for name, member in zip(layer_names, members, strict=True)
        if member not in contents
    ]
    if unread:
        raise LayerUnreadable("; ".join(unread))
    history = [h for h in config.get("history", []) if not h.get("empty_layer")]
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids", []))
    ordered = [contents[member] for member in members]
    layers = []
    for index, (content, waste) in enumerate(zip(ordered, wasted(ordered), strict=True)):
        created_by = str(history[index].get("created_by", "")) if len(history) == len(layer_names) else ""
        diff_id = diff_ids[index] if index < len(diff_ids) else ""
        layers.append(ArchiveLayer(diff_id, content.size, created_by.strip(), waste))
    return ArchiveFacts(layers=tuple(layers), config=config)
