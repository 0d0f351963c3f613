"""The sample crates pass their built-in checks with chef and with static."""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from tests.acceptance.project import NO_CACHE, Project


@pytest.mark.parametrize("sample", ["hello", "server", "workspace"])
def test_sample_passes_built_in_checks_with_chef_and_static(project: Project, sample: str) -> None:
    project.copy(sample)
    # the server's cache probes (cold builds of tokio and axum on no cache) are the main job's (.ci/run)
    checks = ("build", "runs", "size", "linkage") + (() if sample == "server" else ("cache",))
    result = project.run(sample, "--rust-image-strategy=chef,static", f"--rust-image-checks={','.join(checks)}", "-v")
    result.assert_outcomes(passed=2 * len(checks))
    for check in checks:
        for variant in ("chef-docker", "static-docker"):
            result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::{check}[[]{variant}[]] PASSED*"])
    result.stdout.fnmatch_lines(["*rust-image summary*", f"{sample}*chef*docker*", f"{sample}*static*docker*"])


def test_static_hello_image_fits_in_one_and_a_half_megabytes(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, max_size='"1.5MB"')
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE, "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*size[[]static-docker[]] PASSED*"])


def test_second_session_reuses_the_image_without_building(project: Project) -> None:
    project.copy("hello")
    first = project.run("hello", "--rust-image-strategy=static", NO_CACHE, "--rust-image-rebuild")
    first.assert_outcomes(passed=4)
    first.stdout.fnmatch_lines(["*building hello (static-docker)*"])
    second = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    second.assert_outcomes(passed=4)
    second.stdout.fnmatch_lines(
        ["*reusing pytest-rustimage/hello:static-* (inputs unchanged)*", "*hello*static*reused*"]
    )
    assert "building hello" not in second.stdout.str()


def summary_tag(result: pytest.RunResult) -> str:
    """The tag the run's summary names for hello's static image on Docker (``image TAG (static-docker)``)."""
    found = [m[1] for m in (re.match(r"^image (\S+) \(static-docker\)", line) for line in result.outlines) if m]
    assert len(found) == 1, result.outlines
    assert re.fullmatch(r"pytest-rustimage/hello:static-[0-9a-f]+", found[0]), found
    return found[0]


def test_a_source_change_makes_a_new_tag(project: Project) -> None:
    crate = project.copy("hello")
    first = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    first.assert_outcomes(passed=4)  # built now or reused from an earlier session: either has a tag
    old = summary_tag(first)
    main = crate / "src" / "main.rs"
    main.write_text(main.read_text() + f"\n// a change never built before: {uuid.uuid4()}\n")
    second = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    second.assert_outcomes(passed=4)
    new = summary_tag(second)
    second.stdout.fnmatch_lines([f"*building hello (static-docker) with docker (*) as {new} ...*"])
    assert new != old
    assert old not in second.stdout.str()
    subprocess.run(["docker", "rmi", new], capture_output=True, check=True)  # it serves no later run
