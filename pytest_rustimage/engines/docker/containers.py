"""Docker's containers as a session uses them: run to completion, or started as services and reached."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence

import docker.errors
import requests.exceptions

from pytest_rustimage.engines.common import bind_address, host_of
from pytest_rustimage.engines.docker.connection import DockerConnection, api_call
from pytest_rustimage.engines.protocol import RunResult
from pytest_rustimage.errors import EngineError, RunTimeout


class DockerContainers(DockerConnection):
    """:class:`~pytest_rustimage.engines.protocol.ContainerApi` on Docker."""

    @property
    def service_host(self) -> str:
        return host_of(self._base_url)

    def api_endpoint(self) -> str:
        return self._base_url

    @api_call("run")
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

    @api_call("start")
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

    @api_call("published")
    def published(self, container: str, port: int) -> int:
        attrs = self.client.api.inspect_container(container)
        bindings = (attrs.get("NetworkSettings") or {}).get("Ports", {}).get(f"{port}/tcp") or []
        if not bindings:
            raise EngineError(f"port {port}/tcp of container {container[:12]} is not published")
        return int(bindings[0]["HostPort"])

    @api_call("logs")
    def logs(self, container: str) -> str:
        return bytes(self.client.api.logs(container, stdout=True, stderr=True)).decode(errors="replace")

    @api_call("state")
    def state(self, container: str) -> tuple[bool, int | None]:
        status = self.client.api.inspect_container(container)["State"]
        running = bool(status.get("Running"))
        return running, None if running else int(status.get("ExitCode", -1))

    @api_call("remove container")
    def remove_container(self, container: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_container(container, force=True)

    @api_call("remove containers")
    def remove_containers(self, labels: Mapping[str, str]) -> int:
        found = self.client.api.containers(all=True, filters={"label": [f"{k}={v}" for k, v in labels.items()]})
        for item in found:
            self.remove_container(str(item["Id"]))
        return len(found)
