"""Docker: the docker SDK for inspect, run and export; the CLI for builds.

docker-py only drives the legacy builder, so builds go through a ``docker``
CLI that can do BuildKit: one with the buildx plugin (``docker buildx build
--load``), or a client older than 23.0 that still honours
``DOCKER_BUILDKIT=1``. Which CLI can do what is probed by running it, never
guessed from its path. With no BuildKit-capable CLI, the legacy builder is
used and the engine says so in :attr:`DockerEngine.builder`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import posixpath
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Concatenate, ParamSpec, TypeVar

import docker
import docker.errors
import requests.exceptions

from pytest_rustimage.engines.process import stream_process
from pytest_rustimage.engines.protocol import (
    BuildOutput,
    BuildRequest,
    ContainerEntry,
    ImageEntry,
    LineSink,
    RunResult,
    bind_address,
    host_of,
    write_secrets,
)
from pytest_rustimage.errors import BuildFailed, EngineError, EngineGone, EngineUnavailable, RunTimeout
from pytest_rustimage.names import normalise_id

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
P = ParamSpec("P")
R = TypeVar("R")
API_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


def _api_call(method: Callable[Concatenate[DockerEngine, P], R]) -> Callable[Concatenate[DockerEngine, P], R]:
    """Turn what the SDK raises (the engine went away, refused, failed) into an :class:`EngineError`
    naming the engine's address, instead of a traceback from deep inside requests."""

    @functools.wraps(method)
    def call(self: DockerEngine, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except API_ERRORS as exc:
            raise self.failure(method.__name__.replace("_", " "), exc) from exc

    return call


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


@dataclass(frozen=True)
class DockerCli:
    path: str
    mode: str  # "buildx", "buildkit-env" or "legacy"

    def build_command(self, request: BuildRequest, iidfile: Path, secrets: Sequence[str] = ()) -> list[str]:
        cmd = [self.path]
        cmd += ["buildx", "build", "--load"] if self.mode == "buildx" else ["build"]
        if self.mode != "legacy":
            cmd.append("--progress=plain")
        cmd += ["-f", str(request.dockerfile), "-t", request.tag, "--iidfile", str(iidfile)]
        if request.target:
            cmd += ["--target", request.target]
        if request.no_cache:
            cmd.append("--no-cache")
        for key, value in sorted(request.build_args.items()):
            cmd += ["--build-arg", f"{key}={value}"]
        for key, value in sorted(request.labels.items()):
            cmd += ["--label", f"{key}={value}"]
        cmd += secrets
        cmd.append(str(request.context))
        return cmd


def _docker_clis() -> list[str]:
    seen: set[str] = set()
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", "docker")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            found.append(candidate)
    return found


def _client_major(path: str, env: Mapping[str, str]) -> int | None:
    try:
        out = subprocess.run(
            [path, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(env),
        ).stdout.strip()
        return int(out.split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def probe_cli(candidates: Sequence[str], env: Mapping[str, str]) -> DockerCli | None:
    """The first CLI that can do BuildKit, else the first one at all (legacy)."""
    for path in candidates:
        try:
            buildx = subprocess.run([path, "buildx", "version"], capture_output=True, timeout=30, env=dict(env))
        except (OSError, subprocess.TimeoutExpired):
            continue
        if buildx.returncode == 0:
            return DockerCli(path, "buildx")
        major = _client_major(path, env)
        if major is not None and major < 23:
            return DockerCli(path, "buildkit-env")
    return DockerCli(candidates[0], "legacy") if candidates else None


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

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self._base_url
        env["DOCKER_BUILDKIT"] = "1"
        return env

    def _get_cli(self) -> DockerCli:
        if self._cli is None:
            candidates = [self._cli_path] if self._cli_path else _docker_clis()
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
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise EngineUnavailable("docker", self._base_url, str(exc)) from exc

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        cli = self._get_cli()
        env = self._env()
        if cli.mode == "legacy":
            env.pop("DOCKER_BUILDKIT")
        # the image id file lives outside the context, which may be the user's own folder
        if request.secrets and cli.mode == "legacy":
            raise BuildFailed(
                f"secret build args ({', '.join(sorted(request.secrets))}) need BuildKit, and the docker CLI "
                f"{cli.path} has neither buildx nor DOCKER_BUILDKIT support; install the buildx plugin",
                "",
            )
        with tempfile.TemporaryDirectory(prefix="rust-image-iid-") as tmp:
            iidfile = Path(tmp) / "iid"
            secrets = write_secrets(request, Path(tmp))
            started = time.monotonic()
            code, log, timed_out = stream_process(
                cli.build_command(request, iidfile, secrets), env=env, timeout=request.timeout, on_line=on_line
            )
            duration = time.monotonic() - started
            if timed_out:
                raise BuildFailed(
                    f"the build did not finish within {request.timeout:g}s and was stopped", log, timed_out=True
                )
            if code != 0 or not iidfile.exists():
                raise BuildFailed(f"`docker build` exited with code {code}", log)
            image_id = iidfile.read_text().strip()
        return BuildOutput(image_id=image_id, log=log, duration=duration)

    @_api_call
    def image_id(self, ref: str) -> str | None:
        try:
            return normalise_id(str(self.client.api.inspect_image(ref)["Id"]))
        except docker.errors.ImageNotFound:
            return None

    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        try:
            raw: dict[str, Any] = self.client.api.inspect_image(ref)
        except API_ERRORS as exc:
            raise self.failure(f"inspect image {ref}", exc) from exc
        return raw

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        try:
            chunks = self.client.api.get_image(ref)
        except API_ERRORS as exc:
            raise self.failure(f"export image {ref}", exc) from exc
        yield io.BufferedReader(ChunkReader(chunks), buffer_size=1 << 20)

    @_api_call
    def load_archive(self, path: Path) -> None:
        with open(path, "rb") as handle:
            for _ in self.client.images.load(handle):
                pass

    def remove_build_leftovers(self, labels: Mapping[str, str]) -> int:
        # BuildKit keeps stages in its own cache, not as images; the legacy builder's
        # intermediate images are its layer cache. Nothing to remove.
        return 0

    @_api_call
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

    @_api_call
    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        container = self.client.containers.create(
            image, entrypoint=["/nonexistent-rust-image-export"], labels=dict(labels or {})
        )
        try:
            for _ in range(10):  # follow symlinks, bounded
                try:
                    stream, stat = container.get_archive(path)
                except docker.errors.NotFound as exc:
                    raise EngineError(f"{path} does not exist in image {image}") from exc
                link = stat.get("linkTarget") or ""
                if not link:
                    data = b"".join(stream)
                    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                        member = tar.next()
                        handle = tar.extractfile(member) if member else None
                        if handle is None:
                            raise EngineError(f"{path} in image {image} is not a regular file")
                        return handle.read()
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
            raise EngineError(f"{path} in image {image}: too many levels of symbolic links")
        finally:
            container.remove(force=True)

    @property
    def service_host(self) -> str:
        return host_of(self._base_url)

    @_api_call
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

    @_api_call
    def published(self, container: str, port: int) -> int:
        attrs = self.client.api.inspect_container(container)
        bindings = (attrs.get("NetworkSettings") or {}).get("Ports", {}).get(f"{port}/tcp") or []
        if not bindings:
            raise EngineError(f"port {port}/tcp of container {container[:12]} is not published")
        return int(bindings[0]["HostPort"])

    @_api_call
    def logs(self, container: str) -> str:
        return bytes(self.client.api.logs(container, stdout=True, stderr=True)).decode(errors="replace")

    @_api_call
    def state(self, container: str) -> tuple[bool, int | None]:
        status = self.client.api.inspect_container(container)["State"]
        running = bool(status.get("Running"))
        return running, None if running else int(status.get("ExitCode", -1))

    @_api_call
    def remove_container(self, container: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_container(container, force=True)

    @_api_call
    def remove_containers(self, labels: Mapping[str, str]) -> int:
        found = self.client.api.containers(all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]})
        for item in found:
            self.remove_container(str(item["Id"]))
        return len(found)

    @_api_call
    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        repository, _, version = tag.rpartition(":")
        self.client.api.import_image(src=str(tarball), repository=repository, tag=version, changes=list(changes))
        image_id = self.image_id(tag)
        if image_id is None:
            raise EngineError(f"importing {tarball} as {tag} produced no image")
        return image_id

    @_api_call
    def remove_image(self, ref: str) -> None:
        with contextlib.suppress(docker.errors.ImageNotFound):
            self.client.images.remove(ref, force=True)

    def list_images(self, label: str) -> list[ImageEntry]:
        items = self._api("list images", lambda: self.client.api.images(all=True, filters={"label": label}))
        return [
            ImageEntry(
                id=normalise_id(str(item["Id"])),
                tags=tuple(t for t in item.get("RepoTags") or () if t != "<none>:<none>"),
                created=float(item.get("Created") or 0),
                labels=dict(item.get("Labels") or {}),
            )
            for item in items
        ]

    @_api_call
    def image_layers(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for item in self._api("list images", lambda: self.client.api.images(all=True)):
            try:
                raw = self.client.api.inspect_image(item["Id"])
            except docker.errors.NotFound:
                continue  # removed meanwhile
            except docker.errors.DockerException as exc:
                raise EngineError(f"cannot inspect image {item['Id']}: {exc}") from exc
            found[normalise_id(str(raw["Id"]))] = tuple((raw.get("RootFS") or {}).get("Layers") or ())
        return found

    def history_sizes(self, ref: str) -> tuple[int, ...]:
        history = self._api(f"read the history of {ref}", lambda: self.client.api.history(ref))
        return tuple(int(entry.get("Size") or 0) for entry in reversed(history))

    def list_containers(self, label: str) -> list[ContainerEntry]:
        items = self._api("list containers", lambda: self.client.api.containers(all=True, filters={"label": label}))
        return [ContainerEntry.from_listing(item) for item in items]

    @_api_call
    def remove_unused_image(self, ref: str) -> None:
        try:
            self.client.api.remove_image(ref)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove {ref}: {exc.explanation or exc}") from exc

    @_api_call
    def remove_stopped_container(self, container: str) -> None:
        try:
            self.client.api.remove_container(container)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            raise EngineError(f"docker refused to remove container {container[:12]}: {exc.explanation or exc}") from exc

    def _api(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except API_ERRORS as exc:
            raise self.failure(what, exc) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
