"""Measuring an image from its archive (``docker save`` / ``podman save`` output), the same way on every engine.

Engines report sizes differently: Docker's ``Size`` counts the content of
the files in each layer; Podman counts each layer's tar stream (headers and
padding included) plus the manifest and config, in 1000-based units in its
tables. So the plugin measures images itself, from the archive both engines
write in the same format (``docker-archive``): a layer's size is the sum of
the sizes of the regular files it holds plus the lengths of its symlinks'
targets. That is exactly the number Docker reports, so Docker users see the
size they know, and Podman gets the same definition.

A layer may be a plain, gzip or zstd tar (told by its first bytes, :func:`open_layer`): its size is
that of its uncompressed content all the same. The archive is read as a stream, once, without being
stored.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal, cast

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
            path = member.name.removeprefix("./").rstrip("/")
            deleted = deletion(path)
            if deleted is not None:
                (content.opaque if deleted[0] == "opaque" else content.whiteouts).add(deleted[1])
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


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# what a damaged layer stream raises (zlib.error: a gzip layer's deflate data, read past its tar headers)
LAYER_ERRORS = (tarfile.TarError, OSError, EOFError, ValueError, zlib.error)
NOT_A_LAYER = "it is not in the archive as a tar, gzip or zstd stream"


class LayerUnreadable(ValueError):
    """A layer that cannot be read: zstd-compressed and this Python has no zstd decoder (from
    :func:`open_layer`), or, from :func:`read_archive`, damaged or absent; the message says why."""


def layer_format(head: bytes) -> Literal["tar", "gzip", "zstd"] | None:
    """What an archive member is, by its first bytes (up to 512), never by its name: a tar (a ``ustar``
    header, or the zero block that is all of an empty tar), a gzip or zstd stream, or None (no layer:
    a config, a manifest)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC) or (len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18"):
        return "zstd"  # a frame, or a skippable frame (zstd:chunked puts metadata in those)
    if len(head) == 512 and (head[257:262] == b"ustar" or not any(head)):
        return "tar"
    return None


def open_layer(head: bytes, rest: IO[bytes]) -> IO[bytes] | None:
    """A layer member's tar stream, decompressed as its magic bytes say: ``head`` (its first 512 bytes,
    already read) then ``rest``. None when the member is no layer; :class:`LayerUnreadable` when it is
    zstd-compressed and this Python has no zstd decoder (the ``zstandard`` package, or Python 3.14's
    ``compression.zstd``)."""
    kind = layer_format(head)
    if kind is None:
        return None
    raw = io.BufferedReader(Joined(head, rest))
    if kind == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "zstd":
        return _zstd_reader(raw)
    return raw


def _zstd_reader(raw: IO[bytes]) -> IO[bytes]:
    with contextlib.suppress(ImportError):
        stdlib: Any = importlib.import_module("compression.zstd")  # Python 3.14 and later
        return io.BufferedReader(_Decoded(stdlib.ZstdFile(raw), stdlib.ZstdError))
    try:
        zstandard: Any = importlib.import_module("zstandard")
    except ImportError as exc:
        raise LayerUnreadable(
            "it is zstd-compressed, and this Python has no zstd decoder: "
            "pip install 'pytest-rustimage[zstd]' (the zstandard package), or use Python 3.14 or later"
        ) from exc
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return io.BufferedReader(_Decoded(reader, zstandard.ZstdError))


class _Decoded(io.RawIOBase):
    """A decompressor's reader whose own error type becomes ``OSError`` (one of :data:`LAYER_ERRORS`)."""

    def __init__(self, reader: Any, error: type[Exception]) -> None:
        self._reader = reader
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._reader.read(len(buffer))
        except self._error as exc:
            raise OSError(f"zstd: {exc}") from exc
        buffer[: len(data)] = data
        return len(data)


class Joined(io.RawIOBase):
    """``head`` then the rest of ``rest``: a stream read once, after its first bytes were looked at."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


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

    A layer is a plain, gzip or zstd tar, told by its first bytes (:func:`open_layer`), and measured by
    its uncompressed content. A layer of the manifest that cannot be read (zstd without a decoder,
    damaged, absent) is never counted as empty: :class:`LayerUnreadable` names it and says why.
    """
    contents: dict[str, LayerContent] = {}
    small: dict[str, bytes] = {}
    guessed: dict[str, str] = {}  # member name -> the diff id it was taken for
    skipped: set[str] = set()  # members passed over as known
    places = _Places()
    failed: dict[str, str] = {}  # member -> why it could not be read (told if the manifest lists it)
    aliases: dict[str, str] = {}  # Docker writes a layer that repeats an earlier one as a link to its tar
    with tarfile.open(fileobj=stream, mode="r|") as outer:
        for member in outer:
            name = member.name.removeprefix("./")
            if member.issym() and name.endswith("layer.tar"):
                aliases[name] = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            if not member.isreg():
                continue
            diff_id = _diff_id_of(name, places)
            cached = known(diff_id) if diff_id else None
            if cached is not None:
                guessed[name] = diff_id
                contents[name] = cached  # its bytes are passed over, not read
                skipped.add(name)
                continue
            handle = outer.extractfile(member)
            if handle is None:
                continue
            data = handle.read() if member.size < SMALL else None
            head = data[:512] if data is not None else handle.read(512)
            if layer_format(head) is not None:
                try:
                    contents[name] = _read_layer_member(head, io.BytesIO(data[512:]) if data is not None else handle)
                except LayerUnreadable as exc:
                    failed[name] = str(exc)
                except LAYER_ERRORS as exc:
                    failed[name] = f"it is damaged: {type(exc).__name__}: {exc}"
            elif data is not None:
                small[name] = data
                places.diff_ids = places.diff_ids or _config_diff_ids(name, data)
                places.note(name, data)
    facts = _assemble(contents, small, aliases, failed)
    order = _layer_names(small)
    for name, diff_id in guessed.items():
        actual = facts.layers[order.index(name)].diff_id if name in order else ""
        if actual != diff_id:
            raise StaleGuess(f"layer {name} is {actual or 'unknown'}, not {diff_id}")
    if learned is not None:
        for name, layer in zip(order, facts.layers, strict=False):
            if name in contents and name not in skipped and layer.diff_id:
                learned[layer.diff_id] = contents[name]
    return facts


def _read_layer_member(head: bytes, rest: IO[bytes]) -> LayerContent:
    """A layer member's content, decompressed as its first bytes say; its stream is then read to the
    end, so that a compressed layer's checksum is checked and damage past the tar's end is not missed."""
    layer = open_layer(head, rest)
    if layer is None:
        raise LayerUnreadable(NOT_A_LAYER)
    content = read_layer(layer)
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
