"""Users' own tests with the rust_image fixture, the marker and rust_image_factory."""

from __future__ import annotations

from tests.acceptance.project import Project, static_libc, static_linkages
from tests.acceptance.test_failures import SLEEPER

USER_TESTS = """
import subprocess

import pytest


def docker_size(image):
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", image.id],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)

@pytest.mark.rust_image(crate="hello", strategy="static")
def test_static_hello(rust_image):
    result = rust_image.run("--version")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hello 0.1.0\\n", "")
    assert result.duration > 0
    facts = rust_image.binary()
    assert facts.path == "/usr/local/bin/hello"
    assert facts.linkage in ("static", "static-pie") and facts.interpreter is None and facts.needed == ()
    assert facts.linkage in LINKAGES and facts.libc == "LIBC" and len(facts.sha256) == 64
    assert rust_image.size == sum(layer.size for layer in rust_image.layers) >= facts.size
    assert rust_image.size == docker_size(rust_image)  # docs/fixtures.md: what `docker image inspect` calls Size
    assert rust_image.info.layer_count == 1
    assert rust_image.config.entrypoint == ("/usr/local/bin/hello",)
    assert rust_image.config.user == "65532:65532"
    assert rust_image.config.labels["io.github.pytest-rustimage.session"]
    assert rust_image.tag.startswith("pytest-rustimage/hello:static-")
    assert rust_image.build.image_id == rust_image.id

@pytest.mark.rust_image(crate="hello", strategy="static")
def test_same_image_is_shared(rust_image, rust_image_factory):
    assert rust_image_factory("hello", strategy="static") is rust_image

@pytest.mark.rust_image(crate="hello", strategy="chef")
def test_chef_hello_is_dynamic_on_the_slim_runtime(rust_image):
    facts = rust_image.binary()
    assert facts.linkage == "dynamic" and "libc.so.6" in facts.needed
    assert rust_image.info.layer_count == 2
    assert rust_image.size == docker_size(rust_image)  # the runtime base's layers too
    assert rust_image.run().stdout == "Hello from a container!\\n"

def test_factory_picks_a_binary_of_the_workspace(rust_image_factory):
    image = rust_image_factory("workspace", strategy="static", bin="ws-daemon")
    assert image.run("--version").stdout.strip() == "ws-daemon 0.1.0"
    assert image.binary().path == "/usr/local/bin/ws-daemon"

@pytest.mark.rust_image(crate="hello")
def test_a_run_within_its_timeout_finishes(rust_image):
    assert rust_image.run("--version", timeout=30).exit_code == 0
"""


def test_users_tests_get_real_images(project: Project) -> None:
    project.copy("hello")
    project.copy("workspace")
    user_tests = USER_TESTS.replace("LINKAGES", repr(static_linkages())).replace('"LIBC"', repr(static_libc()))
    project.pytester.makepyfile(test_user=user_tests)
    result = project.run("test_user.py", "-v")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*test_static_hello[[]static-docker[]] PASSED*",
            "*test_chef_hello_is_dynamic_on_the_slim_runtime[[]chef-docker[]] PASSED*",
            "*test_a_run_within_its_timeout_finishes[[]chef-docker[]] PASSED*",
        ]
    )


def test_cli_strategies_parametrize_users_tests(project: Project) -> None:
    project.copy("hello")
    project.pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.rust_image(crate="hello")
def test_runs(rust_image):
    assert rust_image.run("--version").stdout == "hello 0.1.0\\n"
"""
    )
    result = project.run("test_user.py", "-v", "--rust-image-strategy=static,chef")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_runs[[]static-docker[]] PASSED*", "*test_runs[[]chef-docker[]] PASSED*"])


def test_without_the_option_image_tests_are_skipped_and_crates_not_collected(project: Project) -> None:
    project.copy("hello")
    project.pytester.makepyfile(
        test_user="""
import pytest

def test_plain():
    pass

@pytest.mark.rust_image(crate="hello")
def test_marked():
    pass

def test_fixture(rust_image):
    pass
"""
    )
    result = project.pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", ".")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*image checks are off: pass --rust-image*"])
    assert "Cargo.toml" not in result.stdout.str()
    assert "building" not in result.stdout.str()


def test_marker_pointing_at_a_missing_crate_fails_clearly(project: Project) -> None:
    project.pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.rust_image(crate="nowhere")
def test_it(rust_image):
    pass
"""
    )
    result = project.run("test_user.py")
    result.assert_outcomes(errors=1)  # the fixture fails at setup, naming the path
    result.stdout.fnmatch_lines(["*ERROR at setup of test_it[[]error[]]*", "*/nowhere: no such file or folder"])


DOCKERFILE = """\
ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${BUILDER_IMAGE} AS build
ARG GREETING=plain
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/hello /hello
FROM ${RUNTIME_IMAGE}
ARG GREETING
LABEL greeting=${GREETING}
COPY --from=build /hello /app/hello
ENTRYPOINT ["/app/hello"]
"""


def test_dockerfile_strategy_builds_the_crates_own_dockerfile_with_build_args(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "Dockerfile").write_text(DOCKERFILE)
    project.set_metadata(crate, build_args='{ GREETING = "hi" }', expect_linkage='"any"')
    project.pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.rust_image(crate="hello", strategy="dockerfile")
def test_it(rust_image):
    assert rust_image.config.labels["greeting"] == "hi"
    assert rust_image.binary_path == "/app/hello"
    assert rust_image.binary().linkage == "dynamic"
"""
    )
    result = project.run("hello", "test_user.py", "--rust-image-strategy=dockerfile", "-v")
    result.assert_outcomes(passed=7)  # the crate's own Dockerfile gets the cache check too
    result.stdout.fnmatch_lines(["*hello/Cargo.toml::runs[[]dockerfile-docker[]] PASSED*"])
    result.stdout.fnmatch_lines(["*hello/Cargo.toml::cache[[]dockerfile-docker[]] PASSED*"])


TIMEOUT_TEST = """
import subprocess
import time

import pytest

from pytest_rustimage.errors import RunTimeout


@pytest.mark.rust_image(crate="sleeprun", strategy="static", engine="all")
def test_run_timeout_is_honoured(rust_image):
    started = time.monotonic()
    with pytest.raises(RunTimeout) as raised:
        rust_image.run("--version", timeout=2)  # prints its version, then never ends
    assert time.monotonic() - started < 60
    message = str(raised.value)
    assert "`/usr/local/bin/sleeprun --version` in " in message
    assert "did not finish within 2s; the container was stopped and removed." in message
    assert "--- output so far ---" in message and "sleeper 0.1.0" in message
    engine = rust_image.engine.name
    left = subprocess.run(
        [engine, "ps", "-aq", "--filter", f"ancestor={rust_image.id}"], capture_output=True, text=True, check=True
    )
    assert left.stdout.split() == [], f"{engine} still holds the timed-out container"
"""


def test_run_timeout_is_honoured_and_removes_the_container(project: Project) -> None:
    project.fresh("sleeprun", main_rs=SLEEPER)
    project.pytester.makepyfile(test_timeout=TIMEOUT_TEST)
    result = project.run("test_timeout.py", "-v")
    result.assert_outcomes(passed=2)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"*test_run_timeout_is_honoured[[]static-{engine}[]] PASSED*"])
