"""One build per image per run: across xdist workers, and between two runs at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.project import NO_CACHE, Project

MANY = """
import pytest

@pytest.mark.rust_image(crate="{name}")
@pytest.mark.parametrize("n", range(6))
def test_runs(rust_image, n):
    assert rust_image.run("--version").stdout.strip() == "hello 0.1.0"
"""


def _images(report: Path) -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads(report.read_text())["images"])


def test_xdist_workers_build_each_image_once(project: Project) -> None:
    project.fresh("xdisthello")
    project.pytester.makepyfile(test_many=MANY.format(name="xdisthello"))
    result = project.run(
        "xdisthello",
        "test_many.py",
        "-n",
        "2",
        "--rust-image-strategy=static",
        "--rust-image-engine=all",
        NO_CACHE,
        "--rust-image-report=report.json",
    )
    result.assert_outcomes(passed=8 + 12)
    images = _images(project.path / "report.json")
    assert sorted(i["engine"] for i in images) == ["docker", "podman"]
    for image in images:
        # both workers needed the image at once, and only one of them built it
        assert image["build"]["sessions"] == 2, image["build"]
        assert image["build"]["builds"] == 1, image["build"]
    # the controller prints the one summary of the run, from what the workers saw
    result.stdout.fnmatch_lines(["*rust-image summary*", "xdisthello*static*docker*", "xdisthello*static*podman*"])


def test_xdist_rebuild_builds_once_per_run_and_the_controller_writes_one_baseline(project: Project) -> None:
    project.fresh("xdistagain")
    project.pytester.makepyfile(test_many=MANY.format(name="xdistagain"))
    args = ["xdistagain", "test_many.py", "-n", "2", "--rust-image-strategy=static", "--rust-image-engine=all"]
    args += [NO_CACHE, "--rust-image-report=report.json"]
    project.run(*args).assert_outcomes(passed=20)
    again = project.run(
        *args, "--rust-image-rebuild", "--rust-image-update-baseline", "--rust-image-baseline=sizes.json"
    )
    again.assert_outcomes(passed=20)
    for image in _images(project.path / "report.json"):
        assert (image["build"]["builds"], image["build"]["sessions"]) == (1, 2), image["build"]
    assert sorted(json.loads((project.path / "sizes.json").read_text())["images"]) == [
        "xdistagain/static/docker",
        "xdistagain/static/podman",
    ]
    again.stdout.fnmatch_lines(["baseline updated: */sizes.json (2 image(s))"])


def test_a_usage_error_still_reaches_the_user_under_xdist(project: Project) -> None:
    (project.path / "empty").mkdir()
    result = project.run("empty", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*--rust-image: no Cargo.toml in empty; point pytest at a crate folder*"])


def test_two_runs_at_once_share_one_build(project: Project) -> None:
    project.fresh("twinhello")
    command = [sys.executable, "-m", "pytest", "--rust-image", "-p", "no:cacheprovider", "twinhello"]
    command += ["--rust-image-strategy=static", "--rust-image-require-engine", NO_CACHE]
    runs = [
        subprocess.Popen(
            [*command, f"--rust-image-report=run{n}.json"],
            cwd=project.path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
    builds = [_images(project.path / f"run{n}.json")[0]["build"] for n in (1, 2)]
    assert sorted(b["builds"] for b in builds) == [0, 1], builds
    # the other run waited for the build and took the image (or came after it ended)
    assert {b["origin"] for b in builds if b["reused"]} <= {"concurrent run", "earlier run"}, builds


def test_under_xdist_a_failing_build_is_tried_once_and_told_to_every_worker(project: Project) -> None:
    project.fresh("xdistbroken", main_rs="fn main() { let x: u8 = \"not a number\"; }\n")
    project.pytester.makepyfile(test_many=MANY.format(name="xdistbroken"))
    result = project.run("test_many.py", "-n", "2", "--rust-image-strategy=static")
    result.assert_outcomes(errors=6)
    output = result.stdout.str()
    assert output.count("mismatched types") >= 2  # the compiler's message reaches every failing test
    # one worker built and failed; the other was told, instead of building again
    result.stdout.fnmatch_lines(["*(in another worker of this run, which tried to build it first)*"])
