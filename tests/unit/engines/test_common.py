"""What Docker and Podman share (engines/common.py): build flags and outcomes, reading a file out of
an image's tar through its symbolic links, listings as entries; and Docker's one way of turning SDK
errors into the plugin's."""

from __future__ import annotations

import io
import stat
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import requests.exceptions

from pytest_rustimage.cachecheck.assess import assess
from pytest_rustimage.cachecheck.verdict import CacheReport
from pytest_rustimage.engines.common import (
    build_arguments,
    built_image_id,
    container_entry,
    image_entry,
    imported_image_id,
    not_in_image,
    read_following_links,
    run_build,
    tar_member,
    write_secrets,
)
from pytest_rustimage.engines.docker import DockerEngine
from pytest_rustimage.engines.docker.cli import DockerCli
from pytest_rustimage.engines.podman.runtime import CRUN_HINT, crun_hint, retry_storage_race, storage_race
from pytest_rustimage.engines.protocol import BuildOutput, BuildRequest, ContainerEntry, ImageEntry
from pytest_rustimage.errors import BuildFailed, EngineError, EngineGone

DATA = Path(__file__).resolve().parents[1] / "data"

REQUEST = BuildRequest(
    context=Path("/ctx"),
    dockerfile=Path("/gen/Dockerfile"),
    tag="pytest-rustimage/hello:static-abc",
    build_args={"Z_LAST": "z", "A_FIRST": "a=b"},
    labels={"org.b": "2", "org.a": "1"},
    target="runtime",
    no_cache=True,
    secrets={"token": "s3cret"},
)
FLAGS = [
    "-f", "/gen/Dockerfile", "-t", "pytest-rustimage/hello:static-abc", "--iidfile", "/tmp/x/iid",
    "--target", "runtime", "--no-cache",
    "--build-arg", "A_FIRST=a=b", "--build-arg", "Z_LAST=z",
    "--label", "org.a=1", "--label", "org.b=2",
]  # fmt: skip

# --- build flags ------------------------------------------------------------------------------


def test_build_arguments_spell_every_flag_sorted_then_the_secrets_and_last_the_context() -> None:
    secrets = ["--secret", "id=token,src=/tmp/x/secret-token"]
    assert build_arguments(REQUEST, Path("/tmp/x/iid"), secrets) == [*FLAGS, *secrets, "/ctx"]


def test_build_arguments_leave_out_what_is_not_asked_for() -> None:
    plain = BuildRequest(context=Path("/ctx"), dockerfile=Path("/ctx/Dockerfile"), tag="t:1")
    assert build_arguments(plain, Path("/i")) == ["-f", "/ctx/Dockerfile", "-t", "t:1", "--iidfile", "/i", "/ctx"]


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("buildx", ["buildx", "build", "--load", "--progress=plain"]),
        ("buildkit-env", ["build", "--progress=plain"]),
        ("legacy", ["build"]),
    ],
)
def test_a_docker_cli_puts_its_own_words_before_the_shared_flags(mode: str, words: list[str]) -> None:
    command = DockerCli("/usr/bin/docker", mode).build_command(REQUEST, Path("/tmp/x/iid"))
    assert command == ["/usr/bin/docker", *words, *FLAGS, "/ctx"]


def test_secrets_are_private_files_outside_the_context(tmp_path: Path) -> None:
    request = BuildRequest(Path("/ctx"), Path("/ctx/Dockerfile"), "t:1", secrets={"b": "two", "a": "one"})
    options = write_secrets(request, tmp_path)
    assert options == ["--secret", f"id=a,src={tmp_path}/secret-a", "--secret", f"id=b,src={tmp_path}/secret-b"]
    assert (tmp_path / "secret-a").read_text() == "one"
    assert stat.S_IMODE((tmp_path / "secret-b").stat().st_mode) == 0o600


# --- build outcomes ---------------------------------------------------------------------------


def test_a_build_out_of_time_says_so_and_is_marked_timed_out(tmp_path: Path) -> None:
    request = BuildRequest(Path("/ctx"), Path("/ctx/Dockerfile"), "t:1", timeout=8)
    with pytest.raises(BuildFailed) as caught:
        built_image_id("docker build", request, (-15, "step 3/9\n", True), tmp_path / "iid", hint=crun_hint)
    assert caught.value.reason == "the build did not finish within 8s and was stopped"
    assert caught.value.timed_out and caught.value.log == "step 3/9\n"


@pytest.mark.parametrize("command", ["docker build", "podman build"])
def test_a_failed_build_names_its_command_and_exit_code(tmp_path: Path, command: str) -> None:
    with pytest.raises(BuildFailed) as caught:
        built_image_id(command, REQUEST, (1, "error[E0425]\n", False), tmp_path / "iid")
    assert caught.value.reason == f"`{command}` exited with code 1"
    assert not caught.value.timed_out and "error[E0425]" in str(caught.value)


def test_a_build_that_wrote_no_id_failed_even_with_exit_code_0(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match=r"^`podman build` exited with code 0"):
        built_image_id("podman build", REQUEST, (0, "", False), tmp_path / "iid")


def test_the_hint_is_added_to_a_failure_when_the_log_shows_a_runtime_failure(tmp_path: Path) -> None:
    log = "crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted\n"
    with pytest.raises(BuildFailed) as caught:
        built_image_id("podman build", REQUEST, (125, log, False), tmp_path / "iid", hint=crun_hint)
    assert caught.value.reason == f"`podman build` exited with code 125\n{CRUN_HINT}"
    assert crun_hint("error[E0425]: cannot find value") == ""


# the last lines of real buildah 1.28 failures (a CI run with two sessions building on one storage)
RACE_LOOKUP = (
    "[5/5] STEP 2/12: COPY --from=build /rust-image-out/wsctl /usr/local/bin/wsctl\n"
    "Error: checking if cached image exists from a previous build: getting top layer info: layer not known\n"
)
RACE_COMMIT = (
    "COMMIT c1\nError: committing container for step {Env:[PATH=/usr/bin] Command:run Args:[echo hi]}: "
    'copying layers and metadata for container "a8d0": committing the finished image: creating image "4177": '
    "layer not known\n"
)


@pytest.mark.parametrize("log", [RACE_LOOKUP, RACE_COMMIT])
def test_buildahs_storage_race_is_told_from_its_last_lines(log: str) -> None:
    assert storage_race(log)


@pytest.mark.parametrize(
    "log",
    [
        'error[E0425]: cannot find value `x`\nError: building at STEP "RUN cargo build": exit status 101\n',
        # a step that prints the words, then fails for its own reason much later
        RACE_LOOKUP + "\n".join(f"   Compiling crate{i}" for i in range(10)) + "\nError: exit status 101\n",
        # committing failed for another reason
        "Error: committing container for step {}: committing the finished image: no space left on device\n",
        "",
    ],
)
def test_other_build_failures_are_not_the_storage_race(log: str) -> None:
    assert not storage_race(log)


def test_the_id_is_as_the_builder_wrote_it(tmp_path: Path) -> None:
    (tmp_path / "iid").write_text("sha256:abc\n")
    assert built_image_id("docker build", REQUEST, (0, "", False), tmp_path / "iid") == "sha256:abc"


def shell(script: str) -> Callable[[Path, list[str]], list[str]]:
    """A stand-in build: ``script`` runs with the id file as $1 and the secret options after it."""
    return lambda iidfile, secrets: [sys.executable, "-c", script, str(iidfile), *secrets]


def test_run_build_streams_the_log_and_reads_the_id_while_the_secrets_exist() -> None:
    script = (
        "import sys, pathlib\n"
        "print('secret is', pathlib.Path(sys.argv[3].split('src=')[1]).read_text(), flush=True)\n"
        "pathlib.Path(sys.argv[1]).write_text('sha256:feed\\n')\n"
    )
    lines: list[str] = []
    request = BuildRequest(Path("/ctx"), Path("/ctx/Dockerfile"), "t:1", secrets={"token": "s3cret"}, timeout=60)
    built = run_build("docker build", request, shell(script), env={}, on_line=lines.append)
    assert (built.image_id, built.log, lines) == ("sha256:feed", "secret is s3cret\n", ["secret is s3cret"])
    assert built.duration > 0


def test_run_build_tells_a_stopped_build_before_the_error_goes_on() -> None:
    stopped: list[str] = []
    request = BuildRequest(Path("/ctx"), Path("/ctx/Dockerfile"), "t:1", timeout=0.5)
    with pytest.raises(BuildFailed, match=r"did not finish within 0\.5s") as caught:
        run_build(
            "podman build",
            request,
            shell("import time; time.sleep(30)"),
            env={},
            on_line=None,
            stopped=lambda: stopped.append("cleaned"),
        )
    assert caught.value.timed_out and stopped == ["cleaned"]


def test_run_build_leaves_a_failed_build_alone() -> None:
    stopped: list[str] = []
    request = BuildRequest(Path("/ctx"), Path("/ctx/Dockerfile"), "t:1", timeout=60)
    with pytest.raises(BuildFailed, match=r"^`docker build` exited with code 3"):
        run_build("docker build", request, shell("raise SystemExit(3)"), env={}, on_line=None, stopped=stopped.clear)
    assert stopped == []


# --- files out of an image --------------------------------------------------------------------


def tar_of(name: str, *, data: bytes | None = None, link: str | None = None, folder: bool = False) -> bytes:
    """A one-member tar as an engine copies one path out: a file, a symbolic link or a folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        if link is not None:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        elif folder:
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        else:
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


# a little image: /usr/local/bin/hello, reached through a relative and an absolute link
FILES = {
    "/usr/local/bin/hello": {"data": b"\x7fELF..."},
    "/usr/local/bin/hi": {"link": "hello"},
    "/bin/hello": {"link": "/usr/local/bin/hi"},
    "/etc": {"folder": True},
    "/loop/a": {"link": "b"},
    "/loop/b": {"link": "a"},
}


def podman_like(image: str) -> Callable[[str], tuple[str, bytes]]:
    """``podman cp``: a tar of the path itself, a symbolic link as its member."""

    def fetch(path: str) -> tuple[str, bytes]:
        if path not in FILES:
            raise not_in_image(path, image, "Error: no such file")
        return "", tar_of(path.rsplit("/", 1)[1], **FILES[path])

    return fetch


def docker_like(image: str) -> Callable[[str], tuple[str, bytes]]:
    """Docker's archive API: the stat says when the path is a symbolic link."""

    def fetch(path: str) -> tuple[str, bytes]:
        if path not in FILES:
            raise not_in_image(path, image)
        link = str(FILES[path].get("link") or "")
        return (link, b"") if link else ("", tar_of(path.rsplit("/", 1)[1], **FILES[path]))

    return fetch


@pytest.mark.parametrize("fetcher", [podman_like, docker_like])
@pytest.mark.parametrize("path", ["/usr/local/bin/hello", "/usr/local/bin/hi", "/bin/hello"])
def test_a_file_is_read_through_its_links(fetcher: Callable[[str], Any], path: str) -> None:
    assert read_following_links("img", path, fetcher("img")) == b"\x7fELF..."


@pytest.mark.parametrize("fetcher", [podman_like, docker_like])
def test_what_is_not_a_file_says_so(fetcher: Callable[[str], Any]) -> None:
    with pytest.raises(EngineError, match=r"^/etc in image img is not a regular file$"):
        read_following_links("img", "/etc", fetcher("img"))
    with pytest.raises(EngineError, match=r"^/loop/[ab] in image img: too many levels of symbolic links$"):
        read_following_links("img", "/loop/a", fetcher("img"))


def test_a_missing_file_names_itself_and_the_image() -> None:
    with pytest.raises(EngineError, match=r"^/nope does not exist in image img: Error: no such file$"):
        read_following_links("img", "/nope", podman_like("img"))
    with pytest.raises(EngineError, match=r"^/bin/gone does not exist in image img$"):
        read_following_links("img", "/bin/gone", docker_like("img"))


def test_tar_member_tells_a_file_a_link_and_anything_else() -> None:
    assert tar_member(tar_of("f", data=b"abc")) == ("", b"abc")
    assert tar_member(tar_of("l", link="../f")) == ("../f", None)
    assert tar_member(tar_of("d", folder=True)) == ("", None)
    assert tar_member(tar_of_nothing()) == ("", None)


def tar_of_nothing() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w"):
        pass
    return buffer.getvalue()


# --- imports and listings ---------------------------------------------------------------------


def test_an_import_that_made_no_image_is_an_error() -> None:
    assert imported_image_id("sha256:abc", Path("/t/rootfs.tar"), "base:1") == "sha256:abc"
    with pytest.raises(EngineError, match=r"^importing /t/rootfs.tar as base:1 produced no image$"):
        imported_image_id(None, Path("/t/rootfs.tar"), "base:1")


def test_listings_become_entries_with_normalised_ids() -> None:
    item = {"Id": "abc", "Created": 17, "Labels": {"k": "v"}, "Names": ["localhost/x:1"]}
    assert image_entry(item, ["localhost/x:1"]) == ImageEntry("sha256:abc", ("localhost/x:1",), 17.0, {"k": "v"})
    assert image_entry({"Id": "sha256:d", "Labels": None}, ()) == ImageEntry("sha256:d", (), 0.0, {})
    container = {"Id": "c1", "ImageID": "abc", "Created": 5, "State": "exited", "Labels": {"k": "v"}}
    assert container_entry(container) == ContainerEntry("c1", "sha256:abc", 5.0, "exited", {"k": "v"})
    assert container_entry({"Id": "c2"}) == ContainerEntry("c2", "sha256:", 0.0, "", {})


# --- Docker: SDK errors become the plugin's one way -----------------------------------------------


class FailingApi:
    """The SDK's low-level client, every call failing with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return call


class FakeClient:
    def __init__(self, error: Exception) -> None:
        self.api = FailingApi(error)

    def close(self) -> None:
        pass


def docker_failing(monkeypatch: pytest.MonkeyPatch, error: Exception) -> DockerEngine:
    monkeypatch.setattr(docker, "DockerClient", lambda **kwargs: FakeClient(error))
    return DockerEngine(base_url="unix:///s.sock", cli="/nonexistent/docker")


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda e: e.inspect_raw("hello:1"), "inspect image hello:1"),
        (lambda e: e.inspect_raw(ref="hello:2"), "inspect image hello:2"),
        (lambda e: e.history_sizes("hello:1"), "read the history of hello:1"),
        (lambda e: e.image_id("hello:1"), "image id"),
        (lambda e: e.list_images("io.github.pytest-rustimage"), "list images"),
        (lambda e: e.list_containers("io.github.pytest-rustimage"), "list containers"),
        (lambda e: e.image_layers(), "list images"),
        (lambda e: e.logs("c1"), "logs"),
        (lambda e: e.remove_unused_image("hello:1"), "remove unused image"),
    ],
)
def test_docker_names_the_failed_action_and_the_engine(
    monkeypatch: pytest.MonkeyPatch, call: Callable[[DockerEngine], Any], action: str
) -> None:
    refused = docker_failing(monkeypatch, docker.errors.DockerException("boom"))
    with pytest.raises(EngineError) as caught:
        call(refused)
    assert not isinstance(caught.value, EngineGone)
    assert str(caught.value) == f"docker engine at unix:///s.sock failed ({action}): boom"
    gone = docker_failing(monkeypatch, requests.exceptions.ConnectionError("refused"))
    with pytest.raises(EngineGone) as went:
        call(gone)
    assert str(went.value) == f"docker engine at unix:///s.sock stopped answering: {action}: refused"


def test_docker_export_fails_as_it_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = docker_failing(monkeypatch, docker.errors.DockerException("no such image"))
    with (
        pytest.raises(EngineError, match=r"failed \(export image hello:1\): no such image$"),
        engine.open_archive("hello:1"),
    ):
        pass


def race_then(results: list[BuildOutput | BuildFailed]) -> Callable[[], BuildOutput]:
    """A stand-in for one Podman build attempt: each call gives the next result (raising failures)."""

    def attempt() -> BuildOutput:
        result = results.pop(0)
        if isinstance(result, BuildFailed):
            raise result
        return result

    return attempt


def test_a_build_lost_to_the_storage_race_keeps_every_attempts_log() -> None:
    """The first attempt compiled the dependencies, then lost its layer; the second took them from cache.
    The cache probe must see the first attempt's compiles, so the joined log and time are kept."""
    cold = (DATA / "workspace-chef-buildah-cold.log").read_text()
    warm = (DATA / "workspace-chef-buildah-warm.log").read_text()
    seen: list[str] = []
    built = retry_storage_race(
        race_then([BuildFailed("exit 125", cold + RACE_LOOKUP), BuildOutput("sha256:1", warm, 2.0)]), seen.append
    )
    assert built.image_id == "sha256:1"
    assert built.log.startswith(cold) and built.log.endswith(warm) and "building again (2 of 3)" in built.log
    assert built.duration >= 2.0
    assert seen == [line for line in built.log.splitlines() if line.startswith("rust-image: buildah lost")]

    # the verdict on the joined log names the crate the lost attempt compiled
    def judged(rebuild_log: str) -> CacheReport:
        return assess(
            edit="appended a comment",
            strategy="chef",
            engine="podman",
            baseline_log=cold,
            baseline="this session's build",
            baseline_seconds=30.0,
            rebuild_log=rebuild_log,
            rebuild_seconds=built.duration,
            own_crates=["ws-cli", "ws-core", "ws-daemon"],
        )

    report = judged(built.log)
    assert not report.ok and report.third_party_recompiled == ("itoa v1.0.19",)
    assert judged(warm).ok  # the last attempt's log alone would have passed: the defect this keeps away


def test_the_storage_race_is_tried_at_most_three_times_and_the_failure_carries_every_log() -> None:
    failures = [BuildFailed("exit 125", f"attempt {n}\n{RACE_LOOKUP}") for n in (1, 2, 3)]
    with pytest.raises(BuildFailed) as raised:
        retry_storage_race(race_then([*failures, BuildOutput("sha256:never", "", 0.0)]))
    assert [line for line in raised.value.log.splitlines() if line.startswith("attempt")] == [
        "attempt 1",
        "attempt 2",
        "attempt 3",
    ]


@pytest.mark.parametrize(
    "failure",
    [
        BuildFailed("exit 101", "error[E0425]: cannot find value `x`\nError: exit status 101\n"),
        BuildFailed("timed out", RACE_LOOKUP, timed_out=True),
    ],
)
def test_other_failures_are_not_built_again(failure: BuildFailed) -> None:
    calls: list[BuildOutput | BuildFailed] = [failure, BuildOutput("sha256:never", "", 0.0)]
    with pytest.raises(BuildFailed) as raised:
        retry_storage_race(race_then(calls))
    assert raised.value is failure and len(calls) == 1
