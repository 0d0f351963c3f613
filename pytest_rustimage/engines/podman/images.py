"""Podman's images as a session uses them: inspected, saved as a stream, a file read out, removed."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator, Mapping
from typing import IO, Any

from pytest_rustimage.engines.common import not_in_image, read_following_links
from pytest_rustimage.engines.podman.connection import PodmanConnection
from pytest_rustimage.engines.podman.containers import container_name, container_options
from pytest_rustimage.errors import EngineError


class PodmanImages(PodmanConnection):
    """:class:`~pytest_rustimage.engines.protocol.ImageApi` on Podman (``image_id`` is the connection's)."""

    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        done = self._run("image", "inspect", ref)
        raw: list[dict[str, Any]] = json.loads(done.stdout)
        return raw[0]

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        proc = subprocess.Popen(
            [*self._base(), "save", "--format", "docker-archive", ref],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            yield proc.stdout
        finally:
            proc.stdout.close()
            _, err = proc.communicate(timeout=300)
        if proc.returncode not in (0, None, -13):  # -13: we stopped reading (SIGPIPE)
            raise EngineError(f"`podman save {ref}` failed: {err.decode(errors='replace').strip()}")

    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        name = container_name()
        options = container_options(["/nonexistent-rust-image-export"], None, labels)
        self._run("create", "--name", name, *options, image)

        def fetch(path: str) -> tuple[str, bytes]:  # a symbolic link is the tar's member
            done = subprocess.run(
                [*self._base(), "cp", f"{name}:{path}", "-"], capture_output=True, timeout=300, stdin=subprocess.DEVNULL
            )
            if done.returncode != 0:
                raise not_in_image(path, image, done.stderr.decode().strip())
            return "", done.stdout

        try:
            return read_following_links(image, path, fetch)
        finally:
            self._run("rm", "-f", "--ignore", name, check=False)

    def remove_image(self, ref: str) -> None:
        with self._storage_turn(f"before removing {ref}"):
            self._run("rmi", "-f", ref, check=False)
