"""Interrupts, build timeouts and an engine that goes away: each leaves nothing behind, says what
happened, and the next run works. Real processes, real signals, real engines."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.names import PLUGIN_LABEL
from tests.acceptance.project import NO_CACHE, Project, docker_address, output_words
from tests.acceptance.test_failures import SLEEPER

ENGINES = ["docker", "podman"]

# the step prints a line its own command text does not contain, then sleeps while the file `slow` exists
SLOW_DOCKERFILE = """\
ARG RUNTIME_IMAGE
FROM ${{RUNTIME_IMAGE}}
COPY . /ctx/
RUN echo "step-$((6*7))-{marker}"; if [ -e /ctx/slow ]; then sleep 600; fi
"""


def default_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM back to their defaults. A launcher that ignores
    SIGINT (a shell's background job, nohup) passes that on, and Python then sets up no Ctrl-C handler,
    so the child's reaction would depend on how this suite was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# how each stop is sent to the run's process group, and the exit code it must end with
STOPS = {"SIGINT": pytest.ExitCode.INTERRUPTED, "SIGTERM": 143}


class Session:
    """``pytest --rust-image`` in its own process group, as a terminal or a CI runner starts it; a stop
    (Ctrl-C's SIGINT, a cancelled CI job's SIGTERM) goes to the group."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--rust-image", "-p", "no:cacheprovider", "-v", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            preexec_fn=default_signals,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self._lines.put(line)

    def wait_for(self, text: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self._lines.get(timeout=1):
                    return
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    break
        pytest.fail(f"never saw {text!r}:\n{''.join(self.output)}")

    def interrupt(self, how: str = "SIGINT") -> None:
        os.killpg(self.proc.pid, signal.Signals[how])

    def finish(self, timeout: float = 180) -> tuple[int, str]:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self._close()
            pytest.fail(f"the run did not end within {timeout}s of the interrupt:\n{''.join(self.output)}")
        self._close()
        return code, "".join(self.output)

    def _close(self) -> None:
        """Let the reader take the last lines, then close the pipe (an open one is a ResourceWarning)."""
        self._reader.join(timeout=30)
        if not self._reader.is_alive() and self.proc.stdout is not None:
            self.proc.stdout.close()


def working_containers() -> set[str]:
    """Buildah's working containers (a Podman build's stages), which `podman ps` shows only with --external."""
    listed = subprocess.run(
        ["podman", "ps", "-a", "--external", "--format", "{{.ID}} {{.State}}"], capture_output=True, text=True
    )
    return {line.split()[0] for line in listed.stdout.splitlines() if line.endswith(" storage")}


def processes_with(text: str, within: float = 30) -> list[str]:
    """Processes whose command line holds ``text``, once given ``within`` seconds to go."""
    deadline = time.monotonic() + within
    while True:
        found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True).stdout.splitlines()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def tags_of(engine: str, crate: str) -> list[str]:
    return output_words(engine, "images", "-q", "--filter", f"reference=*pytest-rustimage/{crate}:*")


@pytest.fixture
def slow_crate(project: Project) -> Iterator[tuple[Path, str]]:
    crate = project.fresh("slowbuild")
    marker = uuid.uuid4().hex
    (crate / "Dockerfile").write_text(SLOW_DOCKERFILE.format(marker=marker))
    (crate / "slow").write_text("")
    project.set_metadata(crate, expect_linkage='"any"')
    yield crate, marker
    for line in processes_with(marker, within=0):  # never leave the sleeping step to a later test
        subprocess.run(["kill", "-9", line.split()[0]], capture_output=True)


def assert_stopped(code: int, output: str, how: str) -> None:
    assert code == STOPS[how], output
    assert "KeyboardInterrupt" in output
    if how == "SIGTERM":
        assert "terminated by SIGTERM" in output


@pytest.mark.parametrize("how", STOPS)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_stop_during_a_build_leaves_nothing_and_the_next_run_works(
    project: Project, slow_crate: tuple[Path, str], engine: str, how: str
) -> None:
    crate, marker = slow_crate
    stages_before = working_containers()
    args = ["slowbuild", "--rust-image-strategy=dockerfile", f"--rust-image-engine={engine}"]
    args.append("--rust-image-checks=build")
    run = Session(project.path, *args, "--rust-image-require-engine")
    run.wait_for(f"step-42-{marker}")  # the slow step is running
    run.interrupt(how)
    code, output = run.finish()
    assert_stopped(code, output, how)
    assert processes_with(marker) == [], "the build step still runs"
    assert working_containers() == stages_before, "a build stage container was left"
    assert tags_of(engine, "slowbuild") == [], "a half-made image was tagged"
    # containers: the autouse fixture; and the next run builds as if nothing happened
    (crate / "slow").unlink()
    project.run(*args).assert_outcomes(passed=1)


@pytest.mark.parametrize("how", STOPS)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_stop_while_a_container_runs_removes_it(project: Project, engine: str, how: str) -> None:
    crate = project.fresh("sleepy", main_rs=SLEEPER)
    project.set_metadata(crate, run_timeout="3")  # for the built-in runs check of the second run
    project.pytester.makepyfile(
        test_wait="""
import pytest

@pytest.mark.rust_image(crate="sleepy")
def test_it(rust_image):
    rust_image.run("--version", timeout=900)  # never ends by itself
"""
    )
    args = ["test_wait.py", "--rust-image-strategy=static", f"--rust-image-engine={engine}"]
    run = Session(project.path, *args, "--rust-image-require-engine")
    label = f"label={PLUGIN_LABEL}"
    deadline = time.monotonic() + 900
    while not output_words(engine, "ps", "-q", "--filter", label, "--filter", "status=running"):
        assert run.proc.poll() is None and time.monotonic() < deadline, "".join(run.output)
        time.sleep(0.5)
    run.interrupt(how)
    code, output = run.finish()
    assert_stopped(code, output, how)
    assert output_words(engine, "ps", "-aq", "--filter", label) == [], "the container was left"
    assert processes_with("sleepy --version") == []
    again = project.run("sleepy", "--rust-image-strategy=static", f"--rust-image-engine={engine}", NO_CACHE)
    again.assert_outcomes(passed=3, failed=1)  # runs fails: this binary never ends with --version
    again.stdout.fnmatch_lines(["*did not finish within*the container was stopped and removed*"])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_build_over_its_timeout_is_stopped_and_leaves_nothing(
    project: Project, slow_crate: tuple[Path, str], engine: str
) -> None:
    _, marker = slow_crate
    stages_before = working_containers()
    started = time.monotonic()
    result = project.run(
        "slowbuild",
        "--rust-image-strategy=dockerfile",
        f"--rust-image-engine={engine}",
        "--rust-image-checks=build",
        "-o",
        "rust_image_build_timeout=8",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not build: the build did not finish within 8s and was stopped*"])
    assert time.monotonic() - started < 300  # not the step's 600 s
    assert processes_with(marker) == [], "the build step still runs"
    assert working_containers() == stages_before
    assert tags_of(engine, "slowbuild") == []


GONE = """
import os, signal
import pytest

@pytest.mark.rust_image(crate="hello")
def test_engine_goes_away(rust_image):
    assert rust_image.run("--version").exit_code == 0
    os.killpg(int(os.environ["ENGINE_PROXY_PGID"]), signal.SIGKILL)
    rust_image.run("--version")
"""


@pytest.fixture
def engine_proxy(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, str, int]]:
    """(engine, socket URL, process group) of a private endpoint of the engine that a test may kill."""
    engine: str = request.param
    path = tmp_path / f"{engine}.sock"
    if engine == "docker":
        command = ["socat", f"UNIX-LISTEN:{path},fork", docker_address()]
    else:
        command = ["podman", "system", "service", "--time=0", f"unix://{path}"]
    proxy = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{command[0]} did not start"
        time.sleep(0.1)
    yield engine, f"unix://{path}", proxy.pid
    if proxy.poll() is None:
        os.killpg(proxy.pid, signal.SIGTERM)
    proxy.wait(timeout=30)


@pytest.mark.parametrize("engine_proxy", ENGINES, indirect=True)
def test_an_engine_gone_mid_run_fails_clearly_without_hanging(
    project: Project, engine_proxy: tuple[str, str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, url, pgid = engine_proxy
    project.copy("hello")
    # built first through the usual endpoint: a session cut off from its engine cannot clean up its build
    pre = project.run(
        "hello", "--rust-image-strategy=static", f"--rust-image-engine={engine}", "--rust-image-checks=build"
    )
    pre.assert_outcomes(passed=1)
    project.pytester.makepyfile(test_gone=GONE)
    monkeypatch.setenv("DOCKER_HOST" if engine == "docker" else "CONTAINER_HOST", url)
    monkeypatch.setenv("ENGINE_PROXY_PGID", str(pgid))
    result = project.run("test_gone.py", "--rust-image-strategy=static", f"--rust-image-engine={engine}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{engine} engine at {url} stopped answering*"])
    result.stdout.fnmatch_lines([f"rust-image: cleaning up {engine} failed: *; once it answers again, *prune*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
