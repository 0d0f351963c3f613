"""Podman as a second engine, Docker/Podman parity, service containers, remote engines."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.names import PLUGIN_LABEL
from tests.acceptance.project import NO_CACHE, Project, docker_address, output_words


@pytest.mark.parametrize("sample", ["hello", "server", "workspace"])
def test_all_engines_pass_and_agree(project: Project, sample: str) -> None:
    project.copy(sample)
    result = project.run(
        sample, "--rust-image-engine=all", "--rust-image-strategy=chef,static", NO_CACHE + ",parity", "-v"
    )
    result.assert_outcomes(passed=18)  # 4 checks x 2 strategies x 2 engines, and parity per strategy
    for variant in ("chef-docker", "chef-podman", "static-docker", "static-podman"):
        result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::runs[[]{variant}[]] PASSED*"])
    result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::parity[[]chef[]] PASSED*"])
    result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::parity[[]static[]] PASSED*"])
    result.stdout.fnmatch_lines(["engine docker at *(buildkit)", "engine podman at *(buildah)"])


PARITY_TEST = """
def test_pair(rust_image_factory, rust_image_parity):
    left = rust_image_factory("hello", strategy="static", engine="docker")
    right = rust_image_factory("hello2", strategy="static", engine="podman")
    report = rust_image_parity(left, right)
    assert not report.equivalent
    assert {row.what for row in report.differences} == {"binary sha256", "stdout"}
    report.assert_equivalent()
"""


def test_a_different_pair_fails_parity_with_a_side_by_side_table(project: Project) -> None:
    project.copy("hello")
    other = project.copy("hello", "hello2")
    manifest = other / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    lock = other / "Cargo.lock"
    lock.write_text(lock.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    project.pytester.makepyfile(test_pair=PARITY_TEST)
    result = project.run("test_pair.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-rustimage/hello:static-* (docker) and pytest-rustimage/hello:static-* (podman) differ in: "
            "binary sha256, stdout*",
            "*what*docker*podman*",
            "*≠ binary sha256*",
            "*  exit code*0*0*",
            "*≠ stdout*hello 0.1.0*hello 0.2.0*",
            "*binary sha256: same-input Rust builds are byte-identical, so an input differs:*ELF build ids differ*",
        ]
    )


SERVICE_TEST = """
import urllib.request

import pytest


@pytest.mark.rust_image(crate="server", strategy="static", engine="all")
def test_health(rust_image):
    with rust_image.serve(port=8080, wait="http:/health") as service:
        with urllib.request.urlopen(service.url("/health"), timeout=5) as response:
            assert (response.status, response.read()) == (200, b"ok")
        assert "listening on 0.0.0.0:8080" in service.logs()


@pytest.mark.rust_image(crate="server", strategy="static", engine="all")
def test_waits_for_a_log_line_and_the_port(rust_image):
    with rust_image.serve("--listen", "0.0.0.0:9090", port=9090, wait="log:listening on") as service:
        assert service.port != 9090 or service.host == "127.0.0.1"
    with rust_image.serve(port=8080) as service:  # default wait: the port answers
        assert urllib.request.urlopen(service.url("/"), timeout=5).read() == b"hello from server"


@pytest.mark.rust_image(crate="hello", strategy="static", engine="all")
def test_a_service_that_exits_fails_the_wait(rust_image):
    with pytest.raises(Exception, match="exited with code 0 before it was ready"):
        rust_image.serve(port=8080, wait="log:never printed", timeout=20)


@pytest.mark.rust_image(crate="server", strategy="static", engine="all")
def test_left_running_by_a_failing_test(rust_image):
    rust_image.serve(port=8080)
    assert False, "fails with its service still running: the session must remove it"
"""


def test_service_containers_on_both_engines(project: Project) -> None:
    project.copy("server")
    project.copy("hello")
    project.pytester.makepyfile(test_service=SERVICE_TEST)
    result = project.run("test_service.py", "-v")
    result.assert_outcomes(passed=6, failed=2)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"*test_health[[]static-{engine}[]] PASSED*"])
        result.stdout.fnmatch_lines([f"*test_left_running_by_a_failing_test[[]static-{engine}[]] FAILED*"])
    # nothing_left_behind (autouse) asserts the still-running services were removed at session end


TESTCONTAINERS_TEST = """
import dataclasses
import os
import urllib.request

import pytest
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.docker_client import DockerClient
from testcontainers.core.wait_strategies import LogMessageWaitStrategy


def settings():
    \"\"\"testcontainers' global settings and the methods every other container uses to find its host.\"\"\"
    testcontainers_config.ryuk_disabled, testcontainers_config.ryuk_privileged  # read lazily, then kept: read now
    config = {f.name: repr(getattr(testcontainers_config, f.name)) for f in dataclasses.fields(testcontainers_config)}
    methods = (DockerClient.get_connection_mode, DockerClient.host, DockerContainer.get_container_host_ip)
    env = {k: v for k, v in os.environ.items() if k.startswith(("TESTCONTAINERS_", "TC_", "DOCKER_"))}
    return config, methods, env


BEFORE = settings()


@pytest.mark.rust_image(crate="server", strategy="static", engine="all")
def test_through_testcontainers(rust_image):
    assert "TESTCONTAINERS_CONNECTION_MODE" not in os.environ  # no workaround
    container = rust_image.testcontainer("--listen", "0.0.0.0:7070").with_exposed_ports(7070)
    with container.waiting_for(LogMessageWaitStrategy("listening on 0.0.0.0:7070")) as running:
        host, port = running.get_container_host_ip(), running.get_exposed_port(7070)
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=5) as response:
            assert (response.status, response.read()) == (200, b"ok")
        labels = running.get_wrapped_container().labels  # the plugin's: its session cleanup knows the container
        assert "io.github.pytest-rustimage" in labels and "io.github.pytest-rustimage.session" in labels
    # the user's other containers still find their host as testcontainers decides
    assert settings() == BEFORE
"""


def test_testcontainers_reach_their_ports_on_both_engines_without_settings(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This machine has /.dockerenv, where testcontainers guesses Docker-in-Docker and, on Podman's API,
    fails looking for a gateway (``KeyError: 'HostConfig'``): the plugin's containers know their
    engine's host themselves, without TESTCONTAINERS_CONNECTION_MODE and without changing
    testcontainers' settings for other containers."""
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")  # no registry here for the reaper's image
    for name in ("TESTCONTAINERS_CONNECTION_MODE", "TESTCONTAINERS_HOST_OVERRIDE", "TC_HOST"):
        monkeypatch.delenv(name, raising=False)
    project.copy("server")
    project.pytester.makepyfile(test_tc=TESTCONTAINERS_TEST)
    result = project.run("test_tc.py", "-v")
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"*test_through_testcontainers[[]static-{engine}[]] PASSED*"])
    result.assert_outcomes(passed=2)


def test_a_failing_build_leaves_nothing_on_either_engine(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "src" / "main.rs").write_text("fn main() { this is not rust }\n")
    result = project.run("hello", "--rust-image-engine=all", "--rust-image-strategy=chef", NO_CACHE + ",parity")
    result.assert_outcomes(failed=2, skipped=7)  # build fails on each engine; the rest and parity skip
    result.stdout.fnmatch_lines(["*hello (chef-podman) did not build: `podman build` exited with code*"])


def test_crun_failure_explains_what_to_change(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.copy("hello")
    plain = tmp_path / "containers.conf"
    plain.write_text('[engine]\nruntime = "crun"\n')
    monkeypatch.setenv("CONTAINERS_CONF", str(plain))
    result = project.run("hello", "--rust-image-engine=podman", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(['*runtime = "runc"*'])


@pytest.fixture
def podman_socket(tmp_path: Path) -> Iterator[str]:
    """A Podman API service on a private socket (not the default one), stopped afterwards."""
    url = f"unix://{tmp_path}/podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", url], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (tmp_path / "podman.sock").exists():
        assert time.monotonic() < deadline, "podman system service did not start"
        time.sleep(0.2)
    yield url
    service.terminate()
    service.wait(timeout=30)


@pytest.fixture
def docker_socket(tmp_path: Path) -> Iterator[str]:
    """Docker's API forwarded to a socket that is not the default one, stopped afterwards."""
    path = tmp_path / "docker.sock"
    proxy = subprocess.Popen(["socat", f"UNIX-LISTEN:{path},fork", docker_address()])
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, "socat did not start"
        time.sleep(0.1)
    yield f"unix://{path}"
    proxy.terminate()
    proxy.wait(timeout=30)


def test_remote_engines_through_their_environment(
    project: Project, podman_socket: str, docker_socket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.copy("hello")
    monkeypatch.setenv("CONTAINER_HOST", podman_socket)
    monkeypatch.setenv("DOCKER_HOST", docker_socket)
    every_check = "--rust-image-checks=build,runs,size,linkage,needs,cache,parity"  # the whole suite, cache too
    result = project.run("hello", "--rust-image-engine=all", "--rust-image-strategy=static", every_check, "-v")
    result.assert_outcomes(passed=13)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"*hello/Cargo.toml::cache[[]static-{engine}[]] PASSED*"])
    result.stdout.fnmatch_lines([f"engine docker at {docker_socket} (buildkit)"])
    result.stdout.fnmatch_lines([f"engine podman at {podman_socket} (buildah)"])
    # and they really are the engines used: with the sockets gone, nothing answers
    monkeypatch.setenv("CONTAINER_HOST", podman_socket + ".gone")
    monkeypatch.setenv("DOCKER_HOST", docker_socket + ".gone")
    gone = project.run("hello", "--rust-image-engine=all", "--rust-image-strategy=static", every_check)
    gone.assert_outcomes(failed=13)
    gone.stdout.fnmatch_lines([f"*podman engine not reachable at {podman_socket}.gone*"])
    gone.stdout.fnmatch_lines([f"*docker engine not reachable at {docker_socket}.gone*"])


def test_the_project_supplies_its_podman_settings() -> None:
    conf = Path(os.environ["CONTAINERS_CONF"]).read_text()
    assert 'runtime = "runc"' in conf and "nofile=1024:1024" in conf


def test_rebuilding_leaves_no_untagged_image_behind(project: Project) -> None:
    project.copy("hello")
    for _ in range(2):  # the second build takes the tag of the first, whose image must go
        result = project.run(
            "hello",
            "--rust-image-engine=all",
            "--rust-image-strategy=static",
            "--rust-image-rebuild",
            "--rust-image-checks=build",
        )
        result.assert_outcomes(passed=2)
        for engine in ("docker", "podman"):  # each run really built, on each engine
            result.stdout.fnmatch_lines([f"*rust-image: building hello (static-{engine}) with {engine} (*) as *"])
        assert "reusing" not in result.stdout.str()
        label = f"label={PLUGIN_LABEL}"
        dangling = {
            engine: output_words(engine, "images", "-q", "--filter", "dangling=true", "--filter", label)
            for engine in ("docker", "podman")
        }
        assert dangling == {"docker": [], "podman": []}, f"untagged images of the plugin: {dangling}"
    # nothing_left_behind (autouse) checks the same after the test, and the containers
