"""docs/ci.md read as the CI services read it (tests/ci_doc.py), without running anything: the real
run is tests/acceptance/test_ci_doc.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_rustimage.plugin import options
from tests import ci_doc

VALUES = {"runner.temp": "/tmp/runner", "github.run_id": "7", "github.ref_name": "main", "github.token": "t"}


def every_script() -> list[ci_doc.Script]:
    github, gitlab = ci_doc.page()
    scripts = [s for job in github["jobs"] for s in ci_doc.github_scripts(github, job, VALUES)]
    jobs = [job for job in gitlab if not job.startswith(".") and job != "variables"]
    return scripts + [s for job in jobs for s in ci_doc.gitlab_scripts(gitlab, job)]


def test_the_page_has_both_services_and_every_stand_in_is_still_needed() -> None:
    github, gitlab = ci_doc.page()
    assert set(github["jobs"]) == {"image", "baseline"}
    assert {job for job in gitlab if not job.startswith(".")} == {"variables", "rust-image-docker", "rust-image-podman"}
    used: set[str] = set()
    ci_doc.stand_in(every_script(), used)
    assert used == set(ci_doc.STANDS_IN), f"stand-ins the page no longer needs: {set(ci_doc.STANDS_IN) - used}"


def test_every_rust_image_flag_on_the_page_is_one_the_plugin_has() -> None:
    known = set(re.findall(r'"(--rust-image[a-z-]*)"', Path(options.__file__).read_text()))
    assert "--rust-image-sbom" in known
    flags = {flag for s in every_script() for flag in re.findall(r"--rust-image[a-z-]*", s.text)}
    assert flags and flags <= known, f"unknown flags in docs/ci.md: {flags - known}"


def test_gitlab_scripts_join_the_template_and_keep_after_script_apart() -> None:
    _, gitlab = ci_doc.page()
    main, after = ci_doc.gitlab_scripts(gitlab, "rust-image-docker")
    assert main.text.splitlines()[0].startswith("if [ -d .rust-image-cache ]") and "pytest --rust-image" in main.text
    assert after.always and not main.always and "mv" in after.text
    assert main.env["DOCKER_HOST"] == "tcp://docker:2375" and main.env["RUST_IMAGE_CACHE_DIR"]


def test_an_expression_without_a_value_here_is_refused() -> None:
    assert ci_doc.expand("a ${{ runner.temp }}/b", VALUES) == "a /tmp/runner/b"
    with pytest.raises(AssertionError, match=r"secrets\.PAT"):
        ci_doc.expand("${{ secrets.PAT }}", VALUES)


def test_yaml_blocks_are_the_fenced_yaml_ones_only() -> None:
    text = "```yaml\na: 1\n```\n\n```bash\nb: 2\n```\n```yaml\nc: [3]\n```\n"
    assert ci_doc.yaml_blocks(text) == [{"a": 1}, {"c": [3]}]
