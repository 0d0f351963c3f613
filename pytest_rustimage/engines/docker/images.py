"""Docker's images as a session uses them: inspected, exported as a stream, a file read out, removed."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import docker.errors

from pytest_rustimage.engines.common import not_in_image, read_following_links
from pytest_rustimage.engines.docker.connection import API_ERRORS, DockerConnection, api_call


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterable of byte chunks (an HTTP response stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
            except API_ERRORS as exc:  # the engine went away mid-stream
                raise OSError(f"the image stream broke off: {exc}") from exc
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


class DockerImages(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.ImageApi` on Docker (``image_id`` is the connection's)."""

    @api_call("inspect image {ref}")
    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        raw: dict[str, Any] = self.client.api.inspect_image(ref)
        return raw

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        yield io.BufferedReader(ChunkReader(self._export(ref)), buffer_size=1 << 20)

    @api_call("export image {ref}")
    def _export(self, ref: str) -> Iterable[bytes]:
        """The image's ``docker-archive`` tar as the API streams it (the request is made at once)."""
        chunks: Iterable[bytes] = self.client.api.get_image(ref)
        return chunks

    @api_call("read file")
    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        container = self.client.containers.create(
            image, entrypoint=["/nonexistent-rust-image-export"], labels=dict(labels or {})
        )

        def fetch(path: str) -> tuple[str, bytes]:
            try:
                stream, stat = container.get_archive(path)
            except docker.errors.NotFound as exc:
                raise not_in_image(path, image) from exc
            link = str(stat.get("linkTarget") or "")
            return (link, b"") if link else ("", b"".join(stream))

        try:
            return read_following_links(image, path, fetch)
        finally:
            container.remove(force=True)

    @api_call("remove image")
    def remove_image(self, ref: str) -> None:
        with contextlib.suppress(docker.errors.ImageNotFound):
            self.client.images.remove(ref, force=True)
