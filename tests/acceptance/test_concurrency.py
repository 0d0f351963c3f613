"""One build per image per run: across xdist workers, and between two runs at the same time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.project import NO_CACHE, Project
from tests.acceptance.test_interrupts import Session  # a run whose output is read as it comes
from tests.report_schema import validate_report

MANY = """
import pytest

@pytest.mark.rust_image(crate="{name}")
@pytest.mark.parametrize("n", range(6))
def test_runs(rust_image, n):
    assert rust_image.run("--version").stdout.strip() == "hello 0.1.0"
"""


def _images(report: Path) -> list[dict]:  # type: ignore[type-arg]
    return list(validate_report(report)["images"])


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


# a build script that makes the crate's build last: the second run starts well within it
SLOW_BUILD_RS = """\
fn main() {
    std::thread::sleep(std::time::Duration::from_secs(25));
}
"""


def test_two_runs_at_once_share_one_build(project: Project) -> None:
    crate = project.fresh("twinhello")
    (crate / "build.rs").write_text(SLOW_BUILD_RS)
    args = ["twinhello", "--rust-image-strategy=static", "--rust-image-require-engine", NO_CACHE]
    first = Session(project.path, *args, "--rust-image-report=run1.json")
    runs = [first]
    try:
        # the second run starts only once the first holds the build lock and builds
        first.wait_for("rust-image: building twinhello (static-docker)")
        second = Session(project.path, *args, "--rust-image-report=run2.json")
        runs.append(second)
        second.wait_for("rust-image: another process is building twinhello (static-docker)", timeout=600)
        results = [run.finish(timeout=900) for run in runs]
    finally:
        for run in runs:
            if run.proc.poll() is None:
                run.interrupt()
                run.finish()
    for code, output in results:
        assert code == 0, output
    builds = [_images(project.path / f"run{n}.json")[0]["build"] for n in (1, 2)]
    assert [b["builds"] for b in builds] == [1, 0], builds
    assert (builds[0]["reused"], builds[1]["reused"]) == (False, True), builds
    # the second run waited for the first's build and took its image
    assert builds[1]["origin"] == "concurrent run", builds
    assert "built by a concurrent run" in results[1][1], results[1][1]
    assert "rust-image: building twinhello" not in results[1][1], results[1][1]


def test_under_xdist_a_failing_build_is_tried_once_and_told_to_every_worker(project: Project) -> None:
    project.fresh("xdistbroken", main_rs='fn main() { let x: u8 = "not a number"; }\n')
    project.pytester.makepyfile(test_many=MANY.format(name="xdistbroken"))
    result = project.run("test_many.py", "-n", "2", "--rust-image-strategy=static")
    result.assert_outcomes(errors=6)
    output = result.stdout.str()
    assert output.count("mismatched types") >= 2  # the compiler's message reaches every failing test
    # one worker built and failed; the other was told, instead of building again
    result.stdout.fnmatch_lines(["*(in another worker of this run, which tried to build it first)*"])
