"""OCI labels on images built from a crate inside a real git repository, on both engines."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage.recipe.oci import CREATED, REVISION, SOURCE, TITLE, VERSION
from tests.acceptance.owned import ENGINES, built_tags, labels, own_crate, rename
from tests.acceptance.project import Project

SECRET = "tok3n-never-in-a-label"
RUN = ("--rust-image-engine=all", "--rust-image-strategy=static")


@pytest.fixture
def crate_name() -> Iterator[str]:
    yield from own_crate("ocitest")


def git(folder: Path, *args: str, **env: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env})
    return done.stdout.strip()


def oci_labels(engine: str, ref: str) -> dict[str, str]:
    return {k: v for k, v in labels(engine, ref).items() if k.startswith("org.opencontainers.")}


def test_images_carry_the_commit_its_time_and_the_repository_without_credentials(
    project: Project, crate_name: str
) -> None:
    crate = project.copy("hello", "app")
    rename(crate, crate_name)
    git(crate, "init", "-q")
    git(crate, "add", "-A")
    git(crate, "commit", "-q", "-m", "v1", GIT_COMMITTER_DATE="@1700000000 +0000", GIT_AUTHOR_DATE="@1600000000 +0000")
    git(crate, "remote", "add", "origin", f"https://ci-bot:{SECRET}@git.example.com/team/{crate_name}.git")
    commit = git(crate, "rev-parse", "HEAD")

    result = project.run("app", *RUN, "--rust-image-checks=build,parity")
    result.assert_outcomes(passed=3)  # a build on each engine, and parity: the labels do not upset it
    tags = built_tags(result)
    expected = {
        SOURCE: f"https://git.example.com/team/{crate_name}.git",
        REVISION: commit,
        CREATED: "2023-11-14T22:13:20Z",  # the commit's (committer) time, not the build's
        TITLE: crate_name,
        VERSION: "0.1.0",
    }
    # exactly these: the sample has no license or description field, so there is no such label
    assert oci_labels("docker", tags["docker"]) == oci_labels("podman", tags["podman"]) == expected
    for engine in ENGINES:  # the credentials are nowhere in the image's metadata, history included
        shown = subprocess.run([engine, "image", "inspect", tags[engine]], capture_output=True, text=True).stdout
        shown += subprocess.run([engine, "history", "--no-trunc", tags[engine]], capture_output=True, text=True).stdout
        assert commit in shown
        assert SECRET not in shown and "ci-bot" not in shown

    # a commit that changes no build input reuses the images, which keep the first commit's labels
    git(crate, "commit", "-q", "--allow-empty", "-m", "empty", GIT_COMMITTER_DATE="@1700000100 +0000")
    assert git(crate, "rev-parse", "HEAD") != commit
    again = project.run("app", *RUN, "--rust-image-checks=build")
    again.assert_outcomes(passed=2)
    assert built_tags(again) == tags
    again.stdout.fnmatch_lines([f"*reusing {tags['docker']} *(inputs unchanged)*"])
    assert oci_labels("docker", tags["docker"]) == expected
