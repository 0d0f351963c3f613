"""The background chapter's three recipes as a crate's own Dockerfiles (``sample_crates/recipes``), built
for real on Docker and on Podman with the ``dockerfile`` strategy in vendored mode (the project's ini:
build containers here cannot reach crates.io, so the context carries ``vendor/`` and ``.cargo/``).

One run per recipe, every check: the chef recipe keeps its dependencies cached; the naive one compiles
``itoa`` again after a source edit, and the failure names the step and why; the dummy ``main.rs`` trick
keeps them cached, but the image ships the placeholder, which ``runs`` catches. Each run removes the
images it reported; the cache probe removes its own.
"""

from __future__ import annotations

import re

import pytest

from tests.acceptance.project import Project, remove_reported_images

ENGINES = ("docker", "podman")
# one build per engine and the probe's rebuild: --rust-image-rebuild makes this run's build the baseline
ARGS = ("--rust-image-engine=all", "--rust-image-strategy=dockerfile", "--rust-image-rebuild", "-v")


def run_recipe(project: Project, recipe: str) -> pytest.RunResult:
    """``pytest --rust-image recipes`` on a copy whose ``dockerfile =`` picks ``Dockerfile.RECIPE``."""
    crate = project.copy("recipes")
    project.set_metadata(crate, dockerfile=f'"Dockerfile.{recipe}"')
    report = project.path / "report.json"
    try:
        return project.run("recipes", *ARGS, f"--rust-image-report={report}")  # run() requires the engines
    finally:
        remove_reported_images(report)


def line_of(item: str, outcome: str) -> str:
    """The fnmatch pattern of ``item``'s verbose result line (brackets escaped)."""
    escaped = "".join({"[": "[[]", "]": "[]]"}.get(char, char) for char in item)
    return f"*recipes/Cargo.toml::{escaped} {outcome}*"


def failure(result: pytest.RunResult, item: str) -> str:
    """The failure report of ``item`` (such as ``cache[dockerfile-docker]``): from its ``___ NAME ___``
    header to the next header or the short summary."""
    text = result.stdout.str()
    header = re.search(rf"^_+ .*{re.escape(item)} _+$", text, re.M)
    assert header, f"no failure report for {item}:\n{text}"
    end = re.compile(r"^(_+ .* _+|=+ .* =+)$", re.M).search(text, header.end())
    return text[header.end() : end.start() if end else len(text)]


def test_chef_recipe_builds_offline_and_keeps_the_dependencies_cached(project: Project) -> None:
    result = run_recipe(project, "chef")
    for engine in ENGINES:
        for check in ("build", "runs", "size", "linkage", "cache"):
            result.stdout.fnmatch_lines([line_of(f"{check}[dockerfile-{engine}]", "PASSED")])
        result.stdout.fnmatch_lines([f"*vendoring dependencies of recipes (dockerfile-{engine})*"])
    result.assert_outcomes(passed=11)  # five checks per engine and parity[dockerfile]


def test_naive_recipe_fails_the_cache_check_naming_itoa_and_the_step(project: Project) -> None:
    result = run_recipe(project, "naive")
    for engine in ENGINES:
        item = f"cache[dockerfile-{engine}]"
        result.stdout.fnmatch_lines([line_of(item, "FAILED")])
        result.stdout.fnmatch_lines([line_of(f"runs[dockerfile-{engine}]", "PASSED")])
        lines = failure(result, item).splitlines()
        assert [line for line in lines if "third-party crates compiled again" in line and "itoa" in line], lines
        assert [line for line in lines if "RUN cargo build" in line], lines
        assert [line for line in lines if "the step that compiles the dependencies comes after `COPY . .`" in line]
    result.assert_outcomes(passed=9, failed=2)


def test_dummy_recipe_keeps_the_dependencies_cached_but_ships_the_placeholder(project: Project) -> None:
    result = run_recipe(project, "dummy")
    for engine in ENGINES:
        result.stdout.fnmatch_lines([line_of(f"cache[dockerfile-{engine}]", "PASSED")])
        item = f"runs[dockerfile-{engine}]"
        result.stdout.fnmatch_lines([line_of(item, "FAILED")])
        assert "stdout does not contain 'recipes 0.1.0'" in failure(result, item)
    result.assert_outcomes(passed=9, failed=2)
