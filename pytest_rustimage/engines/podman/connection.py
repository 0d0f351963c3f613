"""Podman's connection, which every Podman mixin builds on: where the engine is (local, a URL or a
named connection), the one way a ``podman`` command is run and its failure said, and the turn on a
Podman storage that builds and the plugin's image removals take."""

from __future__ import annotations

import contextlib
import os
import subprocess

from pytest_rustimage.engines.podman.runtime import explain
from pytest_rustimage.engines.podman.service import PodmanService
from pytest_rustimage.errors import EngineError, EngineGone, EngineUnavailable
from pytest_rustimage.locks import exclusive, lock_folder, lock_path
from pytest_rustimage.names import normalise_id

LOCAL = "local podman"
_GONE_SIGNS = ("Cannot connect to Podman", "unable to connect to Podman")  # a remote engine went away


def gone(stderr: str) -> bool:
    """Whether a failed ``rmi``/``rm`` failed only because the object does not exist (any more)."""
    text = stderr.lower()
    return "not known" in text or "no such" in text


class PodmanConnection:
    """Podman through ``podman`` (local, or remote through ``CONTAINER_HOST`` or a connection)."""

    def __init__(self, cli: str = "podman", url: str | None = None, connection: str | None = None) -> None:
        self._cli = cli
        self._url = url or os.environ.get("CONTAINER_HOST") or None
        self._connection = connection or os.environ.get("CONTAINER_CONNECTION") or None
        self._buildah: str | None = None
        self._service = PodmanService(self._base())

    @property
    def name(self) -> str:
        return "podman"

    @property
    def endpoint(self) -> str:
        if self._url:
            return self._url
        if self._connection:
            return f"connection {self._connection}"
        conf = os.environ.get("CONTAINERS_CONF")
        return f"{LOCAL} ({self._cli}" + (f", CONTAINERS_CONF={conf})" if conf else ")")

    def _base(self) -> list[str]:
        cmd = [self._cli]
        if self._url:
            cmd += ["--remote", "--url", self._url]
        elif self._connection:
            cmd += ["--connection", self._connection]
        return cmd

    def _run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                [*self._base(), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError as exc:
            raise EngineUnavailable("podman", self.endpoint, f"`{self._cli}` is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"`podman {' '.join(args[:2])}` did not answer within {timeout:g}s") from exc
        if done.returncode != 0:
            self._check_reachable(done.stderr)
            if check:
                raise EngineError(f"`podman {' '.join(args[:2])}` failed: {explain(done.stderr)}")
        return done

    def _check_reachable(self, stderr: str) -> None:
        """Raise a clear error when podman says its (remote) engine cannot be reached."""
        if any(sign in stderr for sign in _GONE_SIGNS):
            lines = [line for line in stderr.strip().splitlines() if line.startswith("Error:")] or [stderr.strip()]
            raise EngineGone("podman", self.endpoint, lines[-1])

    def _storage_turn(self, what: str) -> contextlib.AbstractContextManager[bool]:
        """The turn on this Podman storage that builds and the plugin's image removals take: buildah
        before 1.43 fails a build whose cache lookup meets an image removed meanwhile."""
        return exclusive(lock_path(lock_folder(), self.endpoint, "podman builds"), what=what)

    def ping(self) -> None:
        try:
            done = self._run("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60, check=False)
        except EngineGone as exc:
            raise EngineUnavailable("podman", self.endpoint, exc.reason) from exc
        except EngineError as exc:
            raise EngineUnavailable("podman", self.endpoint, str(exc)) from exc
        if done.returncode != 0:
            raise EngineUnavailable("podman", self.endpoint, explain(done.stderr) or f"exit {done.returncode}")

    def image_id(self, ref: str) -> str | None:
        # here, not with the images: both sides look images up (import_rootfs says what it made)
        done = self._run("image", "inspect", "--format", "{{.Id}}", ref, check=False)
        return normalise_id(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None

    def close(self) -> None:
        self._service.stop()
