"""Docker: the docker SDK for inspect, run and export; the CLI for builds.

docker-py only drives the legacy builder, so builds go through a ``docker``
CLI that can do BuildKit: one with the buildx plugin (``docker buildx build
--load``), or a client older than 23.0 that still honours
``DOCKER_BUILDKIT=1``. Which CLI can do what is probed by running it, never
guessed from its path (:mod:`pytest_rustimage.engines.docker_cli`). With no
BuildKit-capable CLI, the legacy builder is used and the engine says so in
:attr:`DockerEngine.builder`. Every SDK call's errors become the plugin's
through one decorator, :func:`_api_call`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

import docker
import docker.errors
import requests.exceptions

from pytest_rustimage.engines.cache_mounts import buildkit_mount
from pytest_rustimage.engines.common import (
    bind_address,
    container_entry,
    host_of,
    image_entry,
    imported_image_id,
    not_in_image,
    read_following_links,
    run_build,
)
from pytest_rustimage.engines.docker_cli import DockerCli, docker_clis, probe_cli
from pytest_rustimage.engines.protocol import (
    BuildOutput,
    BuildRequest,
    CacheMount,
    ContainerEntry,
    ImageEntry,
    LineSink,
    RunResult,
)
from pytest_rustimage.errors import BuildFailed, EngineError, EngineGone, EngineUnavailable, RunTimeout
from pytest_rustimage.names import normalise_id

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
DF_TIMEOUT = 900.0  # seconds the disk-usage listing may take
P = ParamSpec("P")
R = TypeVar("R")
Method = Callable[Concatenate["DockerEngine", P], R]
API_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


def _api_call(action: str) -> Callable[[Method[P, R]], Method[P, R]]:
    """The one way an SDK call's errors become the plugin's: what the SDK raises (the engine went away,
    refused, failed) becomes :meth:`DockerEngine.failure` for ``action``, naming the engine's address,
    instead of a traceback from deep inside requests. ``{name}`` in ``action`` is the call's argument
    ``name`` (``"inspect image {ref}"``). The method's own ``except`` clauses see the SDK's errors
    first (``NotFound`` meaning "gone already", say)."""

    def decorate(method: Method[P, R]) -> Method[P, R]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def call(self: DockerEngine, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except API_ERRORS as exc:
                arguments = signature.bind(self, *args, **kwargs).arguments
                raise self.failure(action.format_map(arguments), exc) from exc

        return call

    return decorate


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


class DockerEngine:
    """Docker through its API socket (``DOCKER_HOST`` or the default socket)."""

    def __init__(self, base_url: str | None = None, cli: str | None = None) -> None:
        self._base_url = base_url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
        self._cli_path = cli
        self._cli: DockerCli | None = None
        self._client: docker.DockerClient | None = None

    @property
    def name(self) -> str:
        return "docker"

    def failure(self, action: str, exc: Exception) -> EngineError:
        """What to raise for an SDK error: the engine went away, or it refused ``action``."""
        if isinstance(exc, requests.exceptions.ConnectionError):
            return EngineGone("docker", self.endpoint, f"{action}: {exc}")
        return EngineError(f"docker engine at {self.endpoint} failed ({action}): {exc}")

    @property
    def endpoint(self) -> str:
        return self._base_url

    @property
    def builder(self) -> str:
        return "legacy" if self._get_cli().mode == "legacy" else "buildkit"

    def cache_mounts_missing(self) -> str | None:
        cli = self._get_cli()
        if cli.mode != "legacy":
            return None
        return (
            f"the legacy Docker builder has no cache mounts (the docker CLI {cli.path} has neither buildx nor "
            "DOCKER_BUILDKIT support): install the buildx plugin, or put a docker CLI older than 23 first on PATH"
        )

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self._base_url
        env["DOCKER_BUILDKIT"] = "1"
        return env

    def _get_cli(self) -> DockerCli:
        if self._cli is None:
            candidates = [self._cli_path] if self._cli_path else docker_clis()
            cli = probe_cli(candidates, self._env())
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

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        cli = self._get_cli()
        env = self._env()
        if cli.mode == "legacy":
            env.pop("DOCKER_BUILDKIT")
        if request.secrets and cli.mode == "legacy":
            raise BuildFailed(
                f"secret build args ({', '.join(sorted(request.secrets))}) need BuildKit, and the docker CLI "
                f"{cli.path} has neither buildx nor DOCKER_BUILDKIT support; install the buildx plugin",
                "",
            )
        return run_build(
            "docker build",
            request,
            lambda iidfile, secrets: cli.build_command(request, iidfile, secrets),
            env=env,
            on_line=on_line,
        )

    @_api_call("image id")
    def image_id(self, ref: str) -> str | None:
        try:
            return normalise_id(str(self.client.api.inspect_image(ref)["Id"]))
        except docker.errors.ImageNotFound:
            return None

    @_api_call("inspect image {ref}")
    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        raw: dict[str, Any] = self.client.api.inspect_image(ref)
        return raw

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        yield io.BufferedReader(ChunkReader(self._export(ref)), buffer_size=1 << 20)

    @_api_call("export image {ref}")
    def _export(self, ref: str) -> Iterable[bytes]:
        """The image's ``docker-archive`` tar as the API streams it (the request is made at once)."""
        chunks: Iterable[bytes] = self.client.api.get_image(ref)
        return chunks

    @_api_call("load archive")
    def load_archive(self, path: Path) -> None:
        with open(path, "rb") as handle:
            for _ in self.client.images.load(handle):
                pass

    def remove_build_leftovers(self, labels: Mapping[str, str]) -> int:
        # BuildKit keeps stages in its own cache, not as images; the legacy builder's
        # intermediate images are its layer cache. Nothing to remove.
        return 0

    @_api_call("run")
    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> RunResult:
        shown = tuple(entrypoint or ()) + tuple(command)
        started = time.monotonic()
        container = self.client.containers.create(
            image,
            command=list(command),
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            environment=dict(env or {}),
            labels=dict(labels or {}),
            detach=True,
        )
        try:
            container.start()
            try:
                status = container.wait(timeout=timeout)
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
                if time.monotonic() - started < timeout:
                    raise  # the engine went away: not a timeout
                output = container.logs(stdout=True, stderr=True).decode(errors="replace")
                raise RunTimeout(image, shown, timeout, output) from exc
            stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
            stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
            return RunResult(
                command=shown,
                exit_code=int(status.get("StatusCode", -1)),
                stdout=stdout,
                stderr=stderr,
                duration=time.monotonic() - started,
            )
        finally:
            container.remove(force=True)

    @_api_call("read file")
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

    @property
    def service_host(self) -> str:
        return host_of(self._base_url)

    @_api_call("start")
    def start(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None,
        env: Mapping[str, str] | None,
        labels: Mapping[str, str],
        ports: Sequence[int],
    ) -> str:
        bind = bind_address(self.service_host)
        container = self.client.containers.run(
            image,
            command=list(command),
            entrypoint=list(entrypoint) if entrypoint is not None else None,
            environment=dict(env or {}),
            labels=dict(labels),
            ports={f"{port}/tcp": (bind, None) for port in ports},
            detach=True,
        )
        return str(container.id)

    @_api_call("published")
    def published(self, container: str, port: int) -> int:
        attrs = self.client.api.inspect_container(container)
        bindings = (attrs.get("NetworkSettings") or {}).get("Ports", {}).get(f"{port}/tcp") or []
        if not bindings:
            raise EngineError(f"port {port}/tcp of container {container[:12]} is not published")
        return int(bindings[0]["HostPort"])

    @_api_call("logs")
    def logs(self, container: str) -> str:
        return bytes(self.client.api.logs(container, stdout=True, stderr=True)).decode(errors="replace")

    @_api_call("state")
    def state(self, container: str) -> tuple[bool, int | None]:
        status = self.client.api.inspect_container(container)["State"]
        running = bool(status.get("Running"))
        return running, None if running else int(status.get("ExitCode", -1))

    @_api_call("remove container")
    def remove_container(self, container: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_container(container, force=True)

    @_api_call("remove containers")
    def remove_containers(self, labels: Mapping[str, str]) -> int:
        found = self.client.api.containers(all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]})
        for item in found:
            self.remove_container(str(item["Id"]))
        return len(found)

    @_api_call("import rootfs")
    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        repository, _, version = tag.rpartition(":")
        self.client.api.import_image(src=str(tarball), repository=repository, tag=version, changes=list(changes))
        return imported_image_id(self.image_id(tag), tarball, tag)

    @_api_call("remove image")
    def remove_image(self, ref: str) -> None:
        with contextlib.suppress(docker.errors.ImageNotFound):
            self.client.images.remove(ref, force=True)

    def list_images(self, label: str) -> list[ImageEntry]:
        return [
            image_entry(item, (t for t in item.get("RepoTags") or () if t != "<none>:<none>"))
            for item in self._images({"label": label})
        ]

    def image_layers(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for item in self._images():
            raw = self._inspect_listed(str(item["Id"]))
            if raw is not None:  # else removed meanwhile
                found[normalise_id(str(raw["Id"]))] = tuple((raw.get("RootFS") or {}).get("Layers") or ())
        return found

    @_api_call("list images")
    def _images(self, filters: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every image (intermediate ones too) as the API lists it, matching ``filters`` when given."""
        if filters is None:
            listed: list[dict[str, Any]] = self.client.api.images(all=True)
        else:
            listed = self.client.api.images(all=True, filters=dict(filters))
        return listed

    @_api_call("inspect image {ref}")
    def _inspect_listed(self, ref: str) -> dict[str, Any] | None:
        """An image just listed, or None when it went meanwhile."""
        try:
            raw: dict[str, Any] = self.client.api.inspect_image(ref)
        except docker.errors.NotFound:
            return None
        return raw

    @_api_call("read the history of {ref}")
    def history_sizes(self, ref: str) -> tuple[int, ...]:
        history = self.client.api.history(ref)
        return tuple(int(entry.get("Size") or 0) for entry in reversed(history))

    @_api_call("list containers")
    def list_containers(self, label: str) -> list[ContainerEntry]:
        items = self.client.api.containers(all=True, filters={"label": label})
        return [container_entry(item) for item in items]

    @_api_call("list the build cache")
    def cache_mounts(self) -> list[CacheMount]:
        found: list[CacheMount] = []
        # Docker 20.10 (API 1.41) cannot ask for the build cache alone: /system/df sizes every image,
        # container and volume too, which takes minutes on a busy daemon; so a long timeout of its own
        api = self.client.api
        usage = api._result(api._get(api._url("/system/df"), timeout=DF_TIMEOUT), True)
        for record in usage.get("BuildCache") or []:
            name = buildkit_mount(str(record.get("Description") or ""))
            if record.get("Type") == "exec.cachemount" and name is not None:
                found.append(CacheMount(name, int(record.get("Size") or 0), str(record["ID"])))
        return found

    @_api_call("remove a build cache mount")
    def remove_cache_mount(self, mount: CacheMount) -> None:
        self.client.api.prune_builds(filters={"id": mount.ref})

    @_api_call("remove unused image")
    def remove_unused_image(self, ref: str) -> None:
        try:
            self.client.api.remove_image(ref)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove {ref}: {exc.explanation or exc}") from exc

    @_api_call("remove stopped container")
    def remove_stopped_container(self, container: str) -> None:
        try:
            self.client.api.remove_container(container)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove container {container[:12]}: {exc.explanation or exc}") from exc

    def api_endpoint(self) -> str:
        return self._base_url

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
