"""Layer cache reuse: a source-only edit keeps the dependency layer cached; the controls show why it matters."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.acceptance.project import Project, remove_reported_images

CACHE_ONLY = "--rust-image-checks=build,cache"


def _durations(lines: list[str], sample: str, engine: str) -> tuple[float, float]:
    for line in lines:
        match = re.match(rf"{sample}\s+chef\s+{engine}\s.*?reused, 0, (\d+\.\d)->(\d+\.\d)$", line)
        if match:
            return float(match.group(1)), float(match.group(2))
    raise AssertionError(f"no cache row for {sample} chef {engine}")


# the server sample's cache check on both engines (with the session's own build as the baseline) is the
# main job's (.ci/run), which CI runs too
@pytest.mark.parametrize("sample", ["workspace"])
def test_source_edit_keeps_dependencies_cached_on_both_engines(project: Project, sample: str) -> None:
    project.copy(sample)
    args = (sample, "--rust-image-strategy=chef", "--rust-image-engine=all", CACHE_ONLY, "--rust-image-cold-probe")
    # two more edit kinds on both engines (the docker-only test below runs all five)
    args += ("--rust-image-cache-edits=source,version",)
    result = project.run(*args, "-v")
    result.assert_outcomes(passed=4)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines(
            [
                f"cache edits of {sample} (chef-{engine}):",
                "  source   deps kept, 0 third-party and * own recompiled, rebuild *s: ok*",
                "  version  deps kept, 0 third-party and * own recompiled, rebuild *s: ok (own: ws-cli v0.1.*",
            ]
        )
    result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::cache[[]chef-docker[]] PASSED*"])
    result.stdout.fnmatch_lines([f"*{sample}/Cargo.toml::cache[[]chef-podman[]] PASSED*"])
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"{sample}*chef*{engine}*reused, 0, *->*"])  # deps, 3rd-party, seconds
        cold, rebuild = _durations(result.outlines, sample, engine)
        assert rebuild < cold, f"{engine}: the rebuild ({rebuild}s) was not faster than the cold build ({cold}s)"
    # the same inputs again: the verdicts are reported from the first run, nothing is built
    again = project.run(*args, "-v")
    again.assert_outcomes(passed=4)
    assert not [line for line in again.outlines if "building" in line or "build ended" in line], again.outlines
    for engine in ("docker", "podman"):
        for kind in ("source", "version"):
            again.stdout.fnmatch_lines(
                [
                    f"*cache probe for {sample} (chef-{engine}): inputs unchanged, "
                    f"reporting the verdict of 20* for the {kind} edit"
                ]
            )
        again.stdout.fnmatch_lines([f"{sample}*chef*{engine}*reused, 0, stored"])


DEPENDENCY_EDIT = """
import pytest

from pytest_rustimage.errors import BuildFailed, ConfigError


def add_a_dependency(root):
    manifest = root / "Cargo.toml"
    text = manifest.read_text().replace("[dependencies]\\n", '[dependencies]\\nitoa = "1"\\n')
    manifest.write_text(text + '\\n[package.metadata.probe]\\nstamp = "STAMP"\\n')  # no earlier build had it


def remove_nothing(root):
    pass


@pytest.mark.rust_image(crate="hello", strategy="chef", engine="all")
def test_dependency_edit_runs_cook_again(rust_image):
    report = rust_image.rebuild_after(add_a_dependency)
    # the cook step ran again and compiled the new dependency
    assert [step.cached_after for step in report.deps_steps] == [False], report.describe()
    assert [step.stage for step in report.deps_steps] == ["cook"]
    assert not report.deps_reused and not report.ok
    assert {crate.split()[0] for crate in report.third_party_recompiled} == {"itoa"}, report.describe()
    assert report.edit == "add_a_dependency"


@pytest.mark.rust_image(crate="hello", strategy="chef", engine="all")
def test_an_edit_that_breaks_the_build_fails_with_the_log(rust_image):
    with pytest.raises(BuildFailed) as failed:
        rust_image.rebuild_after(("src/main.rs", "fn main() { this is not rust } // STAMP\\n"))
    assert "the cache probe's build after the edit (rewrote src/main.rs) failed" in failed.value.reason
    assert "error" in failed.value.log and "--- last lines of the build log ---" in str(failed.value)


@pytest.mark.rust_image(crate="hello", strategy="chef", engine="all")
def test_no_edit_rebuilds_nothing(rust_image):
    report = rust_image.rebuild_after(remove_nothing)
    assert report.ok and report.deps_reused, report.describe()
    assert report.third_party_recompiled == ()


@pytest.mark.rust_image(crate="hello", strategy="chef", engine="all")
def test_a_rewritten_source_file_recompiles_only_the_crate(rust_image):
    text = 'fn main() { println!("hello 0.1.0"); } // STAMP\\n'  # never built before: no earlier cache
    report = rust_image.rebuild_after(("src/main.rs", text))
    assert report.ok, report.describe()
    assert report.own_recompiled == ("hello v0.1.0",) and report.third_party_recompiled == ()


@pytest.mark.rust_image(crate="hello", strategy="chef", engine="docker")
def test_an_edit_kind_by_name(rust_image):
    report = rust_image.rebuild_after(kind="version")
    assert report.ok and report.edit == "bumped hello's version in Cargo.toml and Cargo.lock", report.describe()
    assert [crate.startswith("hello v0.1.") and crate != "hello v0.1.0" for crate in report.own_recompiled] == [True]
    with pytest.raises(ConfigError, match="the library edit: not applicable: a single package"):
        rust_image.rebuild_after(kind="library")
"""


def test_dependency_edit_reruns_cook_and_custom_edits(project: Project) -> None:
    project.copy("hello")
    project.pytester.makepyfile(test_edits=DEPENDENCY_EDIT.replace("STAMP", uuid.uuid4().hex))
    result = project.run("test_edits.py", "-v")
    result.assert_outcomes(passed=9)


def test_naive_strategy_fails_the_cache_check_naming_the_crates(project: Project) -> None:
    project.copy("workspace")
    # a cold first build, so that its log shows the step that compiled the dependencies
    result = project.run("workspace", "--rust-image-strategy=naive", CACHE_ONLY, "--rust-image-cold-probe")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*workspace (naive-docker): the dependency layer does not stay cached across a source-only edit*",
            "*dependency layer rebuilt; recompiled 1 third-party and * own crate(s)*",
            "*third-party crates compiled again: itoa v1.*",
            "  by [[]build[]] RUN RUST_IMAGE_STEP=build && cargo build --release*",
            "- dependency step (1 third-party crate(s)): [[]build[]] RUN RUST_IMAGE_STEP=build*: ran again after*",
            "*the step that compiles the dependencies comes after `COPY app/ ./` in stage build*",
        ]
    )


def test_dummy_main_ships_the_placeholder_and_runs_catches_it(project: Project) -> None:
    project.copy("hello")
    result = project.run("hello", "--rust-image-strategy=dummy-main", "--rust-image-checks=build,runs")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*stdout does not contain 'hello 0.1.0'*", "--- stdout ---", "--- stderr ---"])
    # docs/cache.md: the placeholder prints nothing and exits 0
    shown = result.outlines
    at = shown.index("--- stdout ---")
    assert shown[at - 1] == "exit code: 0", shown[at - 3 : at + 4]
    assert shown[at + 1 : at + 3] == ["", "--- stderr ---"], shown[at - 3 : at + 4]
    assert shown[at + 3].strip() == "" or shown[at + 3].startswith(("_", "=")), shown[at - 3 : at + 4]


def test_dummy_main_does_not_build_a_workspace_while_chef_does(project: Project) -> None:
    project.copy("workspace")
    result = project.run("workspace", "--rust-image-strategy=dummy-main,chef", "--rust-image-checks=build,runs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    # the trick copies only the root manifest and src/: a virtual manifest has no src/ (and its members
    # are missing), so BuildKit refuses the build before cargo runs
    result.stdout.fnmatch_lines(["*workspace (dummy-main-docker) did not build*", '*"/app/src" not found*'])


def test_dummy_main_caches_a_single_package_but_ships_the_placeholder(project: Project) -> None:
    crate = project.copy("hello")
    manifest = crate / "Cargo.toml"  # one third-party dependency to cache (cargo vendor updates the lock)
    manifest.write_text(manifest.read_text().replace("[dependencies]\n", '[dependencies]\nitoa = "1"\n'))
    checks = ("--rust-image-checks=build,runs,cache", "--rust-image-cache-edits=source,non-rust,version")
    result = project.run("hello", "--rust-image-strategy=dummy-main", *checks)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*runs[[]dummy-main-docker[]]*", "*stdout does not contain 'hello 0.1.0'*"])
    # the edit matrix shows it for what it is: a source edit keeps the dependencies, README.md reaches no
    # step, and a version bump (Cargo.toml is copied before the dependency step) compiles them all again
    result.stdout.fnmatch_lines(
        [
            "*hello (dummy-main-docker): the dependency layer does not stay cached across a bump of the package's "
            "own version*",
            "hello*dummy-main*docker*reused, 0, *->*, FAILED version",
            "cache edits of hello (dummy-main-docker):",
            "  source   deps kept, 0 third-party and 1 own recompiled, rebuild *s: ok*",
            "  non-rust deps kept, 0 third-party and 0 own recompiled, rebuild *s: ok",
            "  version  deps REBUILT, 1 third-party and * own recompiled, rebuild *s: FAILED: *",
        ]
    )


# --- a crate's own Dockerfile that the context leaves out ---------------------------------------

OWN_DOCKERFILE = ("--rust-image-strategy=dockerfile", "--rust-image-engine=all", CACHE_ONLY, "--rust-image-rebuild")


def _probe_with_own_dockerfile(project: Project, place: str) -> pytest.RunResult:
    """``recipes`` (one third-party crate, vendored by the project's ini) with its chef recipe at
    ``place`` (relative to the crate's folder) and a ``.dockerignore`` that lists ``Dockerfile*``; the
    build and cache checks on both engines, the images reported removed after."""
    crate = project.copy("recipes")
    recipe = crate / place
    recipe.parent.mkdir(parents=True, exist_ok=True)
    # a stamp no earlier run's Dockerfile had: this run builds it
    recipe.write_text((crate / "Dockerfile.chef").read_text() + f"# {uuid.uuid4().hex}\n")
    (crate / ".dockerignore").write_text("target\nDockerfile*\n")
    project.set_metadata(crate, dockerfile=f'"{place}"')
    report = project.path / "report.json"
    try:
        return project.run("recipes", *OWN_DOCKERFILE, "-v", f"--rust-image-report={report}")
    finally:
        remove_reported_images(report)


@pytest.mark.parametrize("place", ["Dockerfile", "../docker/recipes.Dockerfile"], ids=["ignored", "outside"])
def test_the_probe_builds_with_the_images_own_dockerfile_wherever_it_lies(project: Project, place: str) -> None:
    """The engine reads the Dockerfile apart from the context: one that ``.dockerignore`` lists, or one
    outside the crate's folder, built the image, and the probe's rebuild must use the same file."""
    result = _probe_with_own_dockerfile(project, place)
    for engine in ("docker", "podman"):
        for check in ("build", "cache"):
            result.stdout.fnmatch_lines([f"*recipes/Cargo.toml::{check}[[]dockerfile-{engine}[]] PASSED*"])
        result.stdout.fnmatch_lines(
            [
                f"*cache probe for recipes (dockerfile-{engine}): appended a comment to src/main.rs: "
                "dependency layer reused; recompiled 0 third-party and 1 own crate(s)*"
            ]
        )
    result.assert_outcomes(passed=4)


MANIFESTS_FIRST = """ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${BUILDER_IMAGE} AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release --locked && rm -rf src
COPY src src
RUN touch src/main.rs && cargo build --release --locked
FROM ${RUNTIME_IMAGE}
COPY --from=builder /app/target/release/hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
"""


def test_the_probe_of_an_unvendored_context_builds_with_the_dockerfile_it_leaves_out(project: Project) -> None:
    """Without vendoring the probe's context is its copy of the crate's folder as the engine sends it (its
    ``.dockerignore`` applied by the engine): the Dockerfile is passed apart, as for the image."""
    crate = project.copy("hello")
    (crate / "Dockerfile").write_text(MANIFESTS_FIRST + f"# {uuid.uuid4().hex}\n")
    (crate / ".dockerignore").write_text("target\nDockerfile*\n")
    report = project.path / "report.json"
    try:
        result = project.run("hello", *OWN_DOCKERFILE, "-o", "rust_image_vendor=false", f"--rust-image-report={report}")
    finally:
        remove_reported_images(report)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines(
            [
                f"*cache probe for hello (dockerfile-{engine}): appended a comment to src/main.rs: "
                "dependency layer reused; recompiled 0 third-party and 1 own crate(s)*"
            ]
        )
    result.assert_outcomes(passed=4)


QUIET_NAIVE = """ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS builder
WORKDIR /app
COPY . .
RUN cargo build --release --locked -q

FROM ${RUNTIME_IMAGE}
COPY --from=builder /app/target/release/recipes /usr/local/bin/recipes
ENTRYPOINT ["/usr/local/bin/recipes"]
"""


def test_a_quiet_naive_dockerfile_fails_the_cache_check_as_inconclusive(project: Project) -> None:
    """``cargo build -q`` after ``COPY . .``: every edit compiles ``itoa`` again, and the log shows nothing
    of it. Neither a pass nor a skip: the check fails on both engines, naming the step and the fix."""
    crate = project.copy("recipes")  # one vendored dependency
    (crate / "Dockerfile.quiet").write_text(QUIET_NAIVE)
    project.set_metadata(crate, dockerfile='"Dockerfile.quiet"')
    report = project.path / "report.json"
    args = ("--rust-image-engine=all", "--rust-image-strategy=dockerfile", CACHE_ONLY, "-v")
    try:
        result = project.run("recipes", *args, f"--rust-image-report={report}")
    finally:
        records = remove_reported_images(report)
    result.assert_outcomes(passed=2, failed=2)
    for engine in ("docker", "podman"):
        result.stdout.fnmatch_lines([f"*recipes/Cargo.toml::cache[[]dockerfile-{engine}[]] FAILED*"])
        result.stdout.fnmatch_lines(
            [
                f"*recipes (dockerfile-{engine}): cannot tell whether the dependency layer stays cached across a "
                "source-only edit: cargo's output is hidden in [[]builder[]] RUN cargo build --release --locked -q",
                "*dependency layer not known (cargo's output hidden in 1 step(s) of the rebuild)*",
                "- cargo's output is hidden in [[]builder[]] RUN cargo build --release --locked -q "
                "(`-q` (cargo's quiet flag)): the log cannot show whether it compiled third-party crates again*",
                "- to let the check see what cargo compiled: drop -q/--quiet*",
            ]
        )
        result.stdout.fnmatch_lines([f"recipes*dockerfile*{engine}*HIDDEN, ?, *->*"])
    caches = {record["engine"]: record["cache"] for record in records}
    assert set(caches) == {"docker", "podman"}
    for cache in caches.values():
        assert cache["inconclusive"] is True and cache["ok"] is False
        assert [h["instruction"] for h in cache["hidden"] if h["build"] == "after"] == [
            "RUN cargo build --release --locked -q"
        ]


# --- why it rebuilt: the cook and the build ask for other features (git-cliff's Dockerfile) -------------

FEATURES_MANIFEST = """
serde_core = { version = "1", default-features = false }

[features]
default = ["std"]
std = ["serde_core/std"]
small = []
"""
# serde_core and its (optional) dependencies at the versions the server sample locks: vendored offline
FEATURES_LOCK = """# This file is automatically @generated by Cargo.
# It is not intended for manual editing.
version = 4

[[package]]
name = "itoa"
version = "1.0.19"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "3bd1574e617a9a6c1f8f8181bd7e841e1f20e4277607ef28945765188d6284d4"

[[package]]
name = "proc-macro2"
version = "1.0.107"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "985e7ec9bb745e6ce6535b544d84d6cd6f7ad8bd711c398938ae983b91a766d9"
dependencies = [
 "unicode-ident",
]

[[package]]
name = "quote"
version = "1.0.47"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "1fbf4db142a473a8d80c26bbf18454ed458bf8d26c8219c331daecfdbd079001"
dependencies = [
 "proc-macro2",
]

[[package]]
name = "recipes"
version = "0.1.0"
dependencies = [
 "itoa",
 "serde_core",
]

[[package]]
name = "serde_core"
version = "1.0.229"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "67dca2c9c51e58a4791a4b1ed58308b39c64224d349a935ab5039aa360942a48"
dependencies = [
 "serde_derive",
]

[[package]]
name = "serde_derive"
version = "1.0.229"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "e7a5d71263a5a7d47b41f6b3f06ba276f10cc18b0931f1799f710578e2309348"
dependencies = [
 "proc-macro2",
 "quote",
 "syn",
]

[[package]]
name = "syn"
version = "3.0.10"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "4ae9ccbea3a7b0b09443036490c8f34a8b1b760fd345e5c0dae0aac718faea79"
dependencies = [
 "proc-macro2",
 "quote",
 "unicode-ident",
]

[[package]]
name = "unicode-ident"
version = "1.0.27"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "a2c754d6c33795a1c324727428e5a7dedb5b06195f9890bdbcba760d3e246563"
"""
FEATURES_BUILD = "RUN cargo build --release --locked --no-default-features --features small"


def test_a_cook_with_other_features_than_the_build_fails_naming_them(project: Project) -> None:
    """git-cliff 2.13's fault on ``recipes``: the cook builds the default features (serde_core with
    ``std``), the build ``--no-default-features --features small`` (serde_core without): after a source
    edit the cook comes from cache and the build compiles serde_core again. The message names the
    features, not the order of ``COPY . .``, which is right."""
    crate = project.copy("recipes")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('itoa = "1"\n', 'itoa = "1"' + FEATURES_MANIFEST))
    (crate / "Cargo.lock").write_text(FEATURES_LOCK)
    chef = (crate / "Dockerfile.chef").read_text()
    assert "RUN cargo build --release --locked\n" in chef
    (crate / "Dockerfile.features").write_text(
        chef.replace("RUN cargo build --release --locked\n", FEATURES_BUILD + "\n")
    )
    project.set_metadata(crate, dockerfile='"Dockerfile.features"')
    report = project.path / "report.json"
    try:
        result = project.run("recipes", "--rust-image-strategy=dockerfile", CACHE_ONLY, f"--rust-image-report={report}")
    finally:
        remove_reported_images(report)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*recipes (dockerfile-docker): the dependency layer does not stay cached across a source-only edit*",
            "*third-party crates compiled again: serde_core v1.0.229*",
            f"  by [[]builder[]] {FEATURES_BUILD}",
            "- the dependency step [[]builder[]] RUN cargo chef cook --release --locked --recipe-path recipe.json came "
            f"from cache after the edit, yet [[]builder[]] {FEATURES_BUILD} compiled third-party crates again: the "
            "dependencies it compiled did not reach that step: features: the cook built with default features; "
            "`cargo build` uses --no-default-features --features small. cargo compiles a dependency once for each "
            "set of features*(cook with --no-default-features --features small)",
        ]
    )
    assert "comes after `COPY" not in result.stdout.str()


ALL_EDITS = "--rust-image-cache-edits=source,library,non-rust,version,member"


def test_the_edit_matrix_of_a_workspace_with_chef_passes_and_reports_the_new_member(project: Project) -> None:
    """One cache item runs all five edit kinds, each on its own copy; chef passes the four gated ones, and the
    new member (reported, not gated) rebuilds the dependency layer because the recipe changed."""
    project.copy("workspace")
    report = project.path / "matrix.json"
    args = ("workspace", "--rust-image-strategy=chef", CACHE_ONLY, ALL_EDITS, f"--rust-image-report={report}")
    result = project.run(*args, "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "cache edits of workspace (chef-docker):",
            "  source   deps kept, 0 third-party and * own recompiled, rebuild *s: ok (own: ws-cli v0.1.0*",
            "  library  deps kept, 0 third-party and * own recompiled, rebuild *s: ok (own: *ws-core v0.1.0*",
            "  non-rust deps kept, 0 third-party and * own recompiled, rebuild *s: ok*",
            "  version  deps kept, 0 third-party and * own recompiled, rebuild *s: ok (own: ws-cli v0.1.*",
            "  member   deps REBUILT, 1 third-party and * own recompiled, rebuild *s: reported, not gated*",
        ]
    )
    rows = {row["kind"]: row for row in json.loads(report.read_text())["images"][0]["cache"]["edits"]}
    assert list(rows) == ["source", "library", "non-rust", "version", "member"]
    assert all(row["ok"] and row["deps_reused"] for kind, row in rows.items() if kind != "member"), rows
    assert rows["member"]["third_party_recompiled"] == ["itoa v1.0.19"] and not rows["member"]["gated"]
    assert rows["version"]["edit"] == "bumped ws-cli's version in Cargo.toml and Cargo.lock"
    # README.md changes what chef's build stage copies: cargo runs again and builds the own crates afresh
    assert any("RUST_IMAGE_STEP=build" in step for step in rows["non-rust"]["rerun_steps"]), rows["non-rust"]
    # the same inputs again: each kind's verdict is reused, nothing is built
    again = project.run(*args)
    again.assert_outcomes(passed=2)
    assert not [line for line in again.outlines if "building" in line], again.outlines
    for kind in ("source", "library", "non-rust", "version", "member"):
        again.stdout.fnmatch_lines([f"*inputs unchanged, reporting the verdict of 20* for the {kind} edit"])
