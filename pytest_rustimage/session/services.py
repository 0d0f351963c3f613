"""Long-running service containers: start, wait until ready (bounded), hand host and port to the test, stop.

Readiness is one of:

* ``"port"`` (default): the first port answers. A TCP connection alone proves
  little, since Docker's userland proxy accepts connections before the
  program listens (and then closes them at once), so "answers" means a
  connection that stays open, or that sends data, for a moment;
* ``"log:TEXT"``: the container's output contains ``TEXT``;
* ``"http:/PATH"``: ``GET http://HOST:PORT/PATH`` answers with a status below 500.

While waiting, a container that exits fails the wait at once with its exit
code and logs; after ``timeout`` seconds the wait fails with the logs. On
every failure the container is removed.

testcontainers is not used here: it drives docker-py against an API socket
(the Podman engine here is its CLI), and its reaper cannot run without a
registry. The engine interface already has what is needed.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from pytest_rustimage.engines.protocol import Engine
from pytest_rustimage.errors import ConfigError, EngineError, RustImageError, tail


class ServiceFailed(RustImageError):
    """A service container did not become ready."""


def parse_wait(wait: str) -> tuple[str, str]:
    """``("port", "")``, ``("log", TEXT)`` or ``("http", "/PATH")``; anything else is refused."""
    if wait == "port":
        return "port", ""
    kind, sep, arg = wait.partition(":")
    if sep and kind == "log" and arg:
        return "log", arg
    if sep and kind == "http":
        return "http", arg if arg.startswith("/") else "/" + arg
    raise ConfigError(f"wait={wait!r}: use 'port', 'log:TEXT' or 'http:/PATH'")


def port_answers(host: str, port: int, settle: float = 0.2) -> bool:
    """A TCP connection that is not closed at once by the other side."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as conn:
            conn.settimeout(settle)
            try:
                return conn.recv(1) != b""  # data: a server that speaks first
            except TimeoutError:
                return True  # open and quiet: a server waiting for a request
    except OSError:
        return False


def http_answers(url: str) -> bool:
    """Whether ``GET url`` answers with a status below 500."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return int(response.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


class Service:
    """A running service container; a context manager that stops it."""

    def __init__(self, engine: Engine, container: str, image: str, host: str, ports: Mapping[int, int]) -> None:
        self.engine = engine
        self.container = container
        self.image = image
        self.host = host
        self.ports = dict(ports)  # container port -> host port
        self._stopped = False

    @property
    def port(self) -> int:
        """The host port of the first published port."""
        return next(iter(self.ports.values()))

    def url(self, path: str = "/") -> str:
        """``http://HOST:PORT/PATH`` of the first published port, as reached from here."""
        return f"http://{self.host}:{self.port}{path if path.startswith('/') else '/' + path}"

    def logs(self) -> str:
        """What the container wrote so far, stdout and stderr together."""
        return self.engine.logs(self.container)

    def stop(self) -> None:
        """Stop and remove the container (once; later calls do nothing)."""
        if not self._stopped:
            self._stopped = True
            self.engine.remove_container(self.container)

    def __enter__(self) -> Service:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Service {self.image} at {self.host}:{self.port}>"


def start_service(
    engine: Engine,
    image: str,
    command: Sequence[str],
    *,
    entrypoint: Sequence[str] | None,
    ports: Sequence[int],
    labels: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    wait: str = "port",
    timeout: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> Service:
    """Start ``image`` and return once it is ready, or raise :class:`ServiceFailed` having removed it."""
    if not ports:
        raise ConfigError("serve() needs at least one port to publish")
    kind, arg = parse_wait(wait)
    container = engine.start(image, command, entrypoint=entrypoint, env=env, labels=labels, ports=ports)
    try:
        host = engine.service_host
        deadline = clock() + timeout

        def exited(code: int | None) -> ServiceFailed:
            return ServiceFailed(
                f"{image} exited with code {code} before it was ready ({wait})\n"
                f"--- logs ---\n{tail(engine.logs(container), 30)}"
            )

        try:
            published = {port: engine.published(container, port) for port in ports}
        except EngineError:
            running, code = engine.state(container)
            if not running:  # Podman unpublishes the ports of a container that has exited
                raise exited(code) from None
            raise
        service = Service(engine, container, image, host, published)
        while True:
            if kind == "log" and arg in service.logs():
                return service
            if kind == "port" and port_answers(host, service.port):
                return service
            if kind == "http" and http_answers(service.url(arg)):
                return service
            running, code = engine.state(container)
            if not running:
                raise exited(code)
            if clock() > deadline:
                raise ServiceFailed(
                    f"{image} was not ready ({wait}) within {timeout:g}s; the container was removed\n"
                    f"--- logs ---\n{tail(service.logs(), 30)}"
                )
            time.sleep(0.2)
    except BaseException:
        engine.remove_container(container)
        raise
