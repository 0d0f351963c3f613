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


def run_recipe(project: Project, recipe: str, *extra: str, again: bool = False) -> list[pytest.RunResult]:
    """``pytest --rust-image recipes`` on a copy whose ``dockerfile =`` picks ``Dockerfile.RECIPE``;
    ``again``: then once more with the same inputs (no rebuild asked). The results, in order."""
    crate = project.copy("recipes")
    project.set_metadata(crate, dockerfile=f'"Dockerfile.{recipe}"')
    report = project.path / "report.json"
    try:
        results = [project.run("recipes", *ARGS, *extra, f"--rust-image-report={report}")]  # run() requires the engines
        if again:
            results.append(project.run("recipes", *ARGS[:-2], "-v", f"--rust-image-report={report}"))
        return results
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
    result, again = run_recipe(project, "chef", again=True)
    for engine in ENGINES:
        for check in ("build", "runs", "size", "linkage", "cache"):
            result.stdout.fnmatch_lines([line_of(f"{check}[dockerfile-{engine}]", "PASSED")])
        result.stdout.fnmatch_lines([f"*vendoring dependencies of recipes (dockerfile-{engine})*"])
        result.stdout.fnmatch_lines(
            [
                f"*cache probe for recipes (dockerfile-{engine}): appended a comment to src/main.rs: "
                "dependency layer reused; recompiled 0 third-party and 1 own crate(s); first build *"
            ]
        )
    result.assert_outcomes(passed=13)  # six checks per engine and parity[dockerfile]
    # the same inputs again: the vendored copy digests as before, the images and the verdicts are reused
    again.assert_outcomes(passed=13)
    assert not [line for line in again.outlines if "building" in line or "vendoring" in line], again.outlines
    for engine in ENGINES:
        reused = f"*reusing pytest-rustimage/recipes:dockerfile-* (dockerfile-{engine}) (inputs unchanged)*"
        again.stdout.fnmatch_lines([reused])
        again.stdout.fnmatch_lines(
            [f"*cache probe for recipes (dockerfile-{engine}): inputs unchanged, reporting the verdict of 20*"]
        )


BINARY_COPIED_IN = """ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${RUNTIME_IMAGE}
COPY target/release/recipes /usr/local/bin/recipes
ENTRYPOINT ["/usr/local/bin/recipes"]
"""


def test_a_dockerfile_that_compiles_no_rust_gets_the_cache_check_skipped(project: Project) -> None:
    """Without vendoring the context is the crate's folder as the engine sends it, target/ included: the
    probe's copy is the same, so its rebuild works and shows that no step compiles Rust."""
    crate = project.copy("recipes")
    (crate / "Dockerfile.prebuilt").write_text(BINARY_COPIED_IN)
    (crate / "target" / "release").mkdir(parents=True)
    (crate / "target" / "release" / "recipes").write_text("#!/bin/sh\necho recipes 0.1.0\n")
    (crate / "target" / "release" / "recipes").chmod(0o755)
    project.set_metadata(crate, dockerfile='"Dockerfile.prebuilt"')
    (project.path / "pytest.ini").write_text((project.path / "pytest.ini").read_text().replace(
        "rust_image_vendor = true", "rust_image_vendor = false"))  # fmt: skip
    report = project.path / "report.json"
    try:
        result = project.run(
            "recipes", "--rust-image-strategy=dockerfile", "--rust-image-checks=build,cache",
            f"--rust-image-report={report}", "-rs",
        )  # fmt: skip
    finally:
        remove_reported_images(report)
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*nothing to prove: source: no step of the build compiled Rust*"])


NAIVE_FAILS = {
    "source": "a source-only edit",
    "non-rust": "an edit of a file no Rust code reads",
    "version": "a bump of the package's own version",
}


def test_naive_recipe_fails_the_cache_check_naming_itoa_and_the_step(project: Project) -> None:
    """The chapter's naive recipe over the edit matrix: it fails every gated kind that applies (library
    does not: one package), each failure naming the step that ran again and why."""
    (result,) = run_recipe(project, "naive", "--rust-image-cache-edits=source,library,non-rust,version")
    for engine in ENGINES:
        item = f"cache[dockerfile-{engine}]"
        result.stdout.fnmatch_lines([line_of(item, "FAILED")])
        result.stdout.fnmatch_lines([line_of(f"runs[dockerfile-{engine}]", "PASSED")])
        text = failure(result, item)
        lines = text.splitlines()
        assert [line for line in lines if "third-party crates compiled again" in line and "itoa" in line], lines
        assert [line for line in lines if "RUN cargo build" in line], lines
        assert [line for line in lines if "the step that compiles the dependencies comes after `COPY . .`" in line]
        for kind, what in NAIVE_FAILS.items():
            head = f"recipes (dockerfile-{engine}): the dependency layer does not stay cached across {what}"
            assert head in text and f"- the {kind} edit: " in text, (kind, text)
        assert "  library: not applicable: a single package, not a workspace: there is no member to edit" in lines
        result.stdout.fnmatch_lines(
            [
                f"cache edits of recipes (dockerfile-{engine}):",
                "  source   deps REBUILT, 1 third-party and 1 own recompiled, rebuild *s: FAILED: *",
                "  library  not applicable: a single package, not a workspace: there is no member to edit",
                "  non-rust deps REBUILT, 1 third-party and 1 own recompiled, rebuild *s: FAILED: *",
                "  version  deps REBUILT, 1 third-party and 1 own recompiled, rebuild *s: FAILED: *",
            ]
        )
    result.assert_outcomes(passed=11, failed=2)


def test_dummy_recipe_keeps_the_dependencies_cached_but_ships_the_placeholder(project: Project) -> None:
    (result,) = run_recipe(project, "dummy")
    for engine in ENGINES:
        result.stdout.fnmatch_lines([line_of(f"cache[dockerfile-{engine}]", "PASSED")])
        item = f"runs[dockerfile-{engine}]"
        result.stdout.fnmatch_lines([line_of(item, "FAILED")])
        assert "stdout does not contain 'recipes 0.1.0'" in failure(result, item)
    result.assert_outcomes(passed=11, failed=2)
