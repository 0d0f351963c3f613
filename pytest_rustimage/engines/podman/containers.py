"""Podman's containers as a session uses them: run to completion, or started as services and reached."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence

from pytest_rustimage.engines.common import bind_address, host_of
from pytest_rustimage.engines.podman.connection import PodmanConnection
from pytest_rustimage.engines.podman.runtime import CRUN_SIGNS, explain
from pytest_rustimage.engines.protocol import RunResult
from pytest_rustimage.errors import EngineError, RunTimeout


def container_name() -> str:
    """A fresh name for a container the plugin makes."""
    return f"rust-image-{uuid.uuid4().hex[:12]}"


def container_options(
    entrypoint: Sequence[str] | None, env: Mapping[str, str] | None, labels: Mapping[str, str] | None
) -> list[str]:
    """``podman create``/``run`` options for an entrypoint, environment and labels."""
    options: list[str] = []
    if entrypoint is not None:
        options += ["--entrypoint", json.dumps(list(entrypoint))]
    for key, value in sorted((env or {}).items()):
        options += ["-e", f"{key}={value}"]
    for key, value in sorted((labels or {}).items()):
        options += ["--label", f"{key}={value}"]
    return options


class PodmanContainers(PodmanConnection):
    """:class:`~pytest_rustimage.engines.protocol.ContainerApi` on Podman."""

    @property
    def service_host(self) -> str:
        return host_of(self._url)

    def api_endpoint(self) -> str:
        if self._url:  # a remote engine is reached at an API service already: the same one
            return self._url
        if self._connection:
            raise EngineError(
                f"podman connection {self._connection}: other tools need its API URL; set CONTAINER_HOST to it"
            )
        return self._service.url()

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
        name = container_name()
        cmd = [*self._base(), "run", "--name", name, *container_options(entrypoint, env, labels), image, *command]
        shown = tuple(entrypoint or ()) + tuple(command)
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
            raise RunTimeout(image, shown, timeout, output) from exc
        finally:
            self._run("rm", "-f", "--ignore", name, check=False)
        stderr = done.stderr.decode(errors="replace")
        if done.returncode == 125:
            self._check_reachable(stderr)
        if done.returncode in (125, 126, 127) and any(sign in stderr for sign in CRUN_SIGNS):
            raise EngineError(f"podman could not run {image}: {explain(stderr)}")
        return RunResult(
            command=shown,
            exit_code=done.returncode,
            stdout=done.stdout.decode(errors="replace"),
            stderr=stderr,
            duration=time.monotonic() - started,
        )

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
        publish = [option for port in ports for option in ("-p", f"{bind}::{port}/tcp")]
        name = container_name()
        options = container_options(entrypoint, env, labels)
        done = self._run("run", "-d", "--name", name, *publish, *options, image, *command, check=False)
        if done.returncode != 0:
            self._run("rm", "-f", "--ignore", name, check=False)
            raise EngineError(f"podman could not start {image}: {explain(done.stderr)}")
        return name

    def published(self, container: str, port: int) -> int:
        out = self._run("port", container, f"{port}/tcp").stdout.strip().splitlines()
        if not out:
            raise EngineError(f"port {port}/tcp of container {container} is not published")
        return int(out[0].rsplit(":", 1)[1])

    def logs(self, container: str) -> str:
        done = self._run("logs", container, check=False)
        return done.stdout + done.stderr

    def state(self, container: str) -> tuple[bool, int | None]:
        out = self._run("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", container).stdout.split()
        running = out[0] == "true"
        return running, None if running else int(out[1])

    def remove_container(self, container: str) -> None:
        self._run("rm", "-f", "--ignore", "--time", "5", container, check=False)

    def remove_containers(self, labels: Mapping[str, str]) -> int:
        args = ["ps", "-aq"]
        for key, value in labels.items():
            args += ["--filter", f"label={key}={value}"]
        ids = self._run(*args).stdout.split()
        if ids:
            self._run("rm", "-f", "--time", "5", *ids, check=False)
        return len(ids)
