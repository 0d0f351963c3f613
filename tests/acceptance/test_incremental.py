"""The ``incremental`` strategy on real engines: after an edit cargo recompiles only what it must, and
the target/ cache mount never hands out a stale or another copy's binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage import names
from tests.acceptance.owned import image_id, own_crate, prune
from tests.acceptance.project import Project

MAIN = "crates/cli/src/main.rs"
PRINTS = 'println!("{BIN_NAME} {VERSION}")'


@pytest.fixture
def name() -> Iterator[str]:
    for made in own_crate("inc"):
        yield made
        removed = prune("--cache-mounts", "--crate", made, "--grace", "0")  # the test's own target/ mounts
        assert removed.returncode == 0, removed.stderr
        assert mounts_of(made) == [], removed.stdout


def mounts_of(crate: str) -> list[str]:
    """The lines of ``prune --cache-mounts --dry-run`` that name a cache mount of ``crate``."""
    listed = prune("--cache-mounts", "--crate", crate, "--grace", "0", "--dry-run")
    assert listed.returncode == 0, listed.stderr
    return [line.strip() for line in listed.stdout.splitlines() if "would remove cache mount" in line]


def own_recompiled(report: Path) -> dict[tuple[str, str], list[str]]:
    """(strategy, engine) -> the workspace crates the cache probe's rebuild compiled, sorted."""
    images = json.loads(report.read_text())["images"]
    return {(i["strategy"], i["engine"]): sorted(i["cache"]["own_recompiled"]) for i in images}


def prints(project: Project, crate: Path, words: str) -> None:
    """Make the workspace's wsctl print ``words`` for --version, and expect it."""
    main = crate / MAIN
    main.write_text(main.read_text().replace(PRINTS, f'println!("{words}")'))
    project.set_metadata(crate, expect_stdout=f'"{words}"')


def test_an_edit_recompiles_the_edited_package_only_and_never_a_stale_binary(project: Project, name: str) -> None:
    crate = project.copy("workspace", name)
    original = (crate / MAIN).read_bytes()
    report = project.path / "first.json"
    first = project.run(
        name, "--rust-image-strategy=incremental,chef", "--rust-image-engine=all", f"--rust-image-report={report}"
    )
    first.assert_outcomes(passed=26)  # 6 checks x 2 strategies x 2 engines, and parity for each strategy
    recompiled = own_recompiled(report)
    for engine in ("docker", "podman"):
        # what cargo recompiles on the host after an edit of wsctl's main: that package alone
        assert recompiled[("incremental", engine)] == ["ws-cli v0.1.0"], recompiled
        assert recompiled[("chef", engine)] == ["ws-cli v0.1.0", "ws-core v0.1.0"], recompiled  # skeletons
    # one target/ mount per engine, named for the crate, binary and builder image, which prune finds
    mounts = mounts_of(name)
    builder = {engine: image_id(engine, names.LOCAL_BUILDER) for engine in ("docker", "podman")}
    expected = {
        f"pytest-rustimage-target-{name}--wsctl--{ident.removeprefix('sha256:')[:12]} ("
        for ident in builder.values()
        if ident
    }
    assert len(mounts) == 2 and all(any(e in line for e in expected) for line in mounts), (mounts, expected)
    # a real edit: the image has it, although the probe's own edit was the last build in the mount
    prints(project, crate, "wsctl edited")
    incremental = ("--rust-image-strategy=incremental", "--rust-image-engine=all", "--rust-image-checks=build,runs")
    project.run(name, *incremental).assert_outcomes(passed=4)
    # back to the original main.rs with an old file time, and an edit elsewhere (a package wsctl does not
    # depend on) so that no build step comes from the layer cache: cargo alone would take the newer,
    # edited build for fresh; the build step's content rule makes it recompile main.rs
    (crate / MAIN).write_bytes(original)
    prints(project, crate, "wsctl 0.1.0")
    os.utime(crate / MAIN, (946_684_800, 946_684_800))  # 2000-01-01
    daemon = crate / "crates" / "daemon" / "src" / "main.rs"
    daemon.write_text(daemon.read_text() + "\n// edited\n")
    project.run(name, *incremental).assert_outcomes(passed=4)


def test_a_revert_after_a_failed_build_never_gets_the_failed_builds_library(project: Project, name: str) -> None:
    crate = project.copy("workspace", name)
    project.set_metadata(crate, args='["greet"]', expect_stdout='"Hello, world!"')  # ws-core's words
    checks = ("--rust-image-strategy=incremental", "--rust-image-engine=all", "--rust-image-checks=build,runs")
    project.run(name, *checks).assert_outcomes(passed=4)  # the mount's record now describes these sources
    # the library's words change and the binary's package breaks: cargo compiles ws-core, then fails
    lib, main = crate / "crates" / "core" / "src" / "lib.rs", crate / MAIN
    lib_text, main_text = lib.read_text(), main.read_text()
    lib.write_text(lib_text.replace('format!("Hello, {who}!")', 'format!("Bye, {who}!")'))
    main.write_text(main_text + 'compile_error!("broken on purpose");\n')
    project.run(name, *checks).assert_outcomes(failed=2, skipped=2)
    # both back; and an edit to a package wsctl does not depend on, so that neither the first run's
    # image nor a build step from the layer cache stands in: the build step runs on the mount, where
    # ws-core's newest artifacts are the failed build's
    lib.write_text(lib_text)
    main.write_text(main_text)
    daemon = crate / "crates" / "daemon" / "src" / "main.rs"
    daemon.write_text(daemon.read_text() + "\n// edited\n")
    project.run(name, *checks).assert_outcomes(passed=4)  # runs: "Hello, world!", not "Bye, world!"


TWO_RUNS = """
import subprocess, sys
runs = [
    subprocess.Popen([sys.executable, "-m", "pytest", "--rust-image", folder, "-p", "no:cacheprovider",
                      "--rust-image-strategy=incremental", "--rust-image-engine=all", "--rust-image-require-engine",
                      "--rust-image-checks=build,runs"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for folder in ("one/{name}", "two/{name}")
]
for run in runs:
    out, _ = run.communicate(timeout=1500)
    print(out)
    print("exit", run.returncode)
"""


def test_two_runs_sharing_one_cache_mount_at_once_each_get_their_own_binary(project: Project, name: str) -> None:
    # two checkouts of one crate (same name, so the same target/ cache mount), with different sources
    for checkout, words in (("one", "wsctl from one"), ("two", "wsctl from two")):
        crate = project.copy("workspace", f"{checkout}/{name}")
        prints(project, crate, words)
    done = subprocess.run(
        [sys.executable, "-c", TWO_RUNS.format(name=name)],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=3000,
        env=os.environ,
    )
    assert done.stdout.count("exit 0") == 2, done.stdout + done.stderr
    assert done.stdout.count("4 passed") == 2, done.stdout


NO_BUILDKIT_CLI = Path("/usr/local/bin/docker")  # on this project's machines: a docker 28 client without buildx


def test_the_legacy_builder_is_refused_in_one_line(
    project: Project, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.copy("workspace", name)
    assert NO_BUILDKIT_CLI.is_file(), (
        f"this test needs a docker CLI of version 23 or later without buildx at {NO_BUILDKIT_CLI}"
    )
    legacy = tmp_path / "bin"  # a PATH whose only docker CLI has neither buildx nor DOCKER_BUILDKIT support
    legacy.mkdir()
    (legacy / "docker").symlink_to(NO_BUILDKIT_CLI)
    tools = [str(Path(tool).parent) for tool in (sys.executable, shutil.which("cargo") or "cargo")]
    with monkeypatch.context() as patch:  # for this run only: the cleanup afterwards needs the real PATH
        patch.setenv("PATH", os.pathsep.join([str(legacy), *tools]))
        result = project.run(name, "--rust-image-strategy=incremental", "--rust-image-engine=docker", "-v")
    result.assert_outcomes(failed=1, skipped=5)
    result.stdout.fnmatch_lines(
        [
            f"{name} (incremental-docker) did not build: the incremental strategy needs cache mounts, and the "
            "legacy Docker builder has no cache mounts (the docker CLI */bin/docker has neither buildx nor "
            "DOCKER_BUILDKIT support): install the buildx plugin, or put a docker CLI older than 23 first on PATH"
        ]
    )
