"""Service readiness: wait parsing and the port/HTTP probes against real local sockets."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from pytest_rustimage.engines.podman.runtime import CRUN_HINT, explain
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.session.services import http_answers, parse_wait, port_answers


@pytest.mark.parametrize(
    ("wait", "parsed"),
    [
        ("port", ("port", "")),
        ("log:listening on", ("log", "listening on")),
        ("http:/health", ("http", "/health")),
        ("http:health", ("http", "/health")),
        ("http:", ("http", "/")),
    ],
)
def test_parse_wait(wait: str, parsed: tuple[str, str]) -> None:
    assert parse_wait(wait) == parsed


@pytest.mark.parametrize("wait", ["", "ports", "log:", "tcp:80", "health"])
def test_parse_wait_refuses(wait: str) -> None:
    with pytest.raises(ConfigError, match="use 'port', 'log:TEXT' or 'http:/PATH'"):
        parse_wait(wait)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_does_not_answer() -> None:
    assert not port_answers("127.0.0.1", _free_port())


def test_a_listening_server_answers() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert port_answers("127.0.0.1", server.getsockname()[1])


def test_a_proxy_that_accepts_and_closes_at_once_does_not_answer() -> None:
    """What Docker's userland proxy does while the program behind it does not listen yet."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def close_each() -> None:
            conn, _ = server.accept()
            conn.close()

        closer = threading.Thread(target=close_each)
        closer.start()
        assert not port_answers("127.0.0.1", port, settle=1.0)
        closer.join()


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response({"/health": 200, "/broken": 503}.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_http_answers_below_500(http_server: str) -> None:
    assert http_answers(http_server + "/health")
    assert http_answers(http_server + "/missing")  # a 404 is an answer
    assert not http_answers(http_server + "/broken")
    assert not http_answers(f"http://127.0.0.1:{_free_port()}/health")


def test_crun_errors_get_the_fix_and_others_do_not() -> None:
    crun = "Error: crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied"
    assert explain(crun) == f"{crun}\n{CRUN_HINT}"
    assert 'runtime = "runc"' in CRUN_HINT and "CONTAINERS_CONF" in CRUN_HINT
    assert explain("Error: image not known\n") == "Error: image not known"


@pytest.mark.parametrize(
    ("url", "host", "bind"),
    [
        (None, "127.0.0.1", "127.0.0.1"),
        ("unix:///var/run/docker.sock", "127.0.0.1", "127.0.0.1"),
        ("tcp://builder.example:2376", "builder.example", "0.0.0.0"),
        ("ssh://ci@big-machine", "big-machine", "0.0.0.0"),
    ],
)
def test_where_published_ports_are_reached(url: str | None, host: str, bind: str) -> None:
    from pytest_rustimage.engines.common import bind_address, host_of

    assert host_of(url) == host
    assert bind_address(host_of(url)) == bind
