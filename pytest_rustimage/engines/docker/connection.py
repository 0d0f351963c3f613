"""Docker's connection, which every Docker mixin builds on: the SDK client on the API socket, the CLI
that builds, and the one way an SDK call's errors become the plugin's (:func:`api_call`)."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import docker
import docker.errors
import requests.exceptions

from pytest_rustimage.engines.docker.cli import DockerCli, docker_clis
from pytest_rustimage.engines.docker.cli_store import kept_cli
from pytest_rustimage.errors import EngineError, EngineGone, EngineUnavailable
from pytest_rustimage.names import normalise_id

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
API_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
S = TypeVar("S", bound="DockerConnection")
P = ParamSpec("P")
R = TypeVar("R")


def api_call(action: str) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """The one way an SDK call's errors become the plugin's: what the SDK raises (the engine went away,
    refused, failed) becomes :meth:`DockerConnection.failure` for ``action``, naming the engine's
    address, instead of a traceback from deep inside requests. ``{name}`` in ``action`` is the call's
    argument ``name`` (``"inspect image {ref}"``). The method's own ``except`` clauses see the SDK's
    errors first (``NotFound`` meaning "gone already", say)."""

    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except API_ERRORS as exc:
                arguments = signature.bind(self, *args, **kwargs).arguments
                raise self.failure(action.format_map(arguments), exc) from exc

        return call

    return decorate


class DockerConnection:
    """Docker through its API socket (``DOCKER_HOST`` or the default socket), and the CLI that builds."""

    def __init__(self, base_url: str | None = None, cli: str | None = None) -> None:
        self._base_url = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
        self._cli_path = cli
        self._cli: DockerCli | None = None
        self._client: docker.DockerClient | None = None

    @property
    def name(self) -> str:
        return "docker"

    @property
    def endpoint(self) -> str:
        return self._base_url

    def failure(self, action: str, exc: Exception) -> EngineError:
        """What to raise for an SDK error: the engine went away, or it refused ``action``."""
        if isinstance(exc, requests.exceptions.ConnectionError):
            return EngineGone("docker", self.endpoint, f"{action}: {exc}")
        return EngineError(f"docker engine at {self.endpoint} failed ({action}): {exc}")

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self._base_url
        env["DOCKER_BUILDKIT"] = "1"
        return env

    def _get_cli(self) -> DockerCli:
        if self._cli is None:
            candidates = [self._cli_path] if self._cli_path else docker_clis()
            cli = kept_cli(candidates, self._env())  # probed when the CLIs or their plugins changed
            if cli is None:
                raise EngineUnavailable("docker", self._base_url, "no `docker` CLI on PATH to build with")
            self._cli = cli
        return self._cli

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.DockerClient(base_url=self._base_url, timeout=120)
            except docker.errors.DockerException as exc:
                raise EngineUnavailable("docker", self._base_url, str(exc)) from exc
        return self._client

    def ping(self) -> None:
        try:
            self.client.ping()
        except API_ERRORS as exc:  # not answering at all: unavailable, not a failed call
            raise EngineUnavailable("docker", self._base_url, str(exc)) from exc

    @api_call("image id")
    def image_id(self, ref: str) -> str | None:
        # here, not with the images: both sides look images up (import_rootfs says what it made)
        try:
            return normalise_id(str(self.client.api.inspect_image(ref)["Id"]))
        except docker.errors.ImageNotFound:
            return None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
