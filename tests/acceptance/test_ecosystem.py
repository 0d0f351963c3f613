"""Fitting the ecosystem on real engines: every binary of a workspace in one run, and a registry-less
machine's failed pull explained (testcontainers: test_engines.py, beside the other service tests)."""

from __future__ import annotations

from tests.acceptance.project import Project


def test_every_binary_of_a_workspace_in_one_run(project: Project) -> None:
    project.copy("workspace")
    args = ("--rust-image-strategy=static", "--rust-image-engine=all", "--rust-image-checks=build,linkage,parity")
    result = project.run("workspace", "--rust-image-bin=*", *args, "-v")
    result.assert_outcomes(passed=10)  # 2 binaries x 2 engines x (build, linkage), parity per binary
    for binary in ("wsctl", "ws-daemon"):
        for engine in ("docker", "podman"):
            result.stdout.fnmatch_lines([f"*::build[[]static-{engine}-{binary}[]] PASSED*"])
        result.stdout.fnmatch_lines([f"*::parity[[]static-{binary}[]] PASSED*"])
        result.stdout.fnmatch_lines([f"workspace:{binary}*static*docker*", f"image *(static-podman-{binary})"])


def test_a_bin_list_naming_an_unknown_binary_lists_the_known_ones(project: Project) -> None:
    project.copy("workspace")
    result = project.run("workspace", "--rust-image-bin=wsctl,nope", "--rust-image-checks=build")
    result.stdout.fnmatch_lines(["*no binary named 'nope'; the binaries are: *wsctl (package ws-cli)*"])
    assert result.ret != 0


def test_no_registry_says_which_image_and_what_to_do_on_both_engines(project: Project) -> None:
    project.copy("hello")
    official = ("-o", "rust_image_builder=rust:1-bookworm", "-o", "rust_image_runtime=debian:bookworm-slim")
    result = project.run(
        "hello", *official, "--rust-image-strategy=chef", "--rust-image-engine=all", "--rust-image-checks=build"
    )
    result.assert_outcomes(failed=2)
    advice = (
        "Without a registry, make local base images with `python -m pytest_rustimage bases` and use them with "
        "`rust_image_bases = local` (or --rust-image-bases=local); or set rust_image_builder and "
        "rust_image_runtime to a mirror's images"
    )
    result.stdout.fnmatch_lines(
        [
            "hello (chef-docker) did not build: could not pull the base image docker.io/library/*:*: the registry's "
            f"name does not resolve (no DNS, no network or no registry here). {advice}",
        ]
    )
    result.stdout.fnmatch_lines(["hello (chef-podman) did not build: could not pull the base image *: *. " + advice])
    # the log tail follows the advice
    result.stdout.fnmatch_lines(["*--- last lines of the build log ---*"])


def test_local_bases_by_one_key(project: Project) -> None:
    project.copy("hello")
    (project.path / "pytest.ini").write_text("[pytest]\nrust_image_bases = local\nrust_image_vendor = true\n")
    result = project.run("hello", "--rust-image-strategy=static", "--rust-image-checks=build", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*bases=local*builder_image=pytest-rustimage/builder:bookworm*"])
