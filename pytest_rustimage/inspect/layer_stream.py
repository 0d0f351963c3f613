"""Opening an image archive's layer member as a tar stream, whatever its compression.

A layer may be a plain, gzip or zstd tar: :func:`layer_format` tells which by its first bytes, never
by its name, and :func:`open_layer` decompresses it as a stream, read once. zstd needs a decoder that
not every Python has (the ``zstandard`` package, or Python 3.14's ``compression.zstd``): without one
a zstd layer is :class:`LayerUnreadable`, never counted as empty.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import tarfile
import zlib
from typing import IO, Any, Literal, cast

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# what a damaged layer stream raises (zlib.error: a gzip layer's deflate data, read past its tar headers)
LAYER_ERRORS = (tarfile.TarError, OSError, EOFError, ValueError, zlib.error)
NOT_A_LAYER = "it is not in the archive as a tar, gzip or zstd stream"


class LayerUnreadable(ValueError):
    """A layer that cannot be read: zstd-compressed and this Python has no zstd decoder (from
    :func:`open_layer`), or, from :func:`pytest_rustimage.inspect.archive.read_archive`, damaged or
    absent; the message says why."""


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
